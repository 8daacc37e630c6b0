"""The selection report in the metadata of family_selection and fused_training_set: a markdown card with
the comparison against random, k-center and facility location, its figures, and every number as plain
metadata so Dagster plots it across materializations."""

from __future__ import annotations

import time
from typing import Any

import dagster as dg

from planfusion.report import ReportInputs, flat_metrics, markdown_card, render_plots
from planfusion.report.geometry import ISOLATION_NEIGHBOURS


def report_metadata(context: dg.AssetExecutionContext, inputs: ReportInputs | None) -> dict[str, Any]:
    """Metadata entries of the report of the just written selection (none for an empty selection)."""
    if inputs is None:
        return {}
    if len(inputs.embeddings) <= ISOLATION_NEIGHBOURS:
        return {"report": dg.MetadataValue.md(f"No selection report: the pool has {len(inputs.embeddings)} tasks, "
                                              f"its neighbour statistics need more than {ISOLATION_NEIGHBOURS}.")}
    start = time.perf_counter()
    report = inputs.report()
    card = markdown_card(report, render_plots(report))
    context.log.info(f"{inputs.name}: selection report in {time.perf_counter() - start:.1f}s")
    return {"report": dg.MetadataValue.md(card), **flat_metrics(report)}
