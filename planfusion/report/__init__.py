"""The selection report (issue #13): NovelSelect's picks against uniform random, k-center greedy and
facility location of the same size on the same pool, metric by metric and against budget, as a
markdown card, an HTML page, PNG figures and a flat dict of numbers. Definitions:
shared/reference/selection-report.md. A pure library: arrays in (or warehouse rows via sources),
no Dagster.

Modules: inputs (checks, Categories), geometry (the pool's neighbours, coverage), metrics, baselines,
compare (selection_report, SelectionReport), plots, card, sources (warehouse reads), command (CLI).
The names below load their module when first used, so the CLI does not import matplotlib for
commands that draw nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Categories": "inputs",
    "SelectionReport": "compare",
    "selection_report": "compare",
    "render_plots": "plots",
    "markdown_card": "card",
    "html_page": "card",
    "text_table": "card",
    "flat_metrics": "card",
    "ReportInputs": "sources",
    "family_inputs": "sources",
    "fused_inputs": "sources",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
