"""``planfusion report``: the selection report of every family selection and of the fused set (or one
of them), recomputed from the warehouse, written as report.html plus one PNG per figure into the
exports folder, with the comparison printed. The warehouse is opened read-only and closed before the
work starts, so a run waiting to write is held up only for the reads."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import duckdb

from planfusion import tables, warehouse, warehouse_access
from planfusion.report.sources import ReportInputs, StaleSelection, family_inputs, fused_inputs

DEFAULT_EXPORTS = "warehouse/exports"


def register(subparsers: Any) -> None:
    cmd = subparsers.add_parser("report", help="the selection report: NovelSelect against random, k-center and "
                                               "facility location, as report.html and a table")
    cmd.add_argument("--db", default=os.environ.get("PLANFUSION_DB", warehouse.DEFAULT_DATABASE),
                     help="the DuckDB warehouse (default: $PLANFUSION_DB or %(default)s)")
    which = cmd.add_mutually_exclusive_group()
    which.add_argument("--family", help="only this family's selection")
    which.add_argument("--fused", action="store_true", help="only the fused training set")
    cmd.add_argument("--out", default=os.environ.get("PLANFUSION_EXPORTS", DEFAULT_EXPORTS),
                     help="folder for report.html and the PNGs (default: $PLANFUSION_EXPORTS or %(default)s)")
    cmd.add_argument("--wait", type=float, default=warehouse_access.LOCK_TIMEOUT_S, metavar="SECONDS",
                     help="how long to wait while a run holds the warehouse (default: %(default)g)")
    cmd.set_defaults(run=_report)


def read_inputs(con: duckdb.DuckDBPyConnection, family: str | None, fused: bool) -> list[ReportInputs]:
    """The selections asked for that the warehouse holds: families (all, or the one named), then the fusion."""
    families = [] if fused else [family] if family else tables.selected_families(con)
    found = [family_inputs(con, f) for f in families]
    if not family:
        found.append(fused_inputs(con))
    return [inputs for inputs in found if inputs is not None]


def _report(args: argparse.Namespace) -> int:
    try:
        con = warehouse_access.open_for_command("report", args.db, args.wait)
    except warehouse_access.CommandError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        with con:
            selections = read_inputs(con, args.family, args.fused)
    except StaleSelection as exc:
        print(f"planfusion report: {exc}", file=sys.stderr)
        return 1
    if not selections:
        what = f"family {args.family!r}" if args.family else "the fused set" if args.fused else "any family"
        print(f"planfusion report: no selection of {what} in {args.db}: materialize the pipeline first",
              file=sys.stderr)
        return 1
    from planfusion.report.card import html_page, text_table  # matplotlib loads only for this command
    from planfusion.report.plots import render_plots

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    reports, images = [], []
    for inputs in selections:
        report = inputs.report()
        figures = render_plots(report)
        for key, image in figures.items():
            (out / f"report-{report.name}-{key}.png").write_bytes(image)
        reports.append(report)
        images.append(figures)
        print(text_table(report), end="\n\n")
    page = out / "report.html"
    page.write_text(html_page(reports, images), encoding="utf-8")
    print(f"wrote {page}")
    return 0
