"""The selection report's numbers: NovelSelect's picks against uniform random, k-center greedy and
facility location of the same size on the same pool, each metric at a few budgets up to the
selection's own. Greedy orders are prefixes (the first b picks are the selection at budget b), so
one order per selector serves every budget; random takes the first b of each seed's permutation.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from planfusion.novelsum import novelsum
from planfusion.novelsum.validation import check_kappas, check_variant
from planfusion.report import metrics
from planfusion.report.baselines import facility_location_greedy, k_center_greedy, random_orders
from planfusion.report.geometry import PoolGeometry, coverage_distances, pool_geometry
from planfusion.report.inputs import Categories, check_budgets, check_categories, check_novelty, check_picks, check_pool

SELECTORS: dict[str, str] = {
    "novelselect": "NovelSelect",
    "random": "random",
    "k_center": "k-center",
    "facility_location": "facility location",
}


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    better: str  # "higher", "lower" or "" (neither: read against the pool)
    objective_of: str  # the selector that optimises it, "" for nobody's
    count: bool = False  # an integer count: shown whole (a mean over seeds with one decimal)


METRICS: tuple[Metric, ...] = (
    Metric("novelsum", "NovelSum", "higher", "novelselect"),
    Metric("vendi", "Vendi score", "higher", ""),
    Metric("coverage_mean", "coverage mean", "lower", "facility_location"),
    Metric("coverage_p95", "coverage p95", "lower", "k_center"),
    Metric("coverage_within_r", "share of pool within r", "higher", ""),
    Metric("cell_coverage", "cell coverage", "higher", ""),
    Metric("family_share_tv", "family shares off pool (TV)", "lower", ""),
    Metric("subtype_share_tv", "subtype shares off pool (TV)", "lower", ""),
    Metric("sparse_share", "sparse share (pool: 5%)", "", ""),
    Metric("near_duplicate_pairs", "near-duplicate pairs", "lower", "", count=True),
)
BUDGET_FRACTIONS = (0.05, 0.1, 0.2, 0.5)  # of the pool, kept where below the selection's budget
DEFAULT_SEEDS = 5
# BLAS threads while the report computes: it runs beside other steps of the pipeline, and the greedy
# baselines' small products lose most of their time to spinning threads (4x slower at N = 2,000 with 2).
BLAS_THREADS = 1


@dataclass(frozen=True)
class SelectionReport:
    """name: what was selected ("decomposition", "fused"); budgets: increasing, the last is the
    selection's size B; values[selector][metric]: (len(budgets),) values, the mean over seeds for
    random; random_sd[metric]: their standard deviation over seeds (ddof=1); metrics: the keys that
    apply (cells and shares need categories, family shares more than one family); orders[selector]:
    (B,) pick order (random: the first seed's); shares[field][label]: {"pool": share, selector: share
    at B, random's mean over seeds}; novelty: (B,) novelty at pick or None; projection: (N, 2) PCA
    coordinates of the pool; colours: (N,) the labels that colour the projection (family, else
    subtype) or None; cell_fields: the labels a cell combines; pool_stats: r, the near-duplicate
    distance, cells, sparse items; seconds: by part."""

    name: str
    n_pool: int
    kappa1: float
    kappa2: float
    variant: str
    n_seeds: int
    budgets: tuple[int, ...]
    metrics: tuple[str, ...]
    values: dict[str, dict[str, np.ndarray]]
    random_sd: dict[str, np.ndarray]
    orders: dict[str, np.ndarray]
    shares: dict[str, dict[str, dict[str, float]]]
    novelty: np.ndarray | None
    projection: np.ndarray
    colours: np.ndarray | None
    cell_fields: tuple[str, ...]
    pool_stats: dict[str, float]
    seconds: dict[str, float]

    @property
    def budget(self) -> int:
        return self.budgets[-1]

    def at_budget(self, selector: str, metric: str) -> float:
        """The metric of the selector's picks at the selection's size B (random: mean over seeds)."""
        return float(self.values[selector][metric][-1])


def default_budgets(n_pool: int, budget: int) -> list[int]:
    """BUDGET_FRACTIONS of the pool below B, plus B/4 and B/2, plus B: a curve of at least three
    points whatever B is."""
    candidates = [math.ceil(f * n_pool) for f in BUDGET_FRACTIONS] + [math.ceil(budget / 4), math.ceil(budget / 2)]
    return sorted({b for b in candidates if 2 <= b < budget} | {budget})


def selection_report(
    embeddings: np.ndarray,
    sigma: np.ndarray,
    picks: Sequence[int] | np.ndarray,
    *,
    kappa1: float = 1.0,
    kappa2: float = 0.5,
    variant: str = "magicagent",
    novelty: Sequence[float] | np.ndarray | None = None,
    categories: Categories | None = None,
    budgets: Sequence[int] | None = None,
    n_seeds: int = DEFAULT_SEEDS,
    random_state: int | np.random.Generator = 0,
    name: str = "selection",
) -> SelectionReport:
    """The report of NovelSelect's picks on a pool, with the baselines computed here.

    embeddings: (N, D) the pool (L2-normalised here); sigma: (N,) the pool's density factors (as the
    selection used them); picks: (B,) pool indices in NovelSelect's pick order; kappa1, kappa2,
    variant: the selection's parameters (NovelSum is always the magicagent form, per the
    reference); novelty: (B,) novelty at pick; categories: labels of the pool's items; budgets:
    the curve's budgets (default: default_budgets), B is always added; n_seeds: random subsets per
    budget (>= 5 for a meaningful sd); random_state: seeds the random baseline.
    """
    started = time.perf_counter()
    check_variant(variant)
    check_kappas(kappa1, kappa2)
    unit, sigma = check_pool(embeddings, sigma)
    n = unit.shape[0]
    order = check_picks(picks, n)
    b = len(order)
    novelty = check_novelty(novelty, b)
    labels = check_categories(categories, n)
    budgets = check_budgets(budgets, b, default_budgets(n, b))
    if n_seeds < 2:
        raise ValueError(f"n_seeds must be >= 2 for a standard deviation, got {n_seeds}")

    with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
        geometry = pool_geometry(unit)
        seconds = {"geometry": time.perf_counter() - started}
        tick = time.perf_counter()
        orders = {"novelselect": order, "k_center": k_center_greedy(unit, b, first=int(order[0]))}
        seconds["k_center"] = time.perf_counter() - tick
        tick = time.perf_counter()
        orders["facility_location"] = facility_location_greedy(unit, b, first_gains=geometry.similarity_sums)
        seconds["facility_location"] = time.perf_counter() - tick
        seeds = random_orders(n, b, n_seeds, random_state)

        tick = time.perf_counter()
        scorer = _SubsetScorer(unit, sigma, kappa1, kappa2, geometry, labels)
        values = {selector: scorer.along(o, budgets) for selector, o in orders.items()}
        per_seed = [scorer.along(o, budgets) for o in seeds]
        values["random"] = {m: np.mean([s[m] for s in per_seed], axis=0) for m in scorer.metrics}
        random_sd = {m: np.std([s[m] for s in per_seed], axis=0, ddof=1) for m in scorer.metrics}
        seconds["metrics"] = time.perf_counter() - tick
        projection = pca_2d(unit)

    shares = {}
    for field in ("family", "subtype"):
        if field in labels:
            shares[field] = _shares_table(labels[field], orders, seeds)
    colours = labels.get("family")
    if colours is None or len(np.unique(colours)) == 1:
        colours = labels.get("subtype", colours)
    seconds["total"] = time.perf_counter() - started
    return SelectionReport(
        name=name, n_pool=n, kappa1=float(kappa1), kappa2=float(kappa2), variant=variant, n_seeds=n_seeds,
        budgets=budgets, metrics=scorer.metrics, values={s: values[s] for s in SELECTORS}, random_sd=random_sd,
        orders=orders | {"random": seeds[0]}, shares=shares, novelty=novelty, projection=projection,
        colours=colours, cell_fields=tuple(labels),
        pool_stats={"r": geometry.r, "duplicate_distance": geometry.duplicate_distance,
                    "cells": scorer.n_cells, "sparse_items": int(geometry.sparse.sum())},
        seconds=seconds,
    )


class _SubsetScorer:
    """Every metric of a pick order's prefixes, on one pool."""

    def __init__(self, unit: np.ndarray, sigma: np.ndarray, kappa1: float, kappa2: float, geometry: PoolGeometry,
                 labels: dict[str, np.ndarray]):
        self.unit, self.sigma, self.kappa1, self.kappa2, self.geometry = unit, sigma, kappa1, kappa2, geometry
        self.cells = None
        if labels:  # a cell is a distinct combination of the labels given
            keys = ["\x1f".join(row) for row in zip(*labels.values())]
            self.cells = np.unique(keys, return_inverse=True)[1].ravel()
        self.n_cells = int(self.cells.max() + 1) if self.cells is not None else 0
        self.labels = {f"{field}_share_tv": labels[field] for field in ("family", "subtype")
                       if field in labels and len(np.unique(labels[field])) > 1}
        skip = {"cell_coverage"} if self.cells is None else set()
        skip |= {key for key in ("family_share_tv", "subtype_share_tv") if key not in self.labels}
        self.metrics = tuple(m.key for m in METRICS if m.key not in skip)

    def along(self, order: np.ndarray, budgets: tuple[int, ...]) -> dict[str, np.ndarray]:
        """metric -> (len(budgets),) values of the order's first b picks for each budget b."""
        nearest = coverage_distances(self.unit, order, budgets)
        rows = [self.subset(order[:b], distances) for b, distances in zip(budgets, nearest)]
        return {m: np.array([row[m] for row in rows]) for m in self.metrics}

    def subset(self, picks: np.ndarray, distances: np.ndarray) -> dict[str, float]:
        x = self.unit[picks]
        values = {
            "novelsum": novelsum(x, self.sigma[picks], kappa1=self.kappa1, kappa2=self.kappa2),
            "vendi": metrics.vendi_score(x),
            **metrics.coverage_summary(distances, self.geometry.r),
            "sparse_share": metrics.sparse_share(self.geometry.sparse, picks),
            "near_duplicate_pairs": metrics.near_duplicate_pairs(x, self.geometry.duplicate_distance),
        }
        if self.cells is not None:
            values["cell_coverage"] = metrics.cell_coverage(self.cells, picks)
        for key, labels in self.labels.items():
            values[key] = metrics.share_distance(labels, picks)
        return values


def _shares_table(labels: np.ndarray, orders: dict[str, np.ndarray], seeds: np.ndarray) -> dict[str, dict[str, float]]:
    """label -> {"pool": its pool share, selector: its share in the selector's picks}."""
    table = {label: {"pool": pool} for label, (_, pool) in metrics.shares(labels, orders["novelselect"]).items()}
    for selector, order in orders.items():
        for label, (share, _) in metrics.shares(labels, order).items():
            table[label][selector] = share
    per_seed = [metrics.shares(labels, seed) for seed in seeds]
    for label in table:
        table[label]["random"] = float(np.mean([s[label][0] for s in per_seed]))
    return table


def pca_2d(unit: np.ndarray) -> np.ndarray:
    """(N, 2) coordinates of the rows on their two principal axes (eigenvectors of the (D, D)
    covariance: cheap for any N), signs fixed so the largest loading is positive."""
    centred = unit.astype(np.float64) - unit.mean(axis=0, dtype=np.float64)
    _, vectors = np.linalg.eigh(centred.T @ centred)
    axes = vectors[:, ::-1][:, :2]
    axes *= np.sign(axes[np.abs(axes).argmax(axis=0), [0, 1]])
    return centred @ axes
