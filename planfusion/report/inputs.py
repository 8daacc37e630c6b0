"""Checks of the report's inputs. A report is only meaningful when the embeddings, sigma, picks and
labels describe the same pool, so each argument is checked against it and a mismatch names the
argument (the sigma of another pool or the picks of another family are the usual mistakes)."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from planfusion.novelsum.validation import check_array, unit_embeddings


@dataclass(frozen=True)
class Categories:
    """Labels of the pool's items, each (N,): family, and optionally subtype and difficulty level.
    Any hashable values; they are compared and shown as strings."""

    family: Sequence[Any]
    subtype: Sequence[Any] | None = None
    level: Sequence[Any] | None = None

    def fields(self) -> dict[str, np.ndarray]:
        """The labels given, by name, as (N,) string arrays."""
        given = {"family": self.family, "subtype": self.subtype, "level": self.level}
        return {name: np.array([str(v) for v in values]) for name, values in given.items() if values is not None}


def check_pool(embeddings: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) unit float32 embeddings and (N,) float64 sigma, finite and > 0."""
    unit = unit_embeddings(embeddings)
    sigma = check_array(sigma, "sigma", (unit.shape[0],), "(N,)", np.floating, "to match the embeddings")
    sigma = np.asarray(sigma, dtype=np.float64)
    bad = ~(np.isfinite(sigma) & (sigma > 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"sigma must be finite and > 0, got {sigma[i]} at index {i}")
    return unit, sigma


def check_picks(picks: Sequence[int] | np.ndarray, n_pool: int, name: str = "picks") -> np.ndarray:
    """(B,) int64 distinct pool indices in pick order, B >= 1."""
    a = np.asarray(picks)
    if a.ndim != 1 or len(a) < 1:
        raise ValueError(f"{name} must be a non-empty 1-D array of pool indices (B,), got shape {a.shape}")
    if not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"{name} must hold integer pool indices, got dtype {a.dtype}")
    a = a.astype(np.int64)
    out = (a < 0) | (a >= n_pool)
    if out.any():
        raise ValueError(f"{name} must be pool indices in [0, {n_pool}), got {a[out][:5].tolist()}")
    if len(np.unique(a)) != len(a):
        raise ValueError(f"{name} must not repeat an index")
    return a


def check_novelty(novelty: Sequence[float] | np.ndarray | None, budget: int) -> np.ndarray | None:
    """(B,) float64 novelty at pick, one per pick, or None."""
    if novelty is None:
        return None
    a = check_array(novelty, "novelty", (budget,), "(B,)", np.number, "to match the picks")
    return np.asarray(a, dtype=np.float64)


def check_categories(categories: Categories | None, n_pool: int) -> dict[str, np.ndarray]:
    """The labels given, by name, each (N,) strings; empty without categories."""
    if categories is None:
        return {}
    if not isinstance(categories, Categories):
        raise TypeError(f"categories must be a Categories, got {type(categories).__name__}")
    fields = categories.fields()
    for name, values in fields.items():
        if values.shape != (n_pool,):
            raise ValueError(f"categories.{name} must have one label per pool item ({n_pool},), got {values.shape}")
    return fields


def check_budgets(budgets: Sequence[int] | None, budget: int, default: list[int]) -> tuple[int, ...]:
    """Sorted distinct budgets in [1, budget], ending with budget itself."""
    if budgets is None:
        budgets = default
    values = []
    for b in budgets:
        if isinstance(b, bool) or not isinstance(b, numbers.Integral) or not 1 <= b <= budget:
            raise ValueError(f"budgets must be integers in [1, {budget}] (the selection's size), got {b!r}")
        values.append(int(b))
    return tuple(sorted(set(values) | {budget}))
