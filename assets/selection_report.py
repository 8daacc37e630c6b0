"""The selection report in the metadata of family_selection and fused_training_set: a markdown card with
the comparison against random, k-center and facility location, its figures, and every number as plain
metadata so Dagster plots it across materializations."""

from __future__ import annotations

import time
from typing import Any

import dagster as dg

from planfusion.report import ReportInputs, flat_metrics, markdown_card, render_plots
from planfusion.report.geometry import ISOLATION_NEIGHBOURS

# The report compares every pair of the pool's tasks (its geometry and baselines): about 25 s for 10,000
# tasks on 2 cores, and a hundred times that for 100,000. Beyond this pool size a run does not pay for it;
# `planfusion report` computes it on demand.
MAX_POOL = 20_000


def report_metadata(context: dg.AssetExecutionContext, inputs: ReportInputs | None,
                    max_pool: int = MAX_POOL) -> dict[str, Any]:
    """Metadata entries of the report of the just written selection (none for an empty selection)."""
    if inputs is None:
        return {}
    if len(inputs.embeddings) <= ISOLATION_NEIGHBOURS:
        return {"report": dg.MetadataValue.md(f"No selection report: the pool has {len(inputs.embeddings)} tasks, "
                                              f"its neighbour statistics need more than {ISOLATION_NEIGHBOURS}.")}
    if len(inputs.embeddings) > max_pool:
        which = "--fused" if inputs.name == "fused" else f"--family {inputs.name}"
        return {"report": dg.MetadataValue.md(
            f"No selection report in the run: the pool has {len(inputs.embeddings)} tasks, more than {max_pool}, "
            f"and the report compares every pair of them. `planfusion report {which}` computes it.")}
    start = time.perf_counter()
    report = inputs.report()
    card = markdown_card(report, render_plots(report))
    context.log.info(f"{inputs.name}: selection report in {time.perf_counter() - start:.1f}s")
    return {"report": dg.MetadataValue.md(card), **flat_metrics(report)}
