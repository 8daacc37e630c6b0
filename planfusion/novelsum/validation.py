"""Input checks shared by density, selection and scoring: bad input fails early with what and where."""

from __future__ import annotations

import numpy as np

VARIANTS: tuple[str, ...] = ("magicagent", "released")
METRICS: tuple[str, ...] = ("cosine", "precomputed")


def check_variant(variant: str) -> str:
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {', '.join(VARIANTS)}")
    return variant


def check_kappas(kappa1: float, kappa2: float) -> None:
    for name, value in (("kappa1", kappa1), ("kappa2", kappa2)):
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def check_budget(budget: int, n_pool: int) -> int:
    if int(budget) != budget or budget < 1:
        raise ValueError(f"budget must be an integer >= 1, got {budget!r}")
    if budget > n_pool:
        raise ValueError(f"budget {budget} is larger than the pool ({n_pool} samples)")
    return int(budget)


def check_k(k: int, n_distinct: int) -> int:
    if int(k) != k or k < 1:
        raise ValueError(f"K must be an integer >= 1, got {k!r}")
    if k >= n_distinct:
        raise ValueError(
            f"K={k} needs more than K distinct samples in the pool, but it has {n_distinct}"
        )
    return int(k)


def check_array(
    value: np.ndarray, name: str, shape: tuple[int, ...], dims: str, kind: type[np.generic], context: str = ""
) -> np.ndarray:
    """value as an array of dtype kind (np.floating, np.integer) and exactly this shape; dims names
    the axes ("(N, k)") and context where the lengths come from, so the message says which disagrees."""
    a = np.asarray(value)
    if not np.issubdtype(a.dtype, kind):
        raise TypeError(f"{name} must be a {kind.__name__} array, got dtype {a.dtype}")
    if a.shape != shape:
        raise ValueError(f"{name} must have shape {dims} = {shape}{' ' + context if context else ''}, got {a.shape}")
    return a


def unit_embeddings(embeddings: np.ndarray) -> np.ndarray:
    """Check an (N, D) embedding array and return it L2-normalised as C-contiguous float32."""
    x = np.asarray(embeddings)
    if x.ndim != 2:
        raise ValueError(f"embeddings must be a 2-D (N, D) array, got shape {x.shape}")
    if x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"embeddings must be non-empty, got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"embeddings must be numeric, got dtype {x.dtype}")
    x = x.astype(np.float32, copy=False)
    bad = ~np.isfinite(x).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise ValueError(f"embeddings contain NaN or infinite values in rows {rows[:10].tolist()}")
    norms = np.linalg.norm(x, axis=1)
    zero = norms == 0
    if zero.any():
        rows = np.flatnonzero(zero)
        raise ValueError(f"embeddings contain zero vectors (no direction) in rows {rows[:10].tolist()}")
    return np.ascontiguousarray(x / norms[:, None], dtype=np.float32)


def distance_matrix(distances: np.ndarray, *, atol: float = 1e-9) -> np.ndarray:
    """Check a precomputed (N, N) distance matrix: square, finite, symmetric, >= 0, zero diagonal."""
    d = np.asarray(distances, dtype=np.float64)
    if d.ndim != 2 or d.shape[0] != d.shape[1]:
        raise ValueError(f"a precomputed distance matrix must be square (N, N), got shape {d.shape}")
    if d.shape[0] < 1:
        raise ValueError("a precomputed distance matrix must be non-empty")
    if not np.isfinite(d).all():
        i, j = np.argwhere(~np.isfinite(d))[0]
        raise ValueError(f"distance matrix has a NaN or infinite value at ({i}, {j})")
    if (d < 0).any():
        i, j = np.argwhere(d < 0)[0]
        raise ValueError(f"distance matrix has a negative distance {d[i, j]} at ({i}, {j})")
    asym = np.abs(d - d.T) > atol
    if asym.any():
        i, j = np.argwhere(asym)[0]
        raise ValueError(f"distance matrix is not symmetric: d[{i},{j}]={d[i, j]} but d[{j},{i}]={d[j, i]}")
    if (np.abs(np.diag(d)) > atol).any():
        i = int(np.flatnonzero(np.abs(np.diag(d)) > atol)[0])
        raise ValueError(f"distance matrix must have a zero diagonal, d[{i},{i}]={d[i, i]}")
    return d


def _group_counts(value, name: str) -> np.ndarray:
    """A per-group count array: 1-D, integers >= 0."""
    a = np.asarray(value)
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array (G,) with one entry per group, got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"{name} must be an integer array (picks per group), got dtype {a.dtype}")
    if (a < 0).any():
        g = int(np.argmax(a < 0))
        raise ValueError(f"{name} must be >= 0, got {a[g]} for group {g}")
    return a.astype(np.int64)


def check_mix(
    n: int, budget: int, groups=None, quotas=None, floors=None, exclude=None, weights=None
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None, np.ndarray, np.ndarray | None]:
    """NovelSelect's mix controls, checked against a pool of n and the budget: (groups, quotas, floors,
    selectable, weights), with selectable the (N,) complement of exclude. The budget must be reachable:
    picks per group are limited by its quota and its selectable rows, and floors must fit the budget,
    the quota and the group's selectable rows; a selection that cannot meet them is refused before it starts."""
    if exclude is None:
        selectable = np.ones(n, dtype=bool)
    else:
        selectable = ~check_array(exclude, "exclude", (n,), "(N,)", np.bool_, "for this pool")
    if weights is not None:
        w = np.asarray(weights)
        if w.dtype == np.bool_ or not np.issubdtype(w.dtype, np.number):
            raise TypeError(f"weights must be a float array, got dtype {w.dtype}")
        w = check_array(w.astype(np.float64), "weights", (n,), "(N,)", np.floating, "for this pool")
        bad = ~(np.isfinite(w) & (w > 0) & (w <= 1))
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"weights must be in (0, 1], got {w[i]} at index {i}")
        weights = w
    if groups is None:
        if quotas is not None or floors is not None:
            raise ValueError("quotas and floors need groups: (N,) group labels")
        if selectable.sum() < budget:
            raise ValueError(f"exclude leaves {selectable.sum()} selectable samples, fewer than the budget {budget}")
        return None, None, None, selectable, weights
    if quotas is None and floors is None:
        raise ValueError("groups need quotas or floors (per group: the most or the fewest picks)")
    quotas = None if quotas is None else _group_counts(quotas, "quotas")
    floors = None if floors is None else _group_counts(floors, "floors")
    if quotas is not None and floors is not None and len(quotas) != len(floors):
        raise ValueError(f"quotas and floors must have one entry per group, got {len(quotas)} and {len(floors)}")
    n_groups = len(quotas if quotas is not None else floors)
    labels = np.asarray(groups)
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"groups must be an integer array (group labels), got dtype {labels.dtype}")
    labels = check_array(labels, "groups", (n,), "(N,)", np.integer, "for this pool").astype(np.int64)
    if n and (labels.min() < 0 or labels.max() >= n_groups):
        i = int(np.argmax((labels < 0) | (labels >= n_groups)))
        raise ValueError(f"groups must be labels in [0, {n_groups}) (one per quota), got {labels[i]} at index {i}")
    rows = np.bincount(labels[selectable], minlength=n_groups)
    reachable = rows if quotas is None else np.minimum(quotas, rows)
    if reachable.sum() < budget:
        raise ValueError(
            f"the quotas allow at most {reachable.sum()} picks (per group the smaller of its quota and its "
            f"selectable samples), fewer than the budget {budget}: raise the quotas or lower the budget"
        )
    if floors is not None:
        short = np.flatnonzero(floors > reachable)
        if len(short):
            g = int(short[0])
            raise ValueError(f"group {g} has a floor of {floors[g]} picks but its quota and selectable samples "
                             f"allow only {reachable[g]}")
        if floors.sum() > budget:
            raise ValueError(f"the floors add up to {floors.sum()} picks, more than the budget {budget}")
    return labels, quotas, floors, selectable, weights
