"""What the metrics need to know about the pool's geometry, from one blocked pass over all pairs, and
each subset's distance from the pool (coverage), computed along a pick order in blocks of picks.

Memory stays O(ROWS_PER_BLOCK * N) whatever N is (30,000 items: about 30 MB a block); time is the
N^2 D of the pass (the kNN needs it anyway), and N B D per pick order for coverage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

ROWS_PER_BLOCK = 256
R_NEIGHBOUR = 5
ISOLATION_NEIGHBOURS = 10
SPARSE_FRACTION = 0.05
DUPLICATE_PERCENTILE = 5.0


@dataclass(frozen=True)
class PoolGeometry:
    """neighbour_distances: (N, K) each item's distances to its K nearest other items, increasing
    (an exact duplicate is a neighbour at distance 0); similarity_sums: (N,) sum over the pool
    (itself included) of max(cos, 0), facility location's gain of each item as its first pick;
    r: the median distance to the R_NEIGHBOUR-th nearest neighbour; duplicate_distance: the
    DUPLICATE_PERCENTILE-th percentile of the nearest-neighbour distance; sparse: (N,) bool, the
    SPARSE_FRACTION of items (rounded up) with the largest mean distance to their K neighbours."""

    neighbour_distances: np.ndarray
    similarity_sums: np.ndarray
    r: float
    duplicate_distance: float
    sparse: np.ndarray


def pool_geometry(
    unit: np.ndarray,
    *,
    r_neighbour: int = R_NEIGHBOUR,
    isolation_neighbours: int = ISOLATION_NEIGHBOURS,
    sparse_fraction: float = SPARSE_FRACTION,
    duplicate_percentile: float = DUPLICATE_PERCENTILE,
) -> PoolGeometry:
    """The geometry of a pool of (N, D) unit float32 embeddings; N must exceed both neighbour counts.
    Items are excluded from their own neighbours by index, so duplicates count (at distance 0)."""
    n = unit.shape[0]
    k = max(r_neighbour, isolation_neighbours)
    if min(r_neighbour, isolation_neighbours) < 1:
        raise ValueError(f"neighbour counts must be >= 1, got {r_neighbour} and {isolation_neighbours}")
    if n <= k:
        raise ValueError(f"the pool needs more than {k} items for its neighbour statistics, got {n}")
    neighbours = np.empty((n, k), dtype=np.float32)
    sums = np.empty(n, dtype=np.float64)
    for lo in range(0, n, ROWS_PER_BLOCK):
        hi = min(lo + ROWS_PER_BLOCK, n)
        sims = unit[lo:hi] @ unit.T
        sums[lo:hi] = np.maximum(sims, 0.0).sum(axis=1, dtype=np.float64)
        dist = np.clip(1.0 - sims, 0.0, 2.0)
        dist[np.arange(hi - lo), np.arange(lo, hi)] = np.inf
        neighbours[lo:hi] = np.sort(np.partition(dist, k - 1, axis=1)[:, :k], axis=1)
    isolation = neighbours[:, :isolation_neighbours].mean(axis=1)
    n_sparse = int(np.ceil(sparse_fraction * n))
    sparse = np.zeros(n, dtype=bool)
    sparse[np.argsort(-isolation, kind="stable")[:n_sparse]] = True
    return PoolGeometry(
        neighbour_distances=neighbours[:, :isolation_neighbours],
        similarity_sums=sums,
        r=float(np.median(neighbours[:, r_neighbour - 1])),
        duplicate_distance=float(np.percentile(neighbours[:, 0], duplicate_percentile)),
        sparse=sparse,
    )


def coverage_distances(unit: np.ndarray, order: np.ndarray, budgets: Sequence[int]) -> np.ndarray:
    """(len(budgets), N) float32: each pool item's distance to the nearest of the first b picks of
    ``order``, for each b in the increasing ``budgets`` (b <= len(order)). One pass along the order."""
    n = unit.shape[0]
    out = np.empty((len(budgets), n), dtype=np.float32)
    nearest = np.full(n, np.inf, dtype=np.float32)
    row = 0
    for lo in range(0, budgets[-1], ROWS_PER_BLOCK):
        hi = min(lo + ROWS_PER_BLOCK, budgets[-1])
        dist = np.clip(1.0 - unit @ unit[order[lo:hi]].T, 0.0, 2.0)
        np.minimum(dist[:, 0], nearest, out=dist[:, 0])
        running = np.minimum.accumulate(dist, axis=1)
        while row < len(budgets) and budgets[row] <= hi:
            out[row] = running[:, budgets[row] - 1 - lo]
            row += 1
        nearest = running[:, -1]
    return out
