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


def agglomerate(embeddings: np.ndarray, threshold: float, num_clusters: int | None,
                groups: np.ndarray | None = None) -> np.ndarray:
    """Centroid-linkage agglomerative clustering of unit vectors with cannot-link constraints: two
    clusters holding members of one group (local speakers of one chunk, which the segmentation model
    already told apart) never merge. Stops when the closest mergeable centroids are farther than cosine
    distance `threshold`, or, when `num_clusters` is given, at exactly that many clusters (constraints are
    relaxed only if needed to get there). Returns labels 0..k-1."""
    x = _unit(np.asarray(embeddings, dtype=np.float64))
    n = len(x)
    groups = np.arange(n) if groups is None else np.asarray(groups)
    sums, counts = x.copy(), np.ones(n)
    conflict = (groups[:, None] == groups[None, :]) & ~np.eye(n, dtype=bool)
    dist = np.sqrt(np.maximum(2 - 2 * x @ x.T, 0))
    np.fill_diagonal(dist, np.inf)
    active = np.ones(n, dtype=bool)
    owner = np.arange(n)
    max_dist = np.sqrt(2 * threshold)  # on unit vectors, euclidean d and cosine distance c: d = sqrt(2 c)
    while active.sum() > (num_clusters or 1):
        i, j, d = _closest(dist, conflict, relax=num_clusters is not None)
        if i < 0 or (num_clusters is None and d > max_dist):
            break
        sums[i] += sums[j]
        counts[i] += counts[j]
        conflict[i] |= conflict[j]
        conflict[:, i] = conflict[i]
        active[j] = False
        owner[owner == j] = i
        dist[j, :] = dist[:, j] = np.inf
        centre = sums[i] / counts[i]
        row = np.linalg.norm(sums / counts[:, None] - centre, axis=1)
        row[~active] = np.inf
        row[i] = np.inf
        dist[i, :] = dist[:, i] = row
    return np.unique(owner, return_inverse=True)[1]


def _closest(dist: np.ndarray, conflict: np.ndarray, relax: bool) -> tuple[int, int, float]:
    allowed = np.where(conflict, np.inf, dist)
    flat = int(np.argmin(allowed))
    if np.isinf(allowed.flat[flat]):
        if not relax:
            return -1, -1, np.inf
        allowed = dist
        flat = int(np.argmin(allowed))
        if np.isinf(allowed.flat[flat]):
            return -1, -1, np.inf
    i, j = divmod(flat, dist.shape[1])
    return i, j, float(allowed[i, j])


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
