"""NovelSelect: greedy selection that adds, at every step, the candidate with the largest novelty
v(x | S) (see scoring.py), exactly, without rescanning every candidate against every pick.

How it stays exact without rescanning (lazy greedy with proven upper bounds):
- Each step computes the distances of the whole pool to the newest pick once (one (N, D) pass,
  the floor; the bound update below runs in the same pass, block by block) and keeps them as a
  column of an (N, B) matrix: scoring a row needs no embedding work.
- A hot set of contenders carries exact scores, updated per pick in O(t) per row from their ranks
  (the new term at its rank, later terms pushed one rank down).
- Every other candidate carries an upper bound: its last exact score plus a proven bound on each
  later rise (see _add_bounds), which is exact for the HEAD nearest picks, where near picks pull
  scores down, and beyond them uses per-candidate counts of earlier picks in key buckets to bound
  the new pick's rank and the keys it displaces (for the released variant, whose keys spread
  widely, with a staircase of bucket edges above the new key). The buckets sit where the
  keys are (equal widths between quantiles of sampled keys, moved to the picks' keys at REBUCKET_AT
  picks, counts rebuilt). At REFRESH_AT picks every cold candidate is scored exactly once, so early
  bound slack does not make most of the pool come up for promotion one row at a time.
- A candidate is picked only when its exact score is strictly above every bound; otherwise the
  highest bounds are promoted (scored exactly) in bound order until the next bound falls below the
  best exact score. A promoted row remembers its picks in key order, so a re-promotion only places
  the picks made since (binary search into that order); only rows within COOL_MARGIN of the
  best join the hot set, the others keep their exact score as a fresh bound.
- Contenders more than COOL_MARGIN behind the pick go back to bounds after every pick, and so do the
  lowest ones when the hot set reaches its memory cap (HOT_BYTES): a row's bound restarts from its
  exact score, so dropping one never changes a pick. Ties go to the lowest index. Nothing is
  truncated or approximated: the picks equal those of rescanning everything (tests check this
  against a float64 brute force).
- Mix controls keep the greedy exact among what is eligible. A row that may not be picked (excluded,
  or its group's quota full) is made unavailable like a picked row: bound -inf, out of the hot set,
  so no pass scores or offers it again. With weights w in (0, 1] each pick is the arg-max of w * v:
  hot rows compare w * exact, and contenders are ranked by w * bound, a bound on w * v since w > 0;
  a promoted row then carries w * exact below the best, so it does not come back in the same step.
- The loops that touch every candidate or every pick of a row (distances, bound update, promotion,
  hot-set update, choice of contenders) are compiled (kernels.py), the passes over the pool on
  THREADS threads; this module keeps the state and the logic.
"""

from __future__ import annotations

import mmap
import os
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from planfusion.novelsum import kernels
from planfusion.novelsum.density import Density, check_density, embedding_density, precomputed_density
from planfusion.novelsum.validation import (
    METRICS,
    check_budget,
    check_kappas,
    check_mix,
    check_variant,
    distance_matrix,
    unit_embeddings,
)

HEAD = 8
STAIRS = (2, 4, 8, 16)  # bucket steps of the released variant's tail staircase
BUCKETS = 32  # key buckets per candidate: how many earlier picks lie below a key, for rank bounds
REBUCKET_AT = (16, 128, 1024)  # pick counts at which the buckets move to where the picks' keys lie
REFRESH_AT = (64, 256)  # pick counts at which every candidate is scored exactly (bounds restart from the truth)
PROMOTE_BATCH = 64
CONTENDERS = 512  # cold candidates ranked per pass over the pool's bounds
COOL_MARGIN = 0.002
STAGE = 64  # new distance columns staged before they are written into the row-major matrix
THREADS = min(2, len(os.sched_getaffinity(0)))  # threads of the passes over the whole pool
HOT_BYTES = 2 << 30  # memory for the hot set's (rows, budget) keys, terms and ranks

Progress = Callable[[int, int, float], None]  # (picks so far, budget, seconds elapsed)


@dataclass(frozen=True)
class Selection:
    """The outcome of NovelSelect.

    order: (B,) pool indices in pick order; scores: (B,) novelty of each pick at the step it was
    picked (0 for the first pick); weighted_scores: (B,) the weighted novelty w * v each pick won
    with (equal to scores without weights); sigma: (N,) density factors of the pool;
    contributors / contributions: (B, C) the selected samples (pool indices, -1 where fewer than C
    existed) whose terms made up most of each pick's score, and those terms.
    """

    order: np.ndarray
    scores: np.ndarray
    weighted_scores: np.ndarray
    sigma: np.ndarray
    contributors: np.ndarray
    contributions: np.ndarray
    variant: str
    k: int
    kappa1: float
    kappa2: float
    first_pick: int
    first_pick_seed: int | None
    stats: dict[str, float] = field(default_factory=dict)


class _PoolDistances:
    """Distances from every pool sample to one sample, for embeddings or a precomputed matrix."""

    def __init__(self, data: np.ndarray, metric: str):
        self.metric = metric
        self.data = data
        self.dtype = np.float64 if metric == "precomputed" else np.float32

    def __len__(self) -> int:
        return self.data.shape[0]

    def to(self, j: int) -> np.ndarray:
        if self.metric == "precomputed":
            return self.data[:, j]
        return kernels.cosine_distances(self.data, j, np.empty(len(self.data), dtype=np.float32), THREADS)

    def pairs(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Distances of the pairs (a[i], b[i])."""
        if self.metric == "precomputed":
            return self.data[a, b]
        return np.clip(1.0 - np.einsum("ij,ij->i", self.data[a], self.data[b]), 0.0, 2.0)


class _PickColumns:
    """Distances of every pool row to each pick so far: an (N, B) row-major matrix, column u for the
    u-th pick, so a row's distances to all picks are contiguous (promotions read rows).

    Writing one column touches a memory page per row (about 9 ms at N = 100,000), so new columns are
    staged in a contiguous (STAGE, N) buffer and copied into the matrix STAGE columns at a time.
    (Staging rows instead made each pick touch a cache line per pool row: slower at N = 100,000.)
    """

    def __init__(self, n: int, budget: int, dtype):
        self.matrix = _small_pages((n, budget), dtype)
        self.staged = np.empty((min(STAGE, budget), n), dtype=dtype)
        self.dtype = self.matrix.dtype
        self.count = self.flushed = 0

    def append(self, column: np.ndarray) -> None:
        self.staged[self.count - self.flushed] = column
        self.count += 1
        if self.count - self.flushed == len(self.staged):
            kernels.flush_columns(self.staged, len(self.staged), self.matrix, self.flushed, THREADS)
            self.flushed = self.count

    def rows(self, rows: np.ndarray | slice | list, t: int) -> np.ndarray:
        """(m, t) distances of the given pool rows to the first t picks."""
        done = min(t, self.flushed)
        head = self.matrix[rows, :done]
        if t == done:
            return head
        out = np.empty((head.shape[0], t), dtype=self.dtype)
        out[:, :done] = head
        out[:, done:] = self.staged[: t - done, rows].T
        return out


def _small_pages(shape: tuple[int, ...], dtype) -> np.ndarray:
    """An uninitialised C-order array on ordinary 4 KiB pages, for the (N, B) arrays that fill a few
    columns at a time. numpy asks the kernel for transparent huge pages on large arrays; the first
    flush then touches every row at once and faults in a 2 MiB page per 100 rows, which the kernel
    may compact memory to find: at N = 100,000, B = 5,000 that flush took 2-7 s and the selection
    ran 70 s instead of 52. Small pages fault in as the columns arrive."""
    dtype, count = np.dtype(dtype), int(np.prod(shape))
    if not hasattr(mmap, "MAP_ANONYMOUS"):
        return np.empty(shape, dtype=dtype)
    pages = mmap.mmap(-1, max(count * dtype.itemsize, 1), flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    if hasattr(mmap, "MADV_NOHUGEPAGE"):
        pages.madvise(mmap.MADV_NOHUGEPAGE)
    return np.frombuffer(pages, dtype=dtype, count=count).reshape(shape)


def _contender_cutoff(best: float) -> float:
    """The lowest exact score that stays in the hot set: COOL_MARGIN behind the best."""
    return best - abs(best) * COOL_MARGIN


def _first_pick(
    first: int | None, random_state: int | np.random.Generator | None, eligible: np.ndarray
) -> tuple[int, int | None]:
    """The given first pick (checked to be eligible), or one drawn uniformly from the eligible rows
    (all rows: the same draw as integers(n))."""
    n = len(eligible)
    if first is not None:
        if int(first) != first or not 0 <= first < n:
            raise ValueError(f"first pick must be a pool index in [0, {n}), got {first!r}")
        if not eligible[int(first)]:
            raise ValueError(f"first pick {first} is excluded or in a group that may not be picked first")
        return int(first), None
    rows = np.flatnonzero(eligible)
    if isinstance(random_state, np.random.Generator):
        return int(rows[random_state.integers(len(rows))]), None
    seed = 0 if random_state is None else int(random_state)
    return int(rows[np.random.default_rng(seed).integers(len(rows))]), seed


class _Quotas:
    """Which groups may still be picked from: a group closes when it reaches its quota, and once the
    picks left equal the picks still owed to floors, every group at or above its floor closes (its
    quota drops to its count), so the rest go to the groups below their floors. Every step still
    takes the arg-max among the eligible rows."""

    def __init__(self, groups: np.ndarray, quotas: np.ndarray | None, floors: np.ndarray | None, budget: int):
        n_groups = len(quotas if quotas is not None else floors)
        self.groups, self.budget = groups, budget
        self.quota = np.full(n_groups, budget, dtype=np.int64) if quotas is None else quotas.copy()
        self.floor = np.zeros(n_groups, dtype=np.int64) if floors is None else floors
        self.count = np.zeros(n_groups, dtype=np.int64)
        self.closed = np.zeros(n_groups, dtype=bool)

    def closing(self, made: int) -> np.ndarray:
        """The groups that close now, after ``made`` picks (the last one counted with add)."""
        owed = int(np.maximum(self.floor - self.count, 0).sum())
        if owed and owed == self.budget - made:
            np.minimum(self.quota, np.maximum(self.count, self.floor), out=self.quota)
        newly = (self.count >= self.quota) & ~self.closed
        self.closed |= newly
        return np.flatnonzero(newly)

    def add(self, pick: int) -> None:
        self.count[self.groups[pick]] += 1


def novel_select(
    data: np.ndarray,
    budget: int,
    *,
    k: int = 10,
    kappa1: float = 1.0,
    kappa2: float = 0.5,
    variant: str = "magicagent",
    metric: str = "cosine",
    first: int | None = None,
    random_state: int | np.random.Generator | None = 0,
    n_contributors: int = 3,
    density: Density | None = None,
    progress: Progress | None = None,
    groups: np.ndarray | None = None,
    quotas: np.ndarray | None = None,
    floors: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> Selection:
    """Select ``budget`` samples from the pool by NovelSelect.

    data: (N, D) embeddings (L2-normalised here; cosine distance) or, with metric="precomputed",
    an (N, N) distance matrix. first: the first pick's index; if None a random pick drawn with
    ``random_state`` among the eligible rows (the seed is recorded). density: reuse the density
    factors of this same pool (sigma (N,), neighbours and distances (N, density.k); checked, ``k`` is
    then unused); if None they are computed with ``k`` neighbours.

    Mix controls (all None: Eq. 1 exactly as without them). Each pick is the arg-max of the
    (weighted) novelty among the eligible rows, lowest index among equals:
    groups: (N,) int labels in [0, G), with quotas: (G,) the most picks per group, and/or floors:
    (G,) the fewest (the picks left go only to groups below their floors once they are all owed;
    see _Quotas). A budget the quotas or floors cannot meet is refused (ValueError), not cut.
    exclude: (N,) bool, rows never picked that stay in the pool (density and the scores of others
    unchanged). weights: (N,) in (0, 1], each candidate's novelty is multiplied by its weight.
    """
    check_variant(variant)
    check_kappas(kappa1, kappa2)
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    if metric == "precomputed":
        matrix = distance_matrix(data)
        pool = _PoolDistances(matrix, metric)
        density = precomputed_density(matrix, k) if density is None else check_density(density, len(pool))
    else:
        unit = unit_embeddings(data)
        pool = _PoolDistances(unit, metric)
        density = embedding_density(unit, k, unit=True) if density is None else check_density(density, len(pool))
    n = len(pool)
    budget = check_budget(budget, n)
    groups, quotas, floors, selectable, weights = check_mix(n, budget, groups, quotas, floors, exclude, weights)
    mix = None if groups is None else _Quotas(groups, quotas, floors, budget)
    greedy = _LazyGreedy(pool, density, budget, kappa1, kappa2, variant, n_contributors, progress, weights, mix)
    eligible = greedy.close(0, selectable)
    first_pick, first_seed = _first_pick(first, random_state, eligible)
    return greedy.run(first_pick, first_seed)


class _LazyGreedy:
    """Exact scores for a hot set of contenders, updated per pick; upper bounds for the rest."""

    def __init__(
        self, pool, density, budget, kappa1, kappa2, variant, n_contributors, progress, weights=None, mix=None
    ):
        self.pool, self.density, self.budget = pool, density, budget
        self.kappa1, self.kappa2, self.variant = float(kappa1), float(kappa2), variant
        self.n_contributors, self.progress = n_contributors, progress
        self.weight = density.sigma.astype(np.float64) ** self.kappa2  # sigma^kappa2
        n = len(pool)
        self.dist = _PickColumns(n, budget, pool.dtype)
        self.column = np.empty(n, dtype=pool.dtype)  # the newest pick's distances, when computed with its bounds
        self.head_keys = np.full((n, min(HEAD, budget)), np.inf)  # each candidate's lowest keys, sorted
        self.head_terms = np.zeros((n, min(HEAD, budget)))
        self.head_last = np.full(n, np.inf)  # head_keys[:, -1], contiguous: every pick compares all of it
        self.below = np.zeros((n, BUCKETS + 1), dtype=np.int32)  # [i, b]: i's picks with a key in a bucket < b
        self.stairs = np.array(STAIRS, dtype=np.int64)
        self.w_low = np.inf  # the lightest weight among the picks so far
        # each candidate's picks in key order as of its last promotion (the first known[i] picks)
        self.sorted_picks = _small_pages((n, budget), np.int16 if budget < 2**15 else np.int32)
        self.known = np.zeros(n, dtype=np.int64)
        self._first_buckets()
        self.score = np.zeros(n)  # hot: exact score sum; cold: an upper bound on it
        self.available = np.ones(n, dtype=bool)
        self.weights = weights  # (N,) novelty multipliers in (0, 1], or None
        self.weighted_bounds = None if weights is None else np.empty(n)
        self.mix: _Quotas | None = mix
        self.hot = np.zeros(n, dtype=bool)
        # hot rows 0..n_hot-1: pool id, and per pick u its key, term and rank in that row's ordering
        self.n_hot = 0
        self.hot_ids = np.empty(0, dtype=np.int64)
        self.exact = np.empty(0)
        self.hot_keys = np.empty((0, budget))
        self.hot_terms = np.empty((0, budget))
        self.hot_ranks = np.empty((0, budget), dtype=np.int32)
        self.g = np.concatenate([[0.0], np.arange(1, budget + 2, dtype=np.float64) ** -self.kappa1])
        self.dg = np.append(np.diff(self.g), 0.0)  # g(r + 1) - g(r): the change when pushed down a rank
        self.order = np.empty(budget, dtype=np.int64)
        self.pick_weight = np.empty(budget)  # weight[order]
        self.promoted = self.evicted = self.refreshed = 0
        self.max_hot = int(min(n, max(2 * PROMOTE_BATCH, HOT_BYTES // (20 * budget))))
        self.kernels = kernels.SelectionKernels(
            released=variant == "released", weight=self.weight, pick_weight=self.pick_weight,
            head_keys=self.head_keys, head_terms=self.head_terms, head_last=self.head_last, below=self.below,
            score=self.score, hot=self.hot, matrix=self.dist.matrix, staged=self.dist.staged,
            sorted_picks=self.sorted_picks, known=self.known, g=self.g, stairs=self.stairs, threads=THREADS,
        )  # fmt: skip

    def _weighted(self, exact, rows):
        """The exact score sums of the pool rows ``rows`` times their weights (unchanged without weights)."""
        return exact if self.weights is None else exact * self.weights[rows]

    def close(self, made: int, selectable: np.ndarray | None = None) -> np.ndarray:
        """Make the rows that may no longer be picked unavailable (bound -inf, out of the hot set):
        those not ``selectable`` and those of the groups that close after ``made`` picks. Returns the
        available mask."""
        shut = None if selectable is None else self.available & ~selectable
        closing = [] if self.mix is None else self.mix.closing(made)
        if len(closing):
            in_closing = self.available & np.isin(self.mix.groups, closing)
            shut = in_closing if shut is None else shut | in_closing
        if shut is not None and shut.any():
            self.available &= ~shut
            self.score[shut] = -np.inf
            if self.n_hot:
                self._drop_hot(np.flatnonzero(shut[self.hot_ids[: self.n_hot]]))
        return self.available

    def _keys_terms(self, d: np.ndarray, rows: np.ndarray | slice, t: int | slice) -> tuple[np.ndarray, np.ndarray]:
        """Ranking keys and terms from distances d of pool rows to the picks at positions t (an index or
        a slice)."""
        d = d.astype(np.float64)
        wp = self.weight[self.order[t]]
        if self.variant == "magicagent":
            return d, wp * d
        wx = self.weight[rows]
        terms = (wx[:, None] + wp) * d if d.ndim == 2 else (wx + wp) * d
        return terms, terms

    def _add_pick(self, t: int) -> None:
        """Account for the t-th pick (0-based, column t): exact deltas for hot rows, bounds for the rest."""
        pick = self.order[t]
        self.pick_weight[t] = self.weight[pick]
        if self.pool.metric == "precomputed" or t in REBUCKET_AT:
            col = self.pool.to(pick)
            self.dist.append(col)
            if t in REBUCKET_AT:
                self._rebucket(t)
            self._add_bounds(t, col)
        else:  # one pass over the pool for both
            col = self.kernels.distances_and_bounds(
                self.pool.data, pick, self.column, t, self.pick_weight[t], self.w_low,
                self.bucket_scale, self.bucket_offset, self.edges,
            )  # fmt: skip
            self.dist.append(col)
        self.w_low = min(self.w_low, self.pick_weight[t])
        if self.n_hot:
            ids = self.hot_ids[: self.n_hot]
            self._update_hot(t, *self._keys_terms(col[ids], ids, t))
        if t + 1 in REFRESH_AT:
            self._refresh(t + 1)

    def _refresh(self, t: int) -> None:
        """Score every cold candidate exactly against the first t picks: its bound becomes its score.

        Early bounds gather slack (the buckets first sat where random pairs' keys are), and by about a
        hundred picks most of the pool would be promoted one row at a time; one pass over all rows
        costs less and leaves every row's key order known, so its later promotions are incremental."""
        rows = np.flatnonzero(~self.hot & self.available)
        self.score[rows] = self.kernels.promote(rows, t, self.dist.flushed)
        self.refreshed += len(rows)

    def _add_bounds(self, t: int, col: np.ndarray) -> None:
        """Raise every candidate's bound by an upper bound on how much pick t raises its score sum
        (one compiled pass over the pool, kernels.add_bounds).

        Write v = sum_q (g(q) - g(q+1)) * A_q with A_q the sum of the terms of the q lowest keys.
        A new pick at rank p adds its term to A_q for q > t and, for p <= q <= t, swaps A_q's q-th
        term for its own. Every candidate keeps its HEAD lowest keys and their terms, so for q <= HEAD
        the swap is exact (it is where near picks pull scores down). Beyond the head, the key counts
        bound the ranks: let b be the new key's bucket, n_lt / n_le the picks with keys in buckets
        < b / <= b. A_q with q <= n_lt is unchanged; for n_lt < q <= n_le the swap adds at most
        term_new - w_low * key_new (magicagent; released: <= 0, its terms are its keys); for q > n_le
        the displaced key is at least the next bucket's edge L, so the swap adds at most
        term_new - w_low * L (released: term_new - L < 0, a guaranteed fall). Released keys carry both
        densities and spread widely, so its fall is deepened by a staircase: the picks ranked after the
        count below bucket c have keys of at least c's edge, for c at STAIRS buckets above b.
        """
        self.kernels.add_bounds(
            t, np.ascontiguousarray(col), self.pick_weight[t], self.w_low, self.bucket_scale, self.bucket_offset,
            self.edges,
        )  # fmt: skip

    def _place_buckets(self, keys: np.ndarray) -> None:
        """Equal-width buckets between the 0.5% and 99.5% quantiles of sampled keys (where the keys
        are, so rank bounds are tight), one bucket below and one above. The bound uses lower edges
        nudged down: an edge may only underestimate the keys in its bucket."""
        key_max = 2.0 if self.variant == "magicagent" else 4.0 * float(self.weight.max())
        lo, hi = np.quantile(keys, [0.005, 0.995])
        if not hi > lo:
            lo, hi = 0.0, key_max
        width = float(hi - lo) / (BUCKETS - 2)
        self.bucket_scale, self.bucket_offset = 1.0 / width, 1.0 - float(lo) / width
        inner = lo + np.arange(BUCKETS - 1) * width
        self.edges = np.concatenate([[0.0], inner - 1e-9 * (np.abs(inner) + width), [key_max]])

    def _first_buckets(self) -> None:
        """Buckets from the keys between random pool pairs, before any pick exists."""
        n = len(self.pool)
        a, b = np.random.default_rng(0).integers(n, size=(2, 4096))
        d = self.pool.pairs(a, b).astype(np.float64)
        self._place_buckets(d if self.variant == "magicagent" else (self.weight[a] + self.weight[b]) * d)

    def _rebucket(self, t: int) -> None:
        """Move the buckets to where the keys to the first t picks lie (picks are far from random pairs'
        typical distances) and recount every candidate's key counts for the new edges."""
        n = len(self.pool)
        sample = np.random.default_rng(t).integers(n, size=min(n, 4096))
        self._place_buckets(self._keys_terms(self.dist.rows(sample, t), sample, slice(0, t))[0])
        self.kernels.count_keys(t, min(t, self.dist.flushed), self.bucket_scale, self.bucket_offset)

    def _update_hot(self, t: int, new_keys: np.ndarray, new_terms: np.ndarray) -> None:
        """Exact score changes of the hot rows for pick t, from their (h,) keys and terms for it."""
        h = self.n_hot
        self.kernels.update_hot(
            t, new_keys, new_terms, self.hot_keys, self.hot_terms, self.hot_ranks, self.dg, self.exact[:h],
            self.hot_ids[:h],
        )  # fmt: skip

    def _grow(self, need: int) -> None:
        cap = len(self.hot_ids)
        if need <= cap:
            return
        new_cap = min(max(need, 2 * cap, 64), self.max_hot)
        grow = lambda a, fill: np.concatenate([a, np.full((new_cap - cap,) + a.shape[1:], fill, dtype=a.dtype)])
        self.hot_ids = grow(self.hot_ids, -1)
        self.exact = grow(self.exact, 0.0)
        self.hot_keys = grow(self.hot_keys, 0.0)
        self.hot_terms = grow(self.hot_terms, 0.0)
        self.hot_ranks = grow(self.hot_ranks, 0)

    def _promote(self, rows: np.ndarray, t: int, best: float) -> float:
        """Score rows exactly from scratch; those within COOL_MARGIN of the best score (best included)
        stay exact from now on, the others keep their exact score as a fresh bound. Returns the new
        best."""
        exact = self.kernels.promote(rows, t, self.dist.flushed)
        self.score[rows] = exact
        self.promoted += len(rows)
        weighted = self._weighted(exact, rows)
        best = max(best, float(weighted.max()))
        near = weighted >= _contender_cutoff(best)
        if near.any():
            rows, exact = rows[near], exact[near]
            keys, terms = self._keys_terms(self.dist.rows(rows, t), rows, slice(0, t))
            self._make_hot(rows, t, keys, terms, self.sorted_picks[rows, :t].astype(np.intp), exact)
        return best

    def _make_hot(self, rows, t, keys, terms, order, exact) -> None:
        """Keep rows exact: their keys, terms and ranks, updated at every pick (_update_hot)."""
        self._make_room(len(rows))
        ranks = np.empty((len(rows), t), dtype=np.int32)
        np.put_along_axis(ranks, order, np.arange(1, t + 1, dtype=np.int32)[None, :], axis=1)
        lo, hi = self.n_hot, self.n_hot + len(rows)
        self._grow(hi)
        self.hot_ids[lo:hi], self.exact[lo:hi] = rows, exact
        self.hot_keys[lo:hi, :t], self.hot_terms[lo:hi, :t], self.hot_ranks[lo:hi, :t] = keys, terms, ranks
        self.n_hot = hi
        self.hot[rows] = True

    def _make_room(self, m: int) -> None:
        """Drop the lowest contenders until m more rows fit under the memory cap."""
        excess = self.n_hot + m - self.max_hot
        if excess > 0:
            exact = self._weighted(self.exact[: self.n_hot], self.hot_ids[: self.n_hot])
            self._drop_hot(np.argpartition(exact, excess - 1)[:excess])
            self.evicted += excess

    def _drop_hot(self, rows: np.ndarray) -> None:
        """Remove hot rows (their slots are filled by surviving rows from the end)."""
        rows = np.unique(rows)
        if not len(rows):
            return
        self.hot[self.hot_ids[rows]] = False
        keep = self.n_hot - len(rows)
        holes = rows[rows < keep]
        tail = np.ones(self.n_hot - keep, dtype=bool)
        tail[rows[rows >= keep] - keep] = False
        movers = keep + np.flatnonzero(tail)
        for a in (self.hot_ids, self.exact, self.hot_keys, self.hot_terms, self.hot_ranks):
            a[holes] = a[movers]
        self.n_hot = keep

    def _cool_down(self, best: float) -> None:
        """Hand contenders that fell well behind back to the bounds (which start from their exact score)."""
        exact = self._weighted(self.exact[: self.n_hot], self.hot_ids[: self.n_hot])
        self._drop_hot(np.flatnonzero(exact < _contender_cutoff(best)))

    def _next_pick(self, t: int) -> int:
        """The available candidate with the largest exact (weighted) score (lowest index among equals).

        Cold candidates whose bound reaches the best exact score are promoted in bound order, in
        batches, until the next bound falls below the best exact score seen so far. The pool is
        scanned again only when that list was cut short or the memory cap sent contenders back.
        """
        while True:
            best, evicted = self._best_hot(), self.evicted
            # with no exact score yet every bound qualifies: one batch first gives a score to beat
            cap = PROMOTE_BATCH if best == -np.inf else CONTENDERS
            if self.weights is None:
                contenders, bounds, limited = self.kernels.contenders(best, cap)
            else:  # w * bound >= w * v: the bounds of the weighted scores (-inf stays -inf)
                np.multiply(self.score, self.weights, out=self.weighted_bounds)
                contenders, bounds, limited = self.kernels.contenders(best, cap, self.weighted_bounds)
            for lo in range(0, len(contenders), PROMOTE_BATCH):
                if bounds[lo] < best:
                    limited = False
                    break
                best = self._promote(np.sort(contenders[lo : lo + PROMOTE_BATCH]), t, best)
            if not limited and self.evicted == evicted:
                ids = self.hot_ids[: self.n_hot]
                exact = self._weighted(self.exact[: self.n_hot], ids)
                return int(ids[exact == exact.max()].min())

    def _best_hot(self) -> float:
        if not self.n_hot:
            return -np.inf
        return float(self._weighted(self.exact[: self.n_hot], self.hot_ids[: self.n_hot]).max())

    def _contributors(self, x: int, t: int) -> tuple[np.ndarray, np.ndarray]:
        """The picks whose weighted terms (term * rank^-kappa1, as scoring.ranked_terms) make up most
        of the new pick x's score, from x's exact state in the hot set (x was just picked from it)."""
        c = self.n_contributors
        ids, vals = np.full(c, -1, dtype=np.int64), np.zeros(c)
        if t == 0 or c == 0:
            return ids, vals
        slot = int(np.flatnonzero(self.hot_ids[: self.n_hot] == x)[0])
        weighted = self.hot_terms[slot, :t] * self.g[self.hot_ranks[slot, :t]]
        if self.variant == "released":
            weighted /= t
        tied = np.flatnonzero(weighted >= np.partition(weighted, max(t - c, 0))[max(t - c, 0)])  # the c largest
        top = tied[np.argsort(-weighted[tied], kind="stable")[:c]]  # equal terms: the earlier pick first
        ids[: len(top)], vals[: len(top)] = self.order[top], weighted[top]
        return ids, vals

    def run(self, first_pick: int, first_seed: int | None) -> Selection:
        budget = self.budget
        scores, weighted_scores = np.zeros(budget), np.zeros(budget)
        contributors = np.full((budget, self.n_contributors), -1, dtype=np.int64)
        contributions = np.zeros((budget, self.n_contributors))
        start = time.perf_counter()
        pick = first_pick
        for t in range(budget):
            self.order[t] = pick
            self.available[pick] = False
            self.score[pick] = -np.inf
            if self.hot[pick]:
                self._drop_hot(np.flatnonzero(self.hot_ids[: self.n_hot] == pick))
            if t + 1 == budget:
                break
            if self.mix is not None:
                self.mix.add(pick)
                self.close(t + 1)
            self._add_pick(t)
            pick = self._next_pick(t + 1)
            sums = self.score[pick]
            scores[t + 1] = sums / (t + 1) if self.variant == "released" else sums
            weighted_scores[t + 1] = self._weighted(scores[t + 1], pick)
            contributors[t + 1], contributions[t + 1] = self._contributors(pick, t + 1)
            self._cool_down(self._weighted(sums, pick))
            if self.progress is not None:
                self.progress(t + 2, budget, time.perf_counter() - start)
        return Selection(
            order=self.order,
            scores=scores,
            weighted_scores=weighted_scores,
            sigma=self.density.sigma,
            contributors=contributors,
            contributions=contributions,
            variant=self.variant,
            k=self.density.k,
            kappa1=self.kappa1,
            kappa2=self.kappa2,
            first_pick=first_pick,
            first_pick_seed=first_seed,
            stats={"promoted": float(self.promoted), "refreshed": float(self.refreshed), "evicted": float(self.evicted), "hot": float(self.n_hot), "max_hot": float(self.max_hot), "seconds": time.perf_counter() - start},
        )
