"""Density factors sigma(j) = 1 / sum_{k=1..K} d(j, N_k(j)) from the K nearest neighbours in the pool.

Exact duplicates (identical vectors, or distance exactly 0 in a precomputed matrix) are not
neighbours of each other: the pool is deduplicated before the kNN, as the authors' code does, and
every copy gets the density of its distinct vector. So sigma is finite whenever K is smaller than the
number of distinct samples (checked); a neighbour sum that rounds to zero is floored at MIN_NEIGHBOUR_SUM.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import faiss
import numpy as np

from planfusion.novelsum.validation import check_array, check_k, distance_matrix, unit_embeddings

MIN_NEIGHBOUR_SUM = 1e-9


@dataclass(frozen=True)
class Density:
    """sigma: (N,) density factors; neighbours: (N, K) pool indices of each sample's K nearest
    distinct neighbours (a duplicate group is represented by its first index); distances: (N, K)."""

    sigma: np.ndarray
    neighbours: np.ndarray
    distances: np.ndarray
    k: int


def check_density(density: Density, n_pool: int) -> Density:
    """density, checked to belong to a pool of n_pool samples: selection indexes sigma by pool index
    in compiled code, so the factors of another pool would be read out of bounds (fewer samples) or
    silently misaligned (more). sigma must be finite and > 0, distances finite and >= 0, and
    neighbours and distances (N, k) for the density's own k. Returns it with numpy arrays."""
    if not isinstance(density, Density):
        raise TypeError(f"density must be a Density (embedding_density(...)), got {type(density).__name__}")
    k = density.k
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"density.k must be an integer >= 1, got {k!r}")
    sigma = check_array(density.sigma, "density.sigma", (n_pool,), "(N,)", np.floating, "for this pool")
    pool_k = "for this pool and density.k"
    neighbours = check_array(density.neighbours, "density.neighbours", (n_pool, k), "(N, k)", np.integer, pool_k)
    distances = check_array(density.distances, "density.distances", (n_pool, k), "(N, k)", np.floating, pool_k)
    bad = ~(np.isfinite(sigma) & (sigma > 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"density.sigma must be finite and > 0, got {sigma[i]} at index {i}")
    bad = ~(np.isfinite(distances) & (distances >= 0))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(f"density.distances must be finite and >= 0, got {distances[i, j]} at ({i}, {j})")
    return Density(sigma=sigma, neighbours=neighbours, distances=distances, k=int(k))


def _sigma(distances: np.ndarray) -> np.ndarray:
    return 1.0 / np.maximum(distances.sum(axis=1, dtype=np.float64), MIN_NEIGHBOUR_SUM)


def distinct_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First index of every distinct row and, for each row, the position of its distinct row."""
    rows = np.ascontiguousarray(x).view(np.dtype((np.void, x.dtype.itemsize * x.shape[1]))).ravel()
    _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
    return first, inverse.ravel()


def embedding_density(embeddings: np.ndarray, k: int = 10, *, unit: bool = False) -> Density:
    """Exact kNN density on L2-normalised (N, D) embeddings with faiss's flat inner-product index.

    ``unit=True`` skips normalisation and checks for callers that already hold unit_embeddings(...).
    """
    x = embeddings if unit else unit_embeddings(embeddings)
    first, inverse = distinct_rows(x)
    k = check_k(k, len(first))
    distinct = np.ascontiguousarray(x[first])
    index = faiss.IndexFlatIP(distinct.shape[1])
    index.add(distinct)
    sims, ids = index.search(distinct, k + 1)
    # Drop each row's own entry; if ties pushed it out of the list, drop the farthest instead.
    own = ids == np.arange(len(distinct))[:, None]
    own[~own.any(axis=1), -1] = True
    keep = ~own
    nbr = ids[keep].reshape(len(distinct), k)
    dist = np.clip(1.0 - sims[keep].reshape(len(distinct), k), 0.0, 2.0)
    return Density(
        sigma=_sigma(dist)[inverse],
        neighbours=first[nbr][inverse].astype(np.int64),
        distances=dist[inverse].astype(np.float32),
        k=k,
    )


def precomputed_density(distances: np.ndarray, k: int = 10) -> Density:
    """kNN density from an (N, N) distance matrix; entries that are exactly 0 off the diagonal mark
    duplicates, which are not neighbours. The diagonal is self by definition, whatever rounding left
    there."""
    d = distance_matrix(distances)
    n = d.shape[0]
    masked = np.where(d > 0, d, np.inf)
    np.fill_diagonal(masked, np.inf)
    # distinct samples: each duplicate group counts once, named by its lowest index
    same = d == 0
    np.fill_diagonal(same, True)
    group = np.argmax(same, axis=1)
    check_k(k, len(np.unique(group)))
    # a duplicate group's members appear as separate neighbours: keep the first of each group
    order = np.argsort(masked, axis=1, kind="stable")
    neighbours = np.empty((n, k), dtype=np.int64)
    for i in range(n):
        seen: set[int] = set()
        picked = []
        for j in order[i]:
            if group[j] in seen or group[j] == group[i]:
                continue
            seen.add(group[j])
            picked.append(group[j])
            if len(picked) == k:
                break
        neighbours[i] = picked
    dist = np.take_along_axis(d, neighbours, axis=1)
    return Density(sigma=_sigma(dist), neighbours=neighbours, distances=dist, k=k)
