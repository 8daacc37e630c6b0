"""The novelty score v(x | S) of candidates against a selected set, exactly as defined in
``shared/reference/novelsum.md``; the single definition that the selector, the explain command
and the pipeline's checks share.

    magicagent: v = sum_j  rank_x(j)^-kappa1 * sigma(j)^kappa2 * d(x, j),  rank by increasing d(x, j)
    released:   v = mean_j r^-kappa1 * (sigma(x)^kappa2 + sigma(j)^kappa2) * d(x, j),  r ranks those terms

Ties in the ranking key are broken by pick order (the earlier pick gets the smaller rank).
Shapes: distances (M, t) with columns in pick order; density_selected (t,) = sigma(j)^kappa2;
density_candidates (M,) = sigma(x)^kappa2.
"""

from __future__ import annotations

import numpy as np


def rank_weights(t: int, kappa1: float) -> np.ndarray:
    """r^(-kappa1) for r = 1..t."""
    return np.arange(1, t + 1, dtype=np.float64) ** -float(kappa1)


def _terms_and_keys(distances, density_selected, density_candidates, variant):
    d = np.asarray(distances, dtype=np.float64)
    ws = np.asarray(density_selected, dtype=np.float64)[None, :]
    if variant == "magicagent":
        return d * ws, d
    terms = (np.asarray(density_candidates, dtype=np.float64)[:, None] + ws) * d
    return terms, terms


def score_sums(distances, density_selected, density_candidates, *, variant: str, kappa1: float) -> np.ndarray:
    """(M,) sums of the rank-weighted terms (the released score before its division by t)."""
    terms, keys = _terms_and_keys(distances, density_selected, density_candidates, variant)
    if terms.shape[1] == 0:
        return np.zeros(terms.shape[0])
    ranked = np.take_along_axis(terms, np.argsort(keys, axis=1, kind="stable"), axis=1)
    return ranked @ rank_weights(terms.shape[1], kappa1)


def candidate_scores(distances, density_selected, density_candidates, *, variant: str, kappa1: float) -> np.ndarray:
    """(M,) novelty scores v(x | S)."""
    sums = score_sums(distances, density_selected, density_candidates, variant=variant, kappa1=kappa1)
    t = np.shape(distances)[1]
    return sums / t if variant == "released" and t else sums


def ranked_terms(distances, density_selected, density_candidates, *, variant: str, kappa1: float) -> np.ndarray:
    """(M, t) each selected sample's weighted term in each candidate's score (row sums give
    score_sums): which selected samples made a candidate novel."""
    terms, keys = _terms_and_keys(distances, density_selected, density_candidates, variant)
    m, t = terms.shape
    order = np.argsort(keys, axis=1, kind="stable")
    weighted = np.empty((m, t))
    ranked = np.take_along_axis(terms, order, axis=1) * rank_weights(t, kappa1)
    np.put_along_axis(weighted, order, ranked, axis=1)
    return weighted / t if variant == "released" and t else weighted
