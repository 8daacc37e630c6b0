"""Stage 6: NovelSelect over the union of the family selections, density recomputed on the union (the
training files are written by ``planfusion.export``)."""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

import numpy as np

from planfusion.novelsum import embedding_density, novelsum
from planfusion.stages.selection import SelectionParams, select, selection_rows


def fuse(
    task_ids: Sequence[str], families: Sequence[str], vectors: np.ndarray, params: SelectionParams
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows of the fused set in pick order, and a report: family shares and NovelSum of the fused set
    against a random subset of the same size and against the whole union (same sigma for all three)."""
    params = params.for_pool(len(task_ids))
    density = embedding_density(vectors, params.k)
    selection = select(vectors, params, density)
    rows = selection_rows(task_ids, selection)
    for row, i in zip(rows, selection.order):
        row["family"] = families[i]
        row["sigma"] = float(density.sigma[i])
        row["fusion_step"] = row.pop("pick_step")
    chosen = selection.order
    random = np.random.default_rng(params.seed).choice(len(task_ids), len(chosen), replace=False)
    score = lambda idx: novelsum(vectors[idx], density.sigma[idx], kappa1=params.kappa1, kappa2=params.kappa2)
    shares = Counter(families[i] for i in chosen)
    report = {
        "budget": params.budget,
        "k": params.k,
        "pool": len(task_ids),
        "family_counts": dict(sorted(shares.items())),
        "family_shares": {f: round(c / len(chosen), 4) for f, c in sorted(shares.items())},
        "novelsum_fused": score(chosen),
        "novelsum_random": score(random),
        "novelsum_union": score(np.arange(len(task_ids))),
    }
    return rows, report
