"""The report's figures as PNG bytes: small and readable, rendered with matplotlib's Agg canvas on
Figure objects (no pyplot, so no global state and no display needed)."""

from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from planfusion.report.compare import METRICS, SELECTORS, SelectionReport

DPI = 110
PALETTE = 128  # colours per PNG: the figures use a handful, plus anti-aliasing shades
COLOURS = {"pool": "#222222", "novelselect": "#d62728", "random": "#a8a8a8", "k_center": "#1f77b4",
           "facility_location": "#2ca02c"}
TITLES = {
    "projection": "pool projection (PCA) with the picks",
    "novelty": "novelty at pick",
    "shares": "shares in the selection vs the pool",
    "budget": "each metric against budget",
}
MAX_LEGEND = 12  # label colours in a legend; more are drawn without one


def render_plots(report: SelectionReport) -> dict[str, bytes]:
    """Figure key (TITLES) -> PNG bytes; figures without data (no novelty, no labels) are left out."""
    figures = {
        "projection": projection_figure(report),
        "novelty": novelty_figure(report),
        "shares": shares_figure(report),
        "budget": budget_figure(report),
    }
    return {key: png(figure) for key, figure in figures.items() if figure is not None}


def png(figure: Figure) -> bytes:
    """The figure drawn once (margins are set when it is made: cropping to the content draws twice),
    in PALETTE colours: a quarter of the bytes of a full-colour PNG, which matters as every card
    carries its figures into Dagster's event log."""
    figure.set_dpi(DPI)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    image = Image.fromarray(np.asarray(canvas.buffer_rgba())).convert("RGB")
    buffer = io.BytesIO()
    image.quantize(colors=PALETTE, method=Image.Quantize.FASTOCTREE).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def projection_figure(report: SelectionReport) -> Figure:
    """The pool on its first two principal axes (coloured by family, or subtype within one family),
    with NovelSelect's picks and facility location's (the coverage reference) side by side."""
    figure = Figure(figsize=(9.0, 4.0))
    axes = figure.subplots(1, 2, sharex=True, sharey=True)
    xy = report.projection
    labels = report.colours
    for ax, selector in zip(axes, ("novelselect", "facility_location")):
        if labels is None:
            ax.scatter(xy[:, 0], xy[:, 1], s=6, c="#bbbbbb", linewidths=0)
        else:
            for i, label in enumerate(np.unique(labels)):
                at = labels == label
                ax.scatter(xy[at, 0], xy[at, 1], s=7, color=f"C{i % 10}", alpha=0.6, linewidths=0, label=label)
        picks = report.orders[selector]
        ax.scatter(xy[picks, 0], xy[picks, 1], s=18, facecolors="none", edgecolors="black", linewidths=0.8,
                   label=f"picks ({len(picks)})")
        ax.set_title(f"{SELECTORS[selector]} picks", fontsize=10)
        ax.set_xlabel("PC 1", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].set_ylabel("PC 2", fontsize=8)
    if labels is None or len(np.unique(labels)) <= MAX_LEGEND:
        axes[1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), markerscale=1.5, frameon=False)
    figure.suptitle(f"{report.name}: pool of {report.n_pool}, {report.budget} picks", fontsize=10)
    figure.subplots_adjust(left=0.07, right=0.82, bottom=0.12, top=0.85, wspace=0.08)
    return figure


def novelty_figure(report: SelectionReport) -> Figure | None:
    """v(x | S) of each pick at its step (the first pick is random and scores 0, left out)."""
    if report.novelty is None or len(report.novelty) < 2:
        return None
    figure = Figure(figsize=(6.0, 3.2))
    ax = figure.subplots()
    steps = np.arange(2, len(report.novelty) + 1)
    ax.plot(steps, report.novelty[1:], color=COLOURS["novelselect"], linewidth=1.2)
    ax.set_xlabel("pick step", fontsize=8)
    ax.set_ylabel("novelty v(x | S) at pick", fontsize=8)
    ax.set_title(f"{report.name}: novelty at pick ({report.variant})", fontsize=10)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    figure.subplots_adjust(left=0.11, right=0.97, bottom=0.14, top=0.9)
    return figure


def shares_figure(report: SelectionReport) -> Figure | None:
    """Horizontal bars per label: the pool's share next to each selector's; one panel per label field
    with more than one label in the pool."""
    fields = [(field, table) for field, table in report.shares.items() if len(table) > 1]
    if not fields:
        return None
    heights = [max(2.0, 0.45 * len(table) + 1.0) for _, table in fields]
    longest = max(len(label) for _, table in fields for label in table)
    figure = Figure(figsize=(6.5, sum(heights)))
    figure.subplots_adjust(left=(0.25 + 0.06 * longest) / 6.5, right=1 - 1.45 / 6.5, bottom=0.5 / sum(heights),
                           top=1 - 0.35 / sum(heights), hspace=0.9 / max(heights))
    axes = np.atleast_1d(figure.subplots(len(fields), 1, gridspec_kw={"height_ratios": heights}))
    series = [("pool", "pool")] + list(SELECTORS.items())
    width = 0.8 / len(series)
    for ax, (field, table) in zip(axes, fields):
        labels = sorted(table)
        y = np.arange(len(labels))
        for i, (key, name) in enumerate(series):
            ax.barh(y + (i - (len(series) - 1) / 2) * width, [table[label][key] for label in labels], height=width,
                    color=COLOURS[key], label=name)
        ax.set_yticks(y, labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel(f"{field} share", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="x", alpha=0.3)
    axes[0].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    axes[0].set_title(f"{report.name}: shares at B = {report.budget} (random: mean of {report.n_seeds} seeds)",
                      fontsize=10)
    return figure


def budget_figure(report: SelectionReport) -> Figure:
    """Small multiples: each metric against budget for NovelSelect and the baselines (random: mean
    with a band of one standard deviation over the seeds)."""
    keys = list(report.metrics)
    columns = 4
    rows = -(-len(keys) // columns)
    figure = Figure(figsize=(10.0, 2.3 * rows + 0.4))
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    budgets = np.array(report.budgets)
    titles = {m.key: m.label + {"higher": " (↑ better)", "lower": " (↓ better)"}.get(m.better, "") for m in METRICS}
    for ax, key in zip(axes, keys):
        for selector in SELECTORS:
            values = report.values[selector][key]
            ax.plot(budgets, values, marker="o", markersize=3, linewidth=1.2, color=COLOURS[selector],
                    label=SELECTORS[selector])
            if selector == "random":
                sd = report.random_sd[key]
                ax.fill_between(budgets, values - sd, values + sd, color=COLOURS[selector], alpha=0.2, linewidth=0)
        ax.set_title(titles[key], fontsize=8)
        ax.locator_params(nbins=4)
        ax.tick_params(labelsize=6)
        ax.grid(alpha=0.3)
    for ax in axes[len(keys):]:
        ax.set_visible(False)
    for ax in axes[len(keys) - columns:len(keys)]:
        ax.set_xlabel("budget", fontsize=7)
    handles, names = axes[0].get_legend_handles_labels()
    top = 1 - 0.75 / figure.get_figheight()  # room for the title and the legend, in inches
    figure.legend(handles, names, loc="lower center", ncol=len(SELECTORS), fontsize=8, frameon=False,
                  bbox_to_anchor=(0.5, top + 0.2 / figure.get_figheight()))
    figure.suptitle(f"{report.name}: metrics against budget (pool {report.n_pool})", fontsize=10,
                    y=1 - 0.08 / figure.get_figheight())
    figure.subplots_adjust(left=0.06, right=0.98, bottom=0.45 / figure.get_figheight(), top=top, wspace=0.3,
                           hspace=0.5)
    return figure
