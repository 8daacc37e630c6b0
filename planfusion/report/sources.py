"""The report's inputs as the warehouse holds them: what each selection chose from, with the sigma,
picks and parameters it used, so the report recomputes its numbers from stored rows only.

- A family: its task_embeddings (the pool), density_factors' sigma, family_selection's pick order,
  novelty and parameters.
- The fusion: the union of the family selections, sigma recomputed on the union with the fusion's
  K (as fused_training_set's params record it, exactly as the fusion did), and the fused picks.
Categories: family, raw_tasks' subtype and the record's difficulty level ("?" when it has none).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import duckdb
import numpy as np

from planfusion import tables
from planfusion.novelsum import embedding_density
from planfusion.report.compare import SelectionReport, selection_report
from planfusion.report.inputs import Categories


@dataclass(frozen=True)
class ReportInputs:
    """One selection as stored: embeddings (N, D), sigma (N,), picks (B,) pool indices in pick order,
    novelty (B,), the selection's kappas and variant, and the pool's categories."""

    name: str
    embeddings: np.ndarray
    sigma: np.ndarray
    picks: np.ndarray
    novelty: np.ndarray
    kappa1: float
    kappa2: float
    variant: str
    categories: Categories

    def report(self, **options: Any) -> SelectionReport:
        """selection_report of these inputs; options: its keyword arguments (budgets, n_seeds, ...)."""
        return selection_report(self.embeddings, self.sigma, self.picks, kappa1=self.kappa1, kappa2=self.kappa2,
                                variant=self.variant, novelty=self.novelty, categories=self.categories,
                                name=self.name, **options)


class StaleSelection(ValueError):
    """The picks name tasks the pool does not hold: a stage was rewritten after the selection."""


def _positions(pool: Sequence[Any], picked: Sequence[Any], what: str) -> np.ndarray:
    position = {key: i for i, key in enumerate(pool)}
    missing = [key for key in picked if key not in position]
    if missing:
        raise StaleSelection(f"{what} picked {len(missing)} tasks that its pool does not hold (e.g. {missing[0]}): "
                             "rematerialize it")
    return np.array([position[key] for key in picked], dtype=np.int64)


def _categories(con: duckdb.DuckDBPyConnection, keys: Sequence[tuple[str, str]], family: str | None) -> Categories:
    found = tables.task_categories(con, family)
    subtype, level = zip(*(found.get(key, ("?", None)) for key in keys))
    return Categories(family=[f for f, _ in keys], subtype=list(subtype),
                      level=["?" if v is None else v for v in level])


def family_inputs(con: duckdb.DuckDBPyConnection, family: str) -> ReportInputs | None:
    """The family's selection, or None when it has none."""
    picks = tables.family_picks(con, family)
    if not picks:
        return None
    task_ids, vectors = tables.family_vectors(con, family)
    density = tables.family_density(con, family, task_ids)
    first = picks[0]
    return ReportInputs(
        name=family, embeddings=vectors, sigma=density.sigma,
        picks=_positions(task_ids, [p["task_id"] for p in picks], f"family_selection of {family}"),
        novelty=np.array([p["novelty"] for p in picks]), kappa1=first["kappa1"], kappa2=first["kappa2"],
        variant=first["variant"], categories=_categories(con, [(family, t) for t in task_ids], family),
    )


def fused_inputs(con: duckdb.DuckDBPyConnection) -> ReportInputs | None:
    """The fused set, or None when there is none."""
    picks = tables.fused_picks(con)
    if not picks:
        return None
    task_ids, families, vectors = tables.selected_vectors(con)
    params = picks[0]["params"]
    keys = list(zip(families, task_ids))
    return ReportInputs(
        name="fused", embeddings=vectors, sigma=embedding_density(vectors, params["k"]).sigma,
        picks=_positions(keys, [(p["family"], p["task_id"]) for p in picks], "fused_training_set"),
        novelty=np.array([p["novelty"] for p in picks]), kappa1=params["kappa1"], kappa2=params["kappa2"],
        variant=params["variant"], categories=_categories(con, keys, None),
    )
