"""Dataset-level NovelSum: sum over x in X of v(x | X \\ {x}) in the magicagent form, a diversity
score for reports. sigma must come from the pool the set was drawn from, so that a selection, a
random subset of the same size and the pool itself are scored on the same scale."""

from __future__ import annotations

import numpy as np

from planfusion.novelsum.scoring import rank_weights
from planfusion.novelsum.validation import check_kappas, unit_embeddings

ROWS_PER_CHUNK = 512


def novelsum(
    embeddings: np.ndarray,
    sigma: np.ndarray,
    *,
    kappa1: float = 1.0,
    kappa2: float = 0.5,
) -> float:
    """NovelSum of the set X. embeddings: (M, D) the members of X; sigma: (M,) their density
    factors computed on the pool. Memory grows with ROWS_PER_CHUNK * M, time with M^2 (D + log M)."""
    check_kappas(kappa1, kappa2)
    x = unit_embeddings(embeddings)
    sigma = np.asarray(sigma, dtype=np.float64)
    if sigma.shape != (x.shape[0],):
        raise ValueError(f"sigma must have shape ({x.shape[0]},) to match the embeddings, got {sigma.shape}")
    m = x.shape[0]
    if m < 2:
        return 0.0
    weight = sigma**kappa2
    total = 0.0
    for lo in range(0, m, ROWS_PER_CHUNK):
        hi = min(lo + ROWS_PER_CHUNK, m)
        d = np.clip(1.0 - x[lo:hi] @ x.T, 0.0, 2.0).astype(np.float64)
        # each x is scored against X without itself: drop its own column
        rows = np.arange(hi - lo)
        others = np.ones((hi - lo, m), dtype=bool)
        others[rows, rows + lo] = False
        d_others = d[others].reshape(hi - lo, m - 1)
        w_others = np.broadcast_to(weight, (hi - lo, m))[others].reshape(hi - lo, m - 1)
        total += float(_row_sums(d_others, w_others, kappa1).sum())
    return total


def _row_sums(d: np.ndarray, w: np.ndarray, kappa1: float) -> np.ndarray:
    """magicagent sums where each row has its own weights (its 'selected set' is X minus itself)."""
    order = np.argsort(d, axis=1, kind="stable")
    return np.take_along_axis(d * w, order, axis=1) @ rank_weights(d.shape[1], kappa1)
