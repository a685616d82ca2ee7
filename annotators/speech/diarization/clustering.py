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
                groups: np.ndarray | None = None, max_conflict_ratio: float = 0.0) -> np.ndarray:
    """Centroid-linkage agglomerative clustering of unit vectors with cannot-link constraints: members of
    one group (local speakers of one chunk, which the segmentation model already told apart) are kept
    apart. Two clusters may merge only if their conflicting member pairs are at most `max_conflict_ratio`
    times the smaller cluster's size, so that a rare segmentation slip (one voice split in one chunk) cannot
    keep two large clusters of one speaker apart. Stops when the closest mergeable centroids are farther
    than cosine distance `threshold`, or, when `num_clusters` is given, at exactly that many clusters
    (constraints are relaxed only if needed to get there). Returns labels 0..k-1."""
    state = _Agglomeration(_unit(np.asarray(embeddings, dtype=np.float64)), groups, max_conflict_ratio)
    max_dist = np.sqrt(2 * threshold)  # on unit vectors, euclidean d and cosine distance c: d = sqrt(2 c)
    while state.active.sum() > (num_clusters or 1):
        i, j, d = state.closest(relax=num_clusters is not None)
        if i < 0 or (num_clusters is None and d > max_dist):
            break
        state.merge(i, j)
    return np.unique(state.owner, return_inverse=True)[1]


class _Agglomeration:
    """Cluster sums, cannot-link matrix and the mergeable-distance matrix with cached row minima, so a
    merge costs O(n) instead of a full O(n^2) search (n ~ 1000 local speakers per hour of speech)."""

    def __init__(self, x: np.ndarray, groups: np.ndarray | None, max_conflict_ratio: float):
        n = len(x)
        groups = np.arange(n) if groups is None else np.asarray(groups)
        self.ratio = max_conflict_ratio
        self.sums, self.counts = x.copy(), np.ones(n)
        self.active = np.ones(n, dtype=bool)
        self.owner = np.arange(n)
        self.conflict = ((groups[:, None] == groups[None, :]) & ~np.eye(n, dtype=bool)).astype(np.float64)
        self.dist = np.sqrt(np.maximum(2 - 2 * x @ x.T, 0))
        np.fill_diagonal(self.dist, np.inf)
        self.cost = np.where(self.conflict > self.ratio, np.inf, self.dist)
        self.row_arg = np.argmin(self.cost, axis=1)
        self.row_min = self.cost[np.arange(n), self.row_arg]

    def closest(self, relax: bool) -> tuple[int, int, float]:
        i = int(np.argmin(self.row_min))
        if np.isfinite(self.row_min[i]):
            return i, int(self.row_arg[i]), float(self.row_min[i])
        if not relax:
            return -1, -1, np.inf
        flat = int(np.argmin(self.dist))
        i, j = divmod(flat, self.dist.shape[1])
        return (i, j, float(self.dist[i, j])) if np.isfinite(self.dist[i, j]) else (-1, -1, np.inf)

    def merge(self, i: int, j: int) -> None:
        self.sums[i] += self.sums[j]
        self.counts[i] += self.counts[j]
        self.conflict[i] += self.conflict[j]
        self.conflict[:, i] = self.conflict[i]
        self.active[j] = False
        self.owner[self.owner == j] = i
        live = np.flatnonzero(self.active)
        row = np.full(len(self.active), np.inf)
        row[live] = np.linalg.norm(self.sums[live] / self.counts[live, None] - self.sums[i] / self.counts[i], axis=1)
        row[~self.active] = np.inf
        row[i] = np.inf
        for matrix in (self.dist, self.cost):
            matrix[j, :] = matrix[:, j] = np.inf
        self.dist[i, :] = self.dist[:, i] = row
        blocked = self.conflict[i] > self.ratio * np.minimum(self.counts, self.counts[i])
        self.cost[i, :] = self.cost[:, i] = np.where(blocked, np.inf, row)
        stale = (self.row_arg == i) | (self.row_arg == j)
        stale[i] = stale[j] = True
        rows = np.flatnonzero(stale)
        self.row_arg[rows] = np.argmin(self.cost[rows], axis=1)
        self.row_min[rows] = self.cost[rows, self.row_arg[rows]]
        better = self.cost[:, i] < self.row_min
        self.row_arg[better], self.row_min[better] = i, self.cost[better, i]


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
