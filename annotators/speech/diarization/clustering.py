"""Agglomerative clustering of speaker embeddings (cosine / centroid), then a constrained assignment that
never gives two local speakers of one chunk the same global speaker."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClusterResult:
    labels: np.ndarray  # (n,) cluster index per embedding, -1 = unassigned
    centroids: np.ndarray  # (k, dim) unit-norm


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def agglomerate(embeddings: np.ndarray, threshold: float, num_clusters: int | None) -> np.ndarray:
    """Centroid-linkage clustering on unit vectors. Stops at cosine distance `threshold` between cluster
    centroids, or at exactly `num_clusters` clusters when given. Returns labels 0..k-1."""
    from scipy.cluster.hierarchy import fcluster, linkage

    n = len(embeddings)
    if n == 1:
        return np.zeros(1, dtype=int)
    tree = linkage(_unit(embeddings), method="centroid", metric="euclidean")
    if num_clusters is not None:
        labels = fcluster(tree, t=min(num_clusters, n), criterion="maxclust")
    else:
        # on unit vectors, euclidean distance d and cosine distance c relate as d = sqrt(2 c)
        labels = fcluster(tree, t=np.sqrt(2 * threshold), criterion="distance")
    return np.unique(labels, return_inverse=True)[1]


def centroids_of(embeddings: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    k = int(labels.max()) + 1
    sums = np.zeros((k, embeddings.shape[1]))
    np.add.at(sums, labels, embeddings * weights[:, None])
    return _unit(sums)


def drop_small_clusters(labels: np.ndarray, weights: np.ndarray, min_weight: float, keep_at_least: int) -> np.ndarray:
    """Clusters whose total weight (speech seconds) is below `min_weight` are marked -1 (later reassigned
    to the nearest kept centroid); the `keep_at_least` heaviest clusters always stay."""
    totals = np.bincount(labels, weights=weights)
    order = np.argsort(-totals)
    keep = [c for rank, c in enumerate(order) if totals[c] >= min_weight or rank < keep_at_least]
    remap = np.full(len(totals), -1)
    remap[sorted(keep)] = np.arange(len(keep))
    return remap[labels]


def assign_with_constraints(embeddings: np.ndarray, groups: np.ndarray, centroids: np.ndarray,
                            min_similarity: float) -> np.ndarray:
    """Each embedding -> nearest centroid, except that embeddings sharing a group (one chunk) get distinct
    centroids while enough exist (Hungarian assignment on cosine similarity). Below `min_similarity` to
    its centroid an embedding is left out (-1): music or noise taken for speech embeds far from voices."""
    from scipy.optimize import linear_sum_assignment

    sims = _unit(embeddings) @ centroids.T
    labels = sims.argmax(axis=1)
    for g in np.unique(groups):
        members = np.flatnonzero(groups == g)
        if len(members) > 1:
            rows, cols = linear_sum_assignment(-sims[members])
            labels[members[rows]] = cols
    chosen = sims[np.arange(len(labels)), labels]
    return np.where(chosen >= min_similarity, labels, -1)
