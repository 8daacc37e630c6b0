"""The report's metrics of one subset S of a pool (definitions: shared/reference/selection-report.md).
Each takes plain arrays: the subset's own embeddings, or pool-wide (N,) arrays and the picks (B,)
as pool indices. NovelSum is the project's ``planfusion.novelsum.novelsum`` with the pool's sigma."""

from __future__ import annotations

import numpy as np

from planfusion.novelsum.validation import unit_embeddings


def vendi_score(embeddings: np.ndarray) -> float:
    """exp(-sum l log l) over the nonzero eigenvalues l of K/B, K the (B, B) cosine kernel of the B
    rows of embeddings: 1 for identical items, B for orthogonal ones. When B exceeds the dimension D
    the (D, D) matrix X^T X / B is used instead: it has the same nonzero eigenvalues."""
    x = unit_embeddings(embeddings).astype(np.float64)
    x /= np.linalg.norm(x, axis=1, keepdims=True)  # unit in float64: K's diagonal is 1, its trace B
    b, d = x.shape
    gram = x @ x.T if b <= d else x.T @ x
    eigenvalues = np.linalg.eigvalsh(gram / b)
    eigenvalues = eigenvalues[eigenvalues > 0]
    return float(np.exp(-np.sum(eigenvalues * np.log(eigenvalues))))


def near_duplicate_pairs(embeddings: np.ndarray, threshold: float) -> int:
    """Pairs of rows of the (B, D) embeddings at cosine distance strictly below threshold."""
    x = unit_embeddings(embeddings)
    dist = np.clip(1.0 - x @ x.T, 0.0, 2.0)
    return int(np.count_nonzero(np.triu(dist < threshold, k=1)))


def coverage_summary(distances: np.ndarray, r: float) -> dict[str, float]:
    """Mean, 95th percentile (linear interpolation) and share <= r of the pool's (N,) distances to
    the nearest member of S."""
    return {
        "coverage_mean": float(distances.mean(dtype=np.float64)),
        "coverage_p95": float(np.percentile(distances, 95)),
        "coverage_within_r": float(np.mean(distances <= r)),
    }


def cell_coverage(cells: np.ndarray, picks: np.ndarray) -> float:
    """Share of the pool's cells (cells: (N,) a cell id per item) with at least one item in S."""
    return len(np.unique(cells[picks])) / len(np.unique(cells))


def shares(labels: np.ndarray, picks: np.ndarray) -> dict[str, tuple[float, float]]:
    """label -> (share of S, share of the pool), for every label of the (N,) pool labels."""
    names, pool_counts = np.unique(labels, return_counts=True)
    subset_counts = dict(zip(*np.unique(labels[picks], return_counts=True)))
    n, b = len(labels), len(picks)
    return {str(name): (int(subset_counts.get(name, 0)) / b, int(count) / n) for name, count in zip(names, pool_counts)}


def share_distance(labels: np.ndarray, picks: np.ndarray) -> float:
    """Total variation distance between the label shares of S and of the pool: 0 when S is
    proportional; the share of S that would have to change label to make it so."""
    return 0.5 * sum(abs(s - p) for s, p in shares(labels, picks).values())


def sparse_share(sparse: np.ndarray, picks: np.ndarray) -> float:
    """Share of S among the pool's sparse items (sparse: (N,) bool)."""
    return float(np.mean(sparse[picks]))
