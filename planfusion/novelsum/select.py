"""NovelSelect: greedy selection that adds, at every step, the candidate with the largest novelty
v(x | S) (see scoring.py), exactly, without rescanning every candidate against every pick.

How it stays exact and fast (lazy greedy with proven upper bounds):
- Each step computes the distances of the whole pool to the newest pick once (one (N, D) pass,
  the floor) and keeps them as a column of an (N, B) matrix, so re-scoring a candidate needs no
  embedding work, only a sort of its row.
- Adding pick j inserts one term at rank p into every candidate's sum and pushes later terms one rank
  down, which only lowers their weights. So v grows by at most p^-kappa1 * term(x, j). The rank p is
  at least 1 + #(earlier keys strictly below the new key), which a per-candidate histogram of its
  keys (quantile bins) bounds from below in O(N * bins). Summing these increments since a candidate's
  last exact score gives an upper bound on its current score.
- A candidate is picked only when its exact score is strictly above every other candidate's bound;
  otherwise the candidates with the highest bounds are re-scored exactly, and the test repeats.
  Ties (equal exact scores) go to the lowest index. Nothing is truncated or approximated.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from planfusion.novelsum.density import Density, embedding_density, precomputed_density
from planfusion.novelsum.scoring import ranked_terms, score_sums
from planfusion.novelsum.validation import (
    METRICS,
    check_budget,
    check_kappas,
    check_variant,
    distance_matrix,
    unit_embeddings,
)

HISTOGRAM_BINS = 24
RESCORE_BATCH = 16

Progress = Callable[[int, int, float], None]  # (picks so far, budget, seconds elapsed)


@dataclass(frozen=True)
class Selection:
    """The outcome of NovelSelect.

    order: (B,) pool indices in pick order; scores: (B,) novelty of each pick at the step it was
    picked (0 for the first pick); sigma: (N,) density factors of the pool;
    contributors / contributions: (B, C) the selected samples (pool indices, -1 where fewer than C
    existed) whose terms made up most of each pick's score, and those terms.
    """

    order: np.ndarray
    scores: np.ndarray
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
        col = self.data @ self.data[j]
        np.subtract(1.0, col, out=col)
        return np.clip(col, 0.0, 2.0, out=col)


def _first_pick(first: int | None, random_state: int | np.random.Generator | None, n: int) -> tuple[int, int | None]:
    if first is not None:
        if int(first) != first or not 0 <= first < n:
            raise ValueError(f"first pick must be a pool index in [0, {n}), got {first!r}")
        return int(first), None
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(n)), None
    seed = 0 if random_state is None else int(random_state)
    return int(np.random.default_rng(seed).integers(n)), seed


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
) -> Selection:
    """Select ``budget`` samples from the pool by NovelSelect.

    data: (N, D) embeddings (L2-normalised here; cosine distance) or, with metric="precomputed",
    an (N, N) distance matrix. first: the first pick's index; if None a random pick drawn with
    ``random_state`` (the seed is recorded). density: reuse precomputed density factors.
    """
    check_variant(variant)
    check_kappas(kappa1, kappa2)
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    if metric == "precomputed":
        matrix = distance_matrix(data)
        pool = _PoolDistances(matrix, metric)
        density = density or precomputed_density(matrix, k)
    else:
        unit = unit_embeddings(data)
        pool = _PoolDistances(unit, metric)
        density = density or embedding_density(unit, k, unit=True)
    n = len(pool)
    budget = check_budget(budget, n)
    first_pick, first_seed = _first_pick(first, random_state, n)
    return _LazyGreedy(pool, density, budget, kappa1, kappa2, variant, n_contributors, progress).run(
        first_pick, first_seed
    )


class _LazyGreedy:
    def __init__(self, pool, density, budget, kappa1, kappa2, variant, n_contributors, progress):
        self.pool, self.density, self.budget = pool, density, budget
        self.kappa1, self.kappa2, self.variant = float(kappa1), float(kappa2), variant
        self.n_contributors, self.progress = n_contributors, progress
        self.weight = density.sigma.astype(np.float64) ** self.kappa2  # sigma^kappa2
        n = len(pool)
        self.dist = np.empty((n, budget), dtype=pool.dtype)  # column u: distances to the u-th pick
        self.below = np.zeros((n, HISTOGRAM_BINS + 1), dtype=np.uint16 if budget < 65535 else np.uint32)
        self.edges: np.ndarray | None = None
        self.bound = np.zeros(n)  # upper bound on each candidate's score sum
        self.stale = np.zeros(n, dtype=bool)  # bound may exceed the exact score
        self.rescored = 0

    def _keys_and_terms(self, col: np.ndarray, j: int) -> tuple[np.ndarray, np.ndarray]:
        if self.variant == "magicagent":
            return col, self.weight[j] * col.astype(np.float64)
        terms = (self.weight + self.weight[j]) * col
        return terms, terms

    def _add_pick(self, j: int, t: int) -> None:
        """Record pick j as the t-th selected sample (0-based) and raise every bound."""
        col = self.pool.to(j)
        self.dist[:, t] = col
        keys, terms = self._keys_and_terms(col, j)
        if self.edges is None:
            qs = np.linspace(0, 1, HISTOGRAM_BINS + 1)[1:-1]
            self.edges = np.unique(np.quantile(keys, qs))
        bins = np.searchsorted(self.edges, keys, side="right")
        lower = np.take_along_axis(self.below, bins[:, None], axis=1)[:, 0]
        self.bound += terms * (1.0 + lower) ** -self.kappa1
        self.below += np.arange(self.below.shape[1])[None, :] > bins[:, None]

    def _exact_sums(self, rows: np.ndarray, t: int) -> np.ndarray:
        picks = self.order[:t]
        return score_sums(
            self.dist[rows, :t], self.weight[picks], self.weight[rows], variant=self.variant, kappa1=self.kappa1
        )

    def _next_pick(self, t: int) -> int:
        bound, stale = self.bound, self.stale
        while True:
            stale_bounds = np.where(stale, bound, -np.inf)
            exact_bounds = np.where(stale | ~self.available, -np.inf, bound)
            best = int(np.argmax(exact_bounds))  # first index among equal maxima
            if exact_bounds[best] > stale_bounds.max():
                return best
            m = min(RESCORE_BATCH, int(stale.sum()))
            rows = np.argpartition(-stale_bounds, m - 1)[:m]
            bound[rows] = self._exact_sums(rows, t)
            stale[rows] = False
            self.rescored += m

    def _contributors(self, x: int, t: int) -> tuple[np.ndarray, np.ndarray]:
        c = self.n_contributors
        ids, vals = np.full(c, -1, dtype=np.int64), np.zeros(c)
        if t == 0 or c == 0:
            return ids, vals
        picks = self.order[:t]
        terms = ranked_terms(
            self.dist[[x], :t], self.weight[picks], self.weight[[x]], variant=self.variant, kappa1=self.kappa1
        )[0]
        top = np.argsort(-terms, kind="stable")[:c]
        ids[: len(top)], vals[: len(top)] = picks[top], terms[top]
        return ids, vals

    def run(self, first_pick: int, first_seed: int | None) -> Selection:
        n, budget = len(self.pool), self.budget
        self.order = np.empty(budget, dtype=np.int64)
        self.available = np.ones(n, dtype=bool)
        scores = np.zeros(budget)
        contributors = np.full((budget, self.n_contributors), -1, dtype=np.int64)
        contributions = np.zeros((budget, self.n_contributors))
        start = time.perf_counter()
        pick = first_pick
        for t in range(budget):
            self.order[t] = pick
            self.available[pick] = False
            self.bound[pick] = -np.inf
            self.stale[pick] = False
            if t + 1 == budget:
                break
            self._add_pick(pick, t)
            self.stale[:] = self.available
            pick = self._next_pick(t + 1)
            sums = self.bound[pick]
            scores[t + 1] = sums / (t + 1) if self.variant == "released" else sums
            contributors[t + 1], contributions[t + 1] = self._contributors(pick, t + 1)
            if self.progress is not None:
                self.progress(t + 2, budget, time.perf_counter() - start)
        return Selection(
            order=self.order,
            scores=scores,
            sigma=self.density.sigma,
            contributors=contributors,
            contributions=contributions,
            variant=self.variant,
            k=self.density.k,
            kappa1=self.kappa1,
            kappa2=self.kappa2,
            first_pick=first_pick,
            first_pick_seed=first_seed,
            stats={"rescored": float(self.rescored), "seconds": time.perf_counter() - start},
        )
