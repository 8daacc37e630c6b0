"""Stages 4 and 5: density factors and NovelSelect per family, as warehouse rows."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Sequence

import numpy as np
import pyarrow as pa

from planfusion.novelsum import Density, Selection, candidate_scores, embedding_density, novel_select
from planfusion.novelsum.validation import unit_embeddings


@dataclass(frozen=True)
class SelectionParams:
    budget: int = 100
    k: int = 10
    kappa1: float = 1.0
    kappa2: float = 0.5
    variant: str = "magicagent"
    seed: int = 0

    def for_pool(self, n_pool: int, n_selectable: int | None = None) -> "SelectionParams":
        """The budget capped at the pool, or at its selectable tasks when an outlier guard excludes some
        (a small family gives all it has); K must stay below the pool."""
        if not 1 <= self.k < n_pool:
            raise ValueError(f"k={self.k} needs a pool of more than {self.k} tasks, got {n_pool}")
        return replace(self, budget=min(self.budget, n_pool if n_selectable is None else n_selectable))


def density_rows(task_ids: Sequence[str], vectors: np.ndarray, k: int) -> tuple[Density, pa.Table]:
    """The pool's density and its density_factors rows (task_id, sigma, k, neighbour_ids,
    neighbour_distances) as an Arrow table built from the arrays, not a Python object per value."""
    density = embedding_density(vectors, k)
    n = len(task_ids)
    offsets = pa.array(np.arange(0, n * density.k + 1, density.k, dtype=np.int32))
    ids = pa.array(list(task_ids), pa.string())
    rows = pa.table({
        "task_id": ids,
        "sigma": pa.array(np.asarray(density.sigma, dtype=np.float64)),
        "k": pa.array(np.full(n, density.k, dtype=np.int32)),
        "neighbour_ids": pa.ListArray.from_arrays(offsets, ids.take(pa.array(density.neighbours.reshape(-1)))),
        "neighbour_distances": pa.ListArray.from_arrays(offsets, pa.array(density.distances.astype(np.float32).reshape(-1))),
    })
    return density, rows


def select(
    vectors: np.ndarray, params: SelectionParams, density: Density | None = None, progress=None, *,
    groups: np.ndarray | None = None, quotas: np.ndarray | None = None, floors: np.ndarray | None = None,
    exclude: np.ndarray | None = None, weights: np.ndarray | None = None,
) -> Selection:  # fmt: skip
    """NovelSelect with these params; the mix controls are novel_select's (None: off)."""
    return novel_select(
        vectors, params.budget, k=params.k, kappa1=params.kappa1, kappa2=params.kappa2, variant=params.variant,
        random_state=params.seed, density=density, progress=progress, groups=groups, quotas=quotas,
        floors=floors, exclude=exclude, weights=weights,
    )


def selection_rows(task_ids: Sequence[str], selection: Selection) -> list[dict[str, Any]]:
    return [
        {
            "task_id": task_ids[i],
            "pick_step": step + 1,
            "novelty": float(selection.scores[step]),
            "weighted_novelty": float(selection.weighted_scores[step]),
            "contributor_ids": [task_ids[j] for j in selection.contributors[step] if j >= 0],
            "contributions": [float(v) for j, v in zip(selection.contributors[step], selection.contributions[step]) if j >= 0],
        }
        for step, i in enumerate(selection.order)
    ]


def _eligible(n: int, chosen: list[int], budget: int, groups, quotas, floors, exclude) -> np.ndarray:
    """Rows the next pick may come from: not picked, not excluded, group under its quota and, once the
    picks left are all owed to floors, below its floor (novel_select's rule, restated)."""
    ok = np.ones(n, dtype=bool) if exclude is None else ~np.asarray(exclude)
    ok[chosen] = False
    if groups is not None:
        limit = np.asarray(quotas if quotas is not None else np.full(len(floors), budget))
        count = np.bincount(np.asarray(groups)[chosen], minlength=len(limit))
        open_groups = count < limit
        if floors is not None:
            owed = np.maximum(np.asarray(floors) - count, 0)
            if owed.sum() == budget - len(chosen):
                open_groups &= owed > 0
        ok &= open_groups[groups]
    return ok


def first_picks_are_argmax(
    vectors: np.ndarray, sigma: np.ndarray, order: Sequence[int], params: SelectionParams, steps: int = 5, *,
    groups: np.ndarray | None = None, quotas: np.ndarray | None = None, floors: np.ndarray | None = None,
    exclude: np.ndarray | None = None, weights: np.ndarray | None = None,
) -> list[str]:  # fmt: skip
    """Teacher-forced float64 brute-force re-score of the first steps, with the mix controls the
    selection ran with: problems found (empty = fine)."""
    unit = unit_embeddings(vectors).astype(np.float64)
    weight = np.asarray(sigma, dtype=np.float64) ** params.kappa2
    multiplier = np.ones(len(unit)) if weights is None else np.asarray(weights, dtype=np.float64)
    problems = []
    for step in range(min(steps, len(order))):
        chosen = list(order[:step])
        eligible = _eligible(len(unit), chosen, len(order), groups, quotas, floors, exclude)
        if not eligible[order[step]]:
            problems.append(f"step {step + 1}: picked index {order[step]}, which was not eligible")
            continue
        if step == 0:  # the first pick is drawn at random among the eligible rows
            continue
        d = np.clip(1.0 - unit @ unit[chosen].T, 0.0, 2.0)
        scores = multiplier * candidate_scores(d, weight[chosen], weight, variant=params.variant, kappa1=params.kappa1)
        scores[~eligible] = -np.inf
        pick, best = order[step], scores.max()
        if scores[pick] < best - 1e-6 * abs(best):
            problems.append(f"step {step + 1}: picked score {scores[pick]:.6f} < best {best:.6f} (index {int(scores.argmax())})")
    return problems
