"""The mix controls side by side (#13): the selection report of each family selection and of the fused set
under each fusion-share mode, outlier guard and quality weighting, on one materialized warehouse.

    PYTHONPATH=. .venv/bin/python bench/mix_modes.py [--db warehouse/planfusion.duckdb] [--config planfusion.yaml]
                                                     [--seeds 5] [--json out.json]

Inputs: a warehouse that `planfusion up` filled (task_embeddings, density_factors, curated_tasks, raw_tasks of
every family); the config's budgets, K, kappas and variant. Everything else is set per row, from the paper's
Eq. 1 with every mix control off, whatever the config's mix controls say:

- family rows: NovelSelect on the family's kept tasks with the stored sigma (the stored family_selection when
  the config's selection settings are Eq. 1: checked), alone, with the outlier guard (the sparsest 5% by sigma
  kept out), or with quality weighting;
- fused rows: the union of the three family selections (Eq. 1, or with the family guard where the row says so),
  sigma recomputed on the union with fusion.k, then planfusion.stages.fusion.fuse with the row's shares, guard
  and weighting; the report on that union exactly as `planfusion report --fused` computes it;
- baseline rows (random: mean ± sd over 5 seeds, k-center, facility location) on the family pools and on the
  Eq. 1 union; the guarded unions differ from it in at most a few tasks per family.

Columns (definitions in the README's selection report section): NovelSum (NovelSelect's objective), Vendi,
coverage mean (facility location's) and p95 (k-center's), share of the pool within r, cell coverage, family
shares (d/s/t = decomposition/scheduling/tool_execution) and their distance from the pool's (TV), sparse share
(picks among the pool's 5% most isolated; random about 5%), near-duplicate pairs, and the picks' mean quality
weight (planfusion.stages.mix.quality_weights, computed for every row, whether it selected with them or not).

--figure PATH writes the stored fused set's report figures (its `planfusion report --fused` projection above its
metrics against budget) as one PNG: docs/report-fused.png is this, on the default pipeline.

--seeds N > 1 adds a second table: the fused rows' metrics as mean ± sd over selection and fusion seeds
0..N-1 (seed s is the first pick of every family selection and of the fusion), so a difference between two
modes can be read against the noise of the first random pick.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # measure the checkout this script is in, whatever is installed

from planfusion import tables, warehouse  # noqa: E402
from planfusion.novelsum import embedding_density  # noqa: E402
from planfusion.report import Categories, selection_report  # noqa: E402
from planfusion.report.compare import SelectionReport  # noqa: E402
from planfusion.settings import PipelineSettings, load_settings  # noqa: E402
from planfusion.stages.fusion import fuse  # noqa: E402
from planfusion.stages.mix import outlier_guard, quality_weights  # noqa: E402
from planfusion.stages.selection import SelectionParams, select  # noqa: E402

GUARD = 0.05
FAMILY_VARIANTS: dict[str, dict[str, Any]] = {
    "Eq. 1": {},
    "guard 5%": {"exclude_sparsest": GUARD},
    "quality": {"quality_weighting": True},
}
# name -> (family selection controls, fusion controls)
FUSED_MODES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "free (Eq. 1)": ({}, {}),
    "pool": ({}, {"shares": "pool"}),
    "equal": ({}, {"shares": "equal"}),
    "free + guard 5%": ({}, {"exclude_sparsest": GUARD}),
    "free + quality": ({}, {"quality_weighting": True}),
    "pool + guard 5%": ({}, {"shares": "pool", "exclude_sparsest": GUARD}),
    "pool + guard + quality": ({}, {"shares": "pool", "exclude_sparsest": GUARD, "quality_weighting": True}),
    "pool, family guard 5%": ({"exclude_sparsest": GUARD}, {"shares": "pool"}),
    "pool + guard, family guard": ({"exclude_sparsest": GUARD}, {"shares": "pool", "exclude_sparsest": GUARD}),
}
FAMILY_ABBREVIATIONS = {"decomposition": "d", "scheduling": "s", "tool_execution": "t"}
BASELINES = {"random": "random", "k_center": "k-center", "facility_location": "facility location"}
Key = tuple[str, str]  # (family, task id)


@dataclass
class FamilyPool:
    family: str
    task_ids: list[str]
    vectors: np.ndarray
    density: Any
    categories: Categories
    weights: np.ndarray  # quality weights of every kept task

    def select(self, params: SelectionParams, controls: dict[str, Any]) -> np.ndarray:
        guard = outlier_guard(self.density.sigma, controls.get("exclude_sparsest", 0.0))
        params = params.for_pool(len(self.task_ids), int((~guard.mask).sum()))
        selection = select(self.vectors, params, self.density, exclude=guard.mask if guard.mask.any() else None,
                           weights=self.weights if controls.get("quality_weighting") else None)
        return selection.order


@dataclass
class Row:
    section: str
    name: str
    pool: int
    budget: int
    values: dict[str, float]
    random_sd: dict[str, float] = field(default_factory=dict)
    shares: dict[str, float] = field(default_factory=dict)  # family -> share of the picks


def read_pools(con, settings: PipelineSettings) -> dict[str, FamilyPool]:
    pools = {}
    for family in tables.selected_families(con):
        task_ids, vectors = tables.family_vectors(con, family)
        density = tables.family_density(con, family, task_ids)
        found = tables.task_categories(con, family)
        subtype, level = zip(*(found[(family, t)] for t in task_ids))
        categories = Categories(family=[family] * len(task_ids), subtype=list(subtype),
                                level=["?" if v is None else v for v in level])
        weights = quality_weights(tables.quality_signals(con, [(family, t) for t in task_ids]))
        pools[family] = FamilyPool(family, task_ids, vectors, density, categories, weights)
    return pools


def row_of(report: SelectionReport, section: str, name: str, selector: str, weights: np.ndarray) -> Row:
    order = report.orders[selector]
    values = {m: report.at_budget(selector, m) for m in report.metrics}
    values["quality_weight"] = float(weights[order].mean()) if selector != "random" else float(weights.mean())
    row = Row(section, name, report.n_pool, report.budget, values,
              {m: float(report.random_sd[m][-1]) for m in report.metrics} if selector == "random" else {})
    if len(report.shares.get("family", {})) > 1:
        row.shares = {f: report.shares["family"][f][selector] for f in sorted(report.shares["family"])}
    return row


def family_rows(pools: dict[str, FamilyPool], settings: PipelineSettings, con) -> list[Row]:
    s = settings.selection
    params = SelectionParams(s.budget, settings.density.k, s.kappa1, s.kappa2, s.variant, s.seed)
    rows = []
    for family, pool in pools.items():
        for name, controls in FAMILY_VARIANTS.items():
            order = pool.select(params, controls)
            if name == "Eq. 1" and not (s.exclude_sparsest or s.quality_weighting):
                stored = [p["task_id"] for p in tables.family_picks(con, family)]
                if stored != [pool.task_ids[i] for i in order]:
                    raise SystemExit(f"{family}: recomputed Eq. 1 selection differs from the stored one: "
                                     "rematerialize the family or check the settings file")
            report = selection_report(pool.vectors, pool.density.sigma, order, kappa1=s.kappa1, kappa2=s.kappa2,
                                      variant=s.variant, categories=pool.categories, name=family)
            rows.append(row_of(report, family, name, "novelselect", pool.weights))
            if name == "Eq. 1":
                baselines = [row_of(report, family, label, key, pool.weights) for key, label in BASELINES.items()]
        rows += baselines
    return rows


def fused_report(pools: dict[str, FamilyPool], settings: PipelineSettings, family_controls: dict[str, Any],
                 fusion_controls: dict[str, Any], seed: int) -> tuple[SelectionReport, np.ndarray, list[Key]]:
    """The fusion of this mode at this seed: its report, the union's quality weights and (family, task id)s."""
    s, f = settings.selection, settings.fusion
    family_params = SelectionParams(s.budget, settings.density.k, s.kappa1, s.kappa2, s.variant, seed)
    keys, vectors, subtype, level, weights = [], [], [], [], []
    for family, pool in pools.items():
        order = pool.select(family_params, family_controls)
        keys += [(family, pool.task_ids[i]) for i in order]
        vectors.append(pool.vectors[order])
        subtype += [pool.categories.subtype[i] for i in order]
        level += [pool.categories.level[i] for i in order]
        weights.append(pool.weights[order])
    position = sorted(range(len(keys)), key=lambda i: keys[i][1])  # by task id, as tables.selected_vectors reads
    keys = [keys[i] for i in position]
    vectors, weights = np.concatenate(vectors)[position], np.concatenate(weights)[position]
    families = np.array([k[0] for k in keys])
    categories = Categories(family=list(families), subtype=[subtype[i] for i in position],
                            level=[level[i] for i in position])
    params = SelectionParams(f.budget, f.k, f.kappa1, f.kappa2, f.variant, seed)
    rows, _ = fuse([k[1] for k in keys], list(families), vectors, params, shares=fusion_controls.get("shares", "free"),
                   exclude_sparsest=fusion_controls.get("exclude_sparsest", 0.0),
                   weights=weights if fusion_controls.get("quality_weighting") else None)
    index = {(k[0], k[1]): i for i, k in enumerate(keys)}
    picks = np.array([index[(r["family"], r["task_id"])] for r in rows])
    sigma = embedding_density(vectors, f.k).sigma  # as fuse and `planfusion report --fused` compute it
    report = selection_report(vectors, sigma, picks, kappa1=f.kappa1, kappa2=f.kappa2, variant=f.variant,
                              novelty=[r["novelty"] for r in rows], categories=categories, name="fused")
    return report, weights, keys


def fused_rows(pools: dict[str, FamilyPool], settings: PipelineSettings, con) -> tuple[list[Row], list[str]]:
    """The fused rows with the Eq. 1 union's baselines, and the modes whose fusion is the stored one."""
    rows, stored_is = [], []
    stored = [(p["family"], p["task_id"]) for p in tables.fused_picks(con)]
    for name, (family_controls, fusion_controls) in FUSED_MODES.items():
        report, weights, keys = fused_report(pools, settings, family_controls, fusion_controls, settings.fusion.seed)
        rows.append(row_of(report, "fused", name, "novelselect", weights))
        if name == "free (Eq. 1)":
            baselines = [row_of(report, "fused", label, key, weights) for key, label in BASELINES.items()]
        if stored == [keys[i] for i in report.orders["novelselect"]]:
            stored_is.append(name)
    return rows + baselines, stored_is


def seed_rows(pools: dict[str, FamilyPool], settings: PipelineSettings, seeds: int) -> list[Row]:
    """Fused rows and baselines as mean ± sd over seeds 0..seeds-1."""
    collected: dict[str, list[Row]] = {}
    for seed in range(seeds):
        for name, (family_controls, fusion_controls) in FUSED_MODES.items():
            report, weights, _ = fused_report(pools, settings, family_controls, fusion_controls, seed)
            collected.setdefault(name, []).append(row_of(report, "seeds", name, "novelselect", weights))
            if name == "free (Eq. 1)":
                for key, label in BASELINES.items():
                    collected.setdefault(label, []).append(row_of(report, "seeds", label, key, weights))
    rows = []
    for name, found in collected.items():
        keys = found[0].values.keys()
        values = {k: float(np.mean([r.values[k] for r in found])) for k in keys}
        sd = {k: float(np.std([r.values[k] for r in found], ddof=1)) for k in keys}
        shares = {f: float(np.mean([r.shares[f] for r in found])) for f in found[0].shares}
        rows.append(Row("seeds", name, found[0].pool, found[0].budget, values, sd, shares))
    return rows


COLUMNS = [  # header, metric key, format
    ("NovelSum", "novelsum", "{:.1f}"),
    ("Vendi", "vendi", "{:.1f}"),
    ("cov mean", "coverage_mean", "{:.3f}"),
    ("cov p95", "coverage_p95", "{:.3f}"),
    ("within r", "coverage_within_r", "{:.0%}"),
    ("cells", "cell_coverage", "{:.0%}"),
    ("subtype TV", "subtype_share_tv", "{:.3f}"),
    ("family TV", "family_share_tv", "{:.3f}"),
    ("sparse", "sparse_share", "{:.0%}"),
    ("near-dup", "near_duplicate_pairs", "{:.0f}"),
    ("q weight", "quality_weight", "{:.3f}"),
]


def render(rows: list[Row], with_sd: bool, markdown: bool) -> str:
    header = ["selection", "pool", "B", *(c[0] for c in COLUMNS), "d/s/t %"]
    table = []
    for row in rows:
        cells = [f"{row.section}: {row.name}", str(row.pool), str(row.budget)]
        for _, key, form in COLUMNS:
            if key not in row.values:
                cells.append("")
                continue
            text = form.format(row.values[key])
            if key in row.random_sd and (with_sd or row.name == "random"):
                sd = row.random_sd[key]
                sd_text = f"{100 * sd:.1f}" if "%" in form else form.format(sd)
                text += " ± " + (sd_text[1:] if sd_text.startswith("0.") and "%" not in form else sd_text)
            cells.append(text)
        cells.append("/".join(f"{100 * v:.0f}" for v in row.shares.values()) if row.shares else "")
        table.append(cells)
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in table])
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
                     for r in [header, *table])


def write_figure(con, path: str) -> None:
    """The stored fused set's projection above its metrics against budget, one palette PNG."""
    from PIL import Image

    from planfusion.report import fused_inputs, render_plots
    from planfusion.report.plots import PALETTE

    images = render_plots(fused_inputs(con).report())
    parts = [Image.open(io.BytesIO(images[key])).convert("RGB") for key in ("projection", "budget")]
    width = max(p.width for p in parts)
    out = Image.new("RGB", (width, sum(p.height for p in parts)), "white")
    top = 0
    for part in parts:
        out.paste(part, ((width - part.width) // 2, top))
        top += part.height
    out.quantize(colors=PALETTE, method=Image.Quantize.FASTOCTREE).save(path, optimize=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="warehouse/planfusion.duckdb")
    parser.add_argument("--config", default=str(ROOT / "planfusion.yaml"),
                        help="settings file for budgets, K, kappas, variant and seeds (its mix controls are ignored)")
    parser.add_argument("--seeds", type=int, default=5, help="seeds of the robustness table (1: none)")
    parser.add_argument("--markdown", action="store_true", help="tables in markdown")
    parser.add_argument("--json", help="write every row's numbers here")
    parser.add_argument("--figure", help="write the stored fused set's report figures here as one PNG")
    args = parser.parse_args()
    settings = load_settings(args.config, environ={})
    start = time.perf_counter()
    with warehouse.connect(args.db, read_only=True) as con:
        pools = read_pools(con, settings)
        revision = {f: tables.embedding_revision(con, f) for f in pools}
        scheme = con.execute("SELECT any_value(embedding_scheme) FROM task_embeddings").fetchone()[0]
        generation = con.execute("SELECT any_value(params) FROM raw_tasks").fetchone()[0]
        fused, stored_is = fused_rows(pools, settings, con)
        rows = family_rows(pools, settings, con) + fused
        if args.figure:
            write_figure(con, args.figure)
    s, f = settings.selection, settings.fusion
    print(f"warehouse {args.db}: kept tasks {', '.join(f'{k} {len(p.task_ids)}' for k, p in pools.items())}; "
          f"raw_tasks params {generation}")
    print(f"embeddings: {scheme}, model revision {sorted(set(revision.values()))}")
    print(f"family selection: B = {s.budget}, K = {settings.density.k} (stored sigma), kappa1 {s.kappa1:g}, "
          f"kappa2 {s.kappa2:g}, {s.variant}, seed {s.seed}; fusion: B = {f.budget}, K = {f.k} (sigma on the "
          f"union), kappa1 {f.kappa1:g}, kappa2 {f.kappa2:g}, {f.variant}, seed {f.seed}; guard = sparsest "
          f"{GUARD:.0%} by sigma; random: mean ± sd over 5 seeds")
    print(f"stored fused_training_set: the fusion of {' = '.join(stored_is) or 'none of the rows'}\n")
    print(render(rows, with_sd=False, markdown=args.markdown))
    seeded = []
    if args.seeds > 1:
        seeded = seed_rows(pools, settings, args.seeds)
        print(f"\nfused rows over selection and fusion seeds 0..{args.seeds - 1}: mean ± sd")
        print(render(seeded, with_sd=True, markdown=args.markdown))
    print(f"\n{time.perf_counter() - start:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps([vars(r) for r in rows + seeded], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
