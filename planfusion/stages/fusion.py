"""Stage 6: NovelSelect over the union of the family selections, density recomputed on the union (the
training files are written by ``planfusion.export``)."""

from __future__ import annotations

from collections import Counter
from typing import Any, Mapping, Sequence

import numpy as np

from planfusion.novelsum import embedding_density, novelsum
from planfusion.stages.mix import family_mix, outlier_guard
from planfusion.stages.selection import SelectionParams, first_picks_are_argmax, select, selection_rows


def fuse(
    task_ids: Sequence[str], families: Sequence[str], vectors: np.ndarray, params: SelectionParams, *,
    shares: str | Mapping[str, float] = "free", floors: Mapping[str, int] | None = None,
    exclude_sparsest: float = 0.0, weights: np.ndarray | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:  # fmt: skip
    """Rows of the fused set in pick order, and a report: family shares and NovelSum of the fused set
    against a random subset of the same size and against the whole union (same sigma for all three).

    Mix controls (#13; these keyword defaults are Eq. 1 over the union; the pipeline's settings default
    to shares "pool", README "Mix controls"): shares "free" | "pool" |
    "equal" | {family: share} and floors {family: minimum picks} (planfusion.stages.mix.family_mix);
    exclude_sparsest: keep the union's sparsest share by sigma out of the fused set (outlier_guard);
    weights: (N,) quality weights in (0, 1] multiplying each task's novelty (mix.quality_weights).
    The budget is capped at the tasks left selectable. Each row also carries its quality weight and
    weighted novelty; the report says what was excluded and why, the quotas and floors used, and
    whether the first picks are the arg-max of a brute-force re-score under the same constraints."""
    params = params.for_pool(len(task_ids))
    density = embedding_density(vectors, params.k)
    guard = outlier_guard(density.sigma, exclude_sparsest)
    params = params.for_pool(len(task_ids), int((~guard.mask).sum()))
    mix = family_mix(families, params.budget, shares, floors, ~guard.mask)
    controls = mix.constraints() | {"exclude": guard.mask if guard.mask.any() else None, "weights": weights}
    selection = select(vectors, params, density, **controls)
    rows = selection_rows(task_ids, selection)
    for row, i in zip(rows, selection.order):
        row["family"] = families[i]
        row["sigma"] = float(density.sigma[i])
        row["quality_weight"] = 1.0 if weights is None else float(weights[i])
        row["fusion_step"] = row.pop("pick_step")
    chosen = selection.order
    random = np.random.default_rng(params.seed).choice(len(task_ids), len(chosen), replace=False)
    score = lambda idx: novelsum(vectors[idx], density.sigma[idx], kappa1=params.kappa1, kappa2=params.kappa2)
    shares_fused = Counter(families[i] for i in chosen)
    pool = Counter(families)
    report = {
        "budget": params.budget,
        "k": params.k,
        "pool": len(task_ids),
        "family_counts": dict(sorted(shares_fused.items())),
        "family_shares": {f: round(c / len(chosen), 4) for f, c in sorted(shares_fused.items())},
        "pool_family_counts": dict(sorted(pool.items())),
        "pool_family_shares": {f: round(c / len(task_ids), 4) for f, c in sorted(pool.items())},
        "shares": shares if isinstance(shares, str) else "explicit",
        "target_shares": mix.target_shares,
        "quotas": None if mix.quotas is None else dict(zip(mix.families, mix.quotas.tolist())),
        "floors": None if mix.floors is None else dict(zip(mix.families, mix.floors.tolist())),
        "exclude_sparsest": exclude_sparsest,
        "excluded": guard.rows(task_ids, density.sigma, families),
        "quality_weighted": weights is not None,
        "mean_quality_weight": None if weights is None else {
            "pool": _means(weights, families, range(len(task_ids))), "fused": _means(weights, families, chosen)},
        "exactness_problems": first_picks_are_argmax(vectors, density.sigma, chosen, params, **controls),
        "novelsum_fused": score(chosen),
        "novelsum_random": score(random),
        "novelsum_union": score(np.arange(len(task_ids))),
    }
    return rows, report


def _means(weights: np.ndarray, families: Sequence[str], rows) -> dict[str, float]:
    by_family: dict[str, list[float]] = {}
    for i in rows:
        by_family.setdefault(families[i], []).append(float(weights[i]))
    return {f: round(float(np.mean(w)), 4) for f, w in sorted(by_family.items())}
