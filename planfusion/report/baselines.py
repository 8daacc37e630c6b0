"""The baselines NovelSelect is judged against, each a pick order over the pool (a greedy order's
first b picks are its selection at budget b, so one run serves every smaller budget):

- uniform random: the first b of a random permutation, one per seed;
- k-center greedy (farthest point): each pick is the item farthest from its nearest pick so far,
  which greedily minimises the largest distance to S (coverage p95 is its objective's proxy);
- facility location: each pick adds the most to sum over the pool of max_{s in S} max(cos(x, s), 0),
  the coverage-optimal reference: while every item has a pick with cos >= 0, that sum is
  N (1 - coverage mean), so it greedily minimises the mean distance to S.

Costs, for N items of dimension D and B picks: k-center O(N B D), one distance column per pick.
Facility location is lazy greedy (Minoux): gains only shrink as S grows (submodularity), so a stale
gain is an upper bound and only candidates whose bound beats the best fresh gain are re-evaluated,
in doubling batches. A re-evaluation costs O(N D) the first time (a row of the similarity matrix)
and O(N) after, while the row stays cached (CACHE_BYTES: the whole matrix up to N = 8,192; beyond,
the rows of the least promising candidates go first).
"""

from __future__ import annotations

import numpy as np

from planfusion.novelsum import kernels

FIRST_BATCH = 4  # candidates re-evaluated together in a step's first round (doubling after)
CACHE_BYTES = 256 << 20  # similarity rows kept for re-evaluation: every row up to N = 8,192
GAIN_CHUNK = 256  # candidates whose similarity rows are held at once
MISS_BATCH = 64  # a round that computes rows computes at least this many (a pass over the pool costs the same)


def random_orders(n_pool: int, budget: int, n_seeds: int, random_state: int | np.random.Generator = 0) -> np.ndarray:
    """(n_seeds, budget) int64: the first ``budget`` items of n_seeds independent permutations of the
    pool, drawn one after the other from one generator seeded by random_state."""
    if n_seeds < 1:
        raise ValueError(f"n_seeds must be >= 1, got {n_seeds}")
    rng = np.random.default_rng(random_state)
    return np.stack([rng.permutation(n_pool)[:budget] for _ in range(n_seeds)]).astype(np.int64)


def k_center_greedy(unit: np.ndarray, budget: int, *, first: int) -> np.ndarray:
    """(budget,) pick order of farthest-point greedy over the (N, D) unit float32 embeddings,
    starting at index ``first``; ties go to the lowest index. The distance columns come from the
    project's compiled pass on one thread (no BLAS threads spinning on a matrix-vector product)."""
    order = np.empty(budget, dtype=np.int64)
    order[0] = first
    nearest = kernels.cosine_distances(unit, first, np.empty(unit.shape[0], dtype=np.float32), threads=1)
    nearest[first] = -np.inf
    column = np.empty_like(nearest)
    for step in range(1, budget):
        j = int(np.argmax(nearest))
        order[step] = j
        np.minimum(nearest, kernels.cosine_distances(unit, j, column, threads=1), out=nearest)
        nearest[j] = -np.inf
    return order


def facility_location_greedy(unit: np.ndarray, budget: int, *, first_gains: np.ndarray) -> np.ndarray:
    """(budget,) pick order of exact greedy facility location over the (N, D) unit float32 embeddings
    with similarity max(cos, 0). first_gains: (N,) each item's gain on the empty set, the pool sum of
    its similarities (PoolGeometry.similarity_sums). Gains are summed in float64 from float32
    similarities; equal gains go to the lowest index. Exact as NovelSelect is (novelsum.md): every
    pick's gain is within float32 rounding of the step's maximum, so of two items that tie in exact
    arithmetic (two uncovered items that are each other's best improvement always do) either may
    come first."""
    n = unit.shape[0]
    rows = _SimilarityRows(unit)
    bound = np.asarray(first_gains, dtype=np.float64).copy()
    fresh = np.zeros(n, dtype=np.int64)  # the step at which bound[i] was last computed exactly
    best = np.zeros(n, dtype=np.float32)  # each pool item's similarity to its nearest pick (0: none yet)
    order = np.empty(budget, dtype=np.int64)
    for step in range(budget):
        batch = FIRST_BATCH
        while True:
            top = int(np.argmax(bound))
            if fresh[top] == step:  # its exact gain beats every other item's upper bound
                break
            is_fresh = fresh == step
            stale = np.where(is_fresh, -np.inf, bound)  # picked items are at -inf too
            open_items = np.isfinite(stale)
            best_fresh = bound[is_fresh].max(initial=-np.inf)
            # only the stale bounds that reach the best fresh gain can still win (top's does)
            m = min(batch, int(np.count_nonzero(open_items & (stale >= best_fresh))))
            candidates = np.argpartition(-stale, m - 1)[:m]
            if m < MISS_BATCH and (rows.slot[candidates] < 0).any():
                m = min(MISS_BATCH, int(np.count_nonzero(open_items)))
                candidates = np.argpartition(-stale, m - 1)[:m]
            bound[candidates] = rows.gains(candidates, best, bound)
            fresh[candidates] = step
            batch *= 2
        order[step] = top
        np.maximum(best, rows.get(np.array([top]), bound)[0], out=best)
        bound[top] = -np.inf
        fresh[top] = -1
    return order


class _SimilarityRows:
    """Rows of the pool's similarity matrix, computed when first asked for and kept up to CACHE_BYTES:
    lazy greedy re-evaluates the same contenders step after step. When the cache is full, the rows of
    the items with the lowest priority (their gain bound: the least likely to be asked for again) go."""

    def __init__(self, unit: np.ndarray):
        self.unit = unit
        n = unit.shape[0]
        capacity = max(1, min(n, CACHE_BYTES // (4 * n)))
        self.rows = np.empty((capacity, n), dtype=np.float32)
        self.slot = np.full(n, -1, dtype=np.int64)  # cache row of each item, -1 when not cached
        self.owner = np.full(capacity, -1, dtype=np.int64)  # item of each cache row, -1 when free

    def get(self, items: np.ndarray, priority: np.ndarray) -> np.ndarray:
        """(len(items), N) float32 similarities max(cos, 0) of the distinct items; priority: (N,)."""
        cached = self.slot[items] >= 0
        out = np.empty((len(items), self.unit.shape[0]), dtype=np.float32)
        out[cached] = self.rows[self.slot[items[cached]]]
        missing = items[~cached]
        if len(missing):
            out[~cached] = np.maximum(self.unit[missing] @ self.unit.T, 0.0)
            keep = missing[: len(self.rows)]
            free = self._free(len(keep), priority)
            self.rows[free], self.owner[free], self.slot[keep] = out[~cached][: len(keep)], keep, free
        return out

    def _free(self, k: int, priority: np.ndarray) -> np.ndarray:
        """k cache rows to fill (k <= capacity): free ones, else those of the lowest-priority items
        (an eighth of the cache at once, so evictions are rare)."""
        free = np.flatnonzero(self.owner < 0)
        if len(free) < k:
            used = np.flatnonzero(self.owner >= 0)
            drop = min(len(used), max(k - len(free), len(self.rows) // 8))
            evict = used[np.argpartition(priority[self.owner[used]], drop - 1)[:drop]]
            self.slot[self.owner[evict]] = -1
            self.owner[evict] = -1
            free = np.flatnonzero(self.owner < 0)
        return free[:k]

    def gains(self, items: np.ndarray, best: np.ndarray, priority: np.ndarray) -> np.ndarray:
        """(len(items),) float64: sum over the pool of max(sim(x, item) - best[x], 0)."""
        out = np.empty(len(items))
        for lo in range(0, len(items), GAIN_CHUNK):
            chunk = self.get(items[lo:lo + GAIN_CHUNK], priority)
            out[lo:lo + GAIN_CHUNK] = np.maximum(chunk - best, 0.0).sum(axis=1, dtype=np.float64)
        return out
