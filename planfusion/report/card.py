"""The report for people and for Dagster: a markdown card (tables, a one-line reading, the figures
inline as data URLs, which Dagster's markdown metadata renders), a standalone HTML page with the same
content, a plain-text table for the terminal, and a flat dict of numbers to plot across
materializations. Numbers are rounded for reading here; the dict keeps them whole."""

from __future__ import annotations

import base64
import html
from typing import Sequence

import numpy as np

from planfusion.report.compare import METRICS, SELECTORS, SelectionReport
from planfusion.report.plots import TITLES, render_plots

PERCENT = {"coverage_within_r", "cell_coverage", "sparse_share"}
DECIMALS = {"novelsum": 1, "vendi": 1, "coverage_mean": 3, "coverage_p95": 3, "family_share_tv": 3,
            "subtype_share_tv": 3, "near_duplicate_pairs": 0}
READ = ("novelsum", "vendi", "coverage_mean", "coverage_p95", "cell_coverage", "near_duplicate_pairs")
OBJECTIVES_NOTE = ("Whose objective: NovelSum is NovelSelect's own, coverage mean facility location's, coverage p95 "
                   "k-center's (it minimises the largest distance); Vendi, share within r, cells, shares, sparse share "
                   "and near-duplicates are nobody's, so judge on those too.")
BY_KEY = {m.key: m for m in METRICS}


def fmt(metric: str, value: float, mean: bool = False) -> str:
    """A value for reading: percentages with one decimal, counts whole (a mean over seeds with one)."""
    if metric in PERCENT:
        return f"{100 * value:.1f}%"
    decimals = DECIMALS[metric] + (1 if mean and BY_KEY[metric].count else 0)
    return f"{value:.{decimals}f}"


def summary_rows(report: SelectionReport) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the comparison at B: one row per metric, the best value marked with *."""
    header = ["metric", "NovelSelect", f"random (mean ± sd, {report.n_seeds} seeds)", "k-center", "facility location",
              "better", "objective of"]
    rows = []
    for key in report.metrics:
        metric = BY_KEY[key]
        values = {s: report.at_budget(s, key) for s in SELECTORS}
        best = _best(metric.better, values)
        cells = {s: fmt(key, v, mean=s == "random") + (" *" if s in best else "") for s, v in values.items()}
        cells["random"] += f" ± {fmt(key, float(report.random_sd[key][-1]), mean=True)}"
        rows.append([metric.label, cells["novelselect"], cells["random"], cells["k_center"], cells["facility_location"],
                     metric.better or "neither", SELECTORS.get(metric.objective_of, "—")])
    return header, rows


def share_rows(report: SelectionReport, field: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the field's shares: each label's share of the pool and of each selection."""
    header = [field, "pool", *SELECTORS.values()]
    table = report.shares[field]
    rows = [[label, *(f"{100 * table[label][key]:.1f}%" for key in ("pool", *SELECTORS))] for label in sorted(table)]
    return header, rows


def _best(better: str, values: dict[str, float]) -> set[str]:
    if better not in ("higher", "lower"):
        return set()
    target = max(values.values()) if better == "higher" else min(values.values())
    return {s for s, v in values.items() if v == target}


def interpretation(report: SelectionReport) -> str:
    """One line: NovelSelect against the random mean on the main metrics, saying better or worse."""
    parts = []
    for key in READ:
        if key not in report.metrics:
            continue
        metric = BY_KEY[key]
        ours, random = report.at_budget("novelselect", key), report.at_budget("random", key)
        verdict = "same" if np.isclose(ours, random, rtol=1e-9, atol=1e-12) else (
            "better" if (ours > random) == (metric.better == "higher") else "worse")
        if key in PERCENT or metric.count or not random:
            parts.append(f"{metric.label} {fmt(key, ours)} vs {fmt(key, random, mean=True)} random ({verdict})")
        else:
            change = 100 * (ours - random) / abs(random)
            signed = f"{change:+.1f}%".replace("-", "−")
            parts.append(f"{metric.label} {signed} vs random ({verdict})")
    highest = max(SELECTORS, key=lambda s: report.at_budget(s, "vendi"))
    parts.append(f"highest Vendi: {SELECTORS[highest]}")
    return "; ".join(parts) + "."


def _context(report: SelectionReport) -> str:
    stats = report.pool_stats
    cells = f", {stats['cells']} ({', '.join(report.cell_fields)}) cells" if stats["cells"] else ""
    return (f"Pool {report.n_pool}, B = {report.budget} ({100 * report.budget / report.n_pool:.0f}% of the pool); "
            f"NovelSelect {report.variant}, kappa1 {report.kappa1:g}, kappa2 {report.kappa2:g}. Baselines on the same "
            f"pool and B: random ({report.n_seeds} seeds), k-center (same first pick), facility location (exact greedy). "
            f"r = {stats['r']:.3f} (median distance to the 5th neighbour); near-duplicates: distance < "
            f"{stats['duplicate_distance']:.3f} (the pool's 5th-percentile nearest-neighbour distance); sparse: the "
            f"{stats['sparse_items']} most isolated items{cells}. * marks the best value. Computed in "
            f"{report.seconds['total']:.1f} s.")


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _data_url(image: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(image).decode("ascii")


def markdown_card(report: SelectionReport, images: dict[str, bytes] | None = None) -> str:
    """The summary card in markdown, figures inline (images: render_plots(report), made if None)."""
    images = render_plots(report) if images is None else images
    parts = [f"#### Selection report: {report.name}", _context(report), f"**{interpretation(report)}**",
             _markdown_table(*summary_rows(report)), OBJECTIVES_NOTE]
    parts += [_markdown_table(*share_rows(report, field)) for field, table in report.shares.items() if len(table) > 1]
    parts += [f"![{TITLES[key]}]({_data_url(image)})" for key, image in images.items()]
    return "\n\n".join(parts) + "\n"


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}th,td{border:1px solid #ccc;padding:4px 8px}
td:not(:first-child){text-align:right}th{background:#f3f3f3}img{max-width:100%;display:block;margin:1em 0}
p.reading{font-weight:600}"""


def html_page(reports: Sequence[SelectionReport], images: Sequence[dict[str, bytes]] | None = None,
              title: str = "planfusion selection report") -> str:
    """A standalone page (images inline) with one section per report; images[i]: render_plots(reports[i])."""
    images = [render_plots(r) for r in reports] if images is None else images
    sections = []
    for report, figures in zip(reports, images):
        parts = [f"<h2>{html.escape(report.name)}</h2>", f"<p>{html.escape(_context(report))}</p>",
                 f'<p class="reading">{html.escape(interpretation(report))}</p>', _html_table(*summary_rows(report)),
                 f"<p>{html.escape(OBJECTIVES_NOTE)}</p>"]
        parts += [_html_table(*share_rows(report, field)) for field, table in report.shares.items() if len(table) > 1]
        parts += [f'<img alt="{html.escape(TITLES[key])}" src="{_data_url(image)}">' for key, image in figures.items()]
        sections.append("<section>" + "\n".join(parts) + "</section>")
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head>\n<body><h1>{html.escape(title)}</h1>\n" + "\n".join(sections)
            + "\n</body></html>\n")


def text_table(report: SelectionReport) -> str:
    """The comparison at B for a terminal: context line, aligned columns, the reading."""
    header, rows = summary_rows(report)
    table = [header[:5]] + [row[:5] for row in rows]
    widths = [max(len(row[i]) for row in table) for i in range(5)]
    lines = [f"== {report.name}: pool {report.n_pool}, B = {report.budget}, NovelSelect {report.variant} =="]
    lines += ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
              for row in table]
    lines.append(interpretation(report))
    return "\n".join(lines)


def flat_metrics(report: SelectionReport) -> dict[str, float]:
    """Plain numbers keyed report/<metric> (NovelSelect at B), report/<metric>_<baseline> (random as
    _random_mean and _random_sd), report/<field>_share/<label> and _share_pool/<label>, and the
    pool's constants: for Dagster to plot across materializations."""
    out: dict[str, float] = {"report/pool": report.n_pool, "report/budget": report.budget,
                             "report/r": report.pool_stats["r"],
                             "report/duplicate_distance": report.pool_stats["duplicate_distance"],
                             "report/seconds": round(report.seconds["total"], 3)}
    for key in report.metrics:
        out[f"report/{key}"] = report.at_budget("novelselect", key)
        out[f"report/{key}_random_mean"] = report.at_budget("random", key)
        out[f"report/{key}_random_sd"] = float(report.random_sd[key][-1])
        out[f"report/{key}_k_center"] = report.at_budget("k_center", key)
        out[f"report/{key}_facility_location"] = report.at_budget("facility_location", key)
    for field, table in report.shares.items():
        for label, shares in table.items():
            out[f"report/{field}_share/{label}"] = shares["novelselect"]
            out[f"report/{field}_share_pool/{label}"] = shares["pool"]
    return out
