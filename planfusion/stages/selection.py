"""Stages 4 and 5: density factors and NovelSelect per family, as warehouse rows."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Sequence

import numpy as np

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

    def for_pool(self, n_pool: int) -> "SelectionParams":
        """The budget capped at the pool (a small family gives all it has); K must stay below the pool."""
        if not 1 <= self.k < n_pool:
            raise ValueError(f"k={self.k} needs a pool of more than {self.k} tasks, got {n_pool}")
        return replace(self, budget=min(self.budget, n_pool))


def density_rows(task_ids: Sequence[str], vectors: np.ndarray, k: int) -> tuple[Density, list[dict[str, Any]]]:
    density = embedding_density(vectors, k)
    rows = [
        {
            "task_id": task_ids[i],
            "sigma": float(density.sigma[i]),
            "k": density.k,
            "neighbour_ids": [task_ids[j] for j in density.neighbours[i]],
            "neighbour_distances": density.distances[i].astype(float).tolist(),
        }
        for i in range(len(task_ids))
    ]
    return density, rows


def density_from_rows(task_ids: Sequence[str], rows: Sequence[dict[str, Any]]) -> Density:
    """Rebuild the Density of a pool from stored density_factors rows (same order as task_ids)."""
    position = {t: i for i, t in enumerate(task_ids)}
    by_id = {row["task_id"]: row for row in rows}
    missing = [t for t in task_ids if t not in by_id]
    if missing:
        raise ValueError(f"no density factor for {len(missing)} tasks, e.g. {missing[:3]}: rematerialize density_factors")
    ordered = [by_id[t] for t in task_ids]
    return Density(
        sigma=np.array([r["sigma"] for r in ordered]),
        neighbours=np.array([[position.get(n, -1) for n in r["neighbour_ids"]] for r in ordered]),
        distances=np.array([r["neighbour_distances"] for r in ordered], dtype=np.float32),
        k=int(ordered[0]["k"]),
    )


def select(vectors: np.ndarray, params: SelectionParams, density: Density | None = None, progress=None) -> Selection:
    return novel_select(
        vectors, params.budget, k=params.k, kappa1=params.kappa1, kappa2=params.kappa2, variant=params.variant,
        random_state=params.seed, density=density, progress=progress,
    )


def selection_rows(task_ids: Sequence[str], selection: Selection) -> list[dict[str, Any]]:
    return [
        {
            "task_id": task_ids[i],
            "pick_step": step + 1,
            "novelty": float(selection.scores[step]),
            "contributor_ids": [task_ids[j] for j in selection.contributors[step] if j >= 0],
            "contributions": [float(v) for j, v in zip(selection.contributors[step], selection.contributions[step]) if j >= 0],
        }
        for step, i in enumerate(selection.order)
    ]


def first_picks_are_argmax(
    vectors: np.ndarray, sigma: np.ndarray, order: Sequence[int], params: SelectionParams, steps: int = 5
) -> list[str]:
    """Teacher-forced float64 brute-force re-score of the first steps: problems found (empty = fine)."""
    unit = unit_embeddings(vectors).astype(np.float64)
    weight = np.asarray(sigma, dtype=np.float64) ** params.kappa2
    problems = []
    for step in range(1, min(steps, len(order))):
        chosen = list(order[:step])
        d = np.clip(1.0 - unit @ unit[chosen].T, 0.0, 2.0)
        scores = candidate_scores(d, weight[chosen], weight, variant=params.variant, kappa1=params.kappa1)
        scores[chosen] = -np.inf
        pick, best = order[step], scores.max()
        if scores[pick] < best - 1e-6 * abs(best):
            problems.append(f"step {step + 1}: picked score {scores[pick]:.6f} < best {best:.6f} (index {int(scores.argmax())})")
    return problems
