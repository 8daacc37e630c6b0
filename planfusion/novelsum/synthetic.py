"""Clustered synthetic embeddings with uneven density: the built-in data set for the demo, the
benchmark and the tests (uniform noise alone hides the density factor's effect)."""

from __future__ import annotations

import numpy as np


def clustered_embeddings(
    n: int,
    dim: int = 384,
    *,
    n_clusters: int = 50,
    random_state: int | np.random.Generator = 0,
) -> np.ndarray:
    """(n, dim) float32 unit vectors: clusters of Zipf-like sizes and spreads from tight to loose,
    plus 5% background noise."""
    rng = np.random.default_rng(random_state)
    sizes = 1.0 / np.arange(1, n_clusters + 1) ** 0.8
    n_noise = n // 20
    counts = rng.multinomial(n - n_noise, sizes / sizes.sum())
    centres = rng.standard_normal((n_clusters, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    spreads = rng.uniform(0.05, 0.6, n_clusters)
    labels = np.repeat(np.arange(n_clusters), counts)
    x = centres[labels] + rng.standard_normal((len(labels), dim)) * (spreads[labels, None] / np.sqrt(dim))
    x = np.vstack([x, rng.standard_normal((n_noise, dim))])
    x = x[rng.permutation(n)]
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
