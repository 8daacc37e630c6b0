"""The BASELINE for bench/novelselect.py: NovelSelect by the obvious exact method. Not for use.

At every step it recomputes every unselected candidate's score against all selected samples from
the embeddings: distances from a fresh (N, t) matmul against the t picks so far (columns in pick
order), then ``planfusion.novelsum.scoring.candidate_scores`` (the single score definition, so the
baseline and planfusion cannot disagree on what a score is), then argmax with the lowest index on
ties. Cost O(N * B^2 * (D + log B)): what the reference calls the obvious exact method.

Distances are computed like planfusion's selector computes them: float32 inner products of the
L2-normalised embeddings, 1 - cos clipped to [0, 2]; scoring is float64 (inside candidate_scores).
The density factors are an input: this baseline is about selection, not the kNN.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from planfusion.novelsum.scoring import candidate_scores
from planfusion.novelsum.validation import check_budget, check_kappas, check_variant, unit_embeddings


def naive_novel_select(
    embeddings: np.ndarray,
    budget: int,
    sigma: np.ndarray,
    *,
    first: int,
    kappa1: float = 1.0,
    kappa2: float = 0.5,
    variant: str = "magicagent",
    progress: Callable[[int, int, float], None] | None = None,
) -> np.ndarray:
    """(budget,) pool indices in pick order. embeddings: (N, D); sigma: (N,) density factors of the
    pool; first: the first pick (every score is 0 while S is empty)."""
    check_variant(variant)
    check_kappas(kappa1, kappa2)
    x = unit_embeddings(embeddings)
    n = x.shape[0]
    budget = check_budget(budget, n)
    weight = np.asarray(sigma, dtype=np.float64) ** kappa2  # sigma^kappa2
    order = np.empty(budget, dtype=np.int64)
    available = np.ones(n, dtype=bool)
    order[0] = first
    available[first] = False
    start = time.perf_counter()
    for t in range(1, budget):
        picks = order[:t]
        candidates = np.flatnonzero(available)  # ascending, so argmax's first maximum is the lowest index
        dist = np.clip(1.0 - x[candidates] @ x[picks].T, 0.0, 2.0)  # fresh (N - t, t) every step
        scores = candidate_scores(dist, weight[picks], weight[candidates], variant=variant, kappa1=kappa1)
        pick = int(candidates[int(np.argmax(scores))])
        order[t] = pick
        available[pick] = False
        if progress is not None:
            progress(t + 1, budget, time.perf_counter() - start)
    return order
