"""Where a sample came from, how it was checked and why it was chosen: one chain per task, read from
the warehouse, plus the ``planfusion lineage`` command that prints it."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import duckdb

from planfusion import warehouse, warehouse_access


class UnknownTask(LookupError):
    """No raw task carries this id."""


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) and value[:1] in "{[" else value


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> dict[str, Any] | None:
    rows = warehouse.query(con, sql, params)
    return {k: _json(v) if k in ("params", "metrics") else v for k, v in rows[0].items()} if rows else None


def _pairs(ids: list[str] | None, values: list[float] | None, value_name: str) -> list[dict[str, Any]]:
    return [{"task_id": i, value_name: v} for i, v in zip(ids or [], values or [])]


def task_lineage(con: duckdb.DuckDBPyConnection, task_id: str) -> list[dict[str, Any]]:
    """The chain of one task id, one entry per family holding it (ids are unique per family, so
    normally exactly one). Stages the task never reached are None, e.g. ``embedding`` of a dropped task."""
    sources = warehouse.query(
        con,
        """SELECT family, subtype, source, generator, generator_version, master_seed, sample_index, sample_seed,
                  parent_id, perturbation, file_path, file_sha256, line_number, locations, content_hash, run_id,
                  code_version, params FROM raw_tasks WHERE task_id = ? ORDER BY family""",
        [task_id],
    )
    if not sources:
        raise UnknownTask(f"no task {task_id!r} in the warehouse (raw_tasks has no such id)")
    chains = []
    for source in sources:
        family = source.pop("family")
        key = [family, task_id]
        source["params"] = _json(source["params"])
        curation = _one(con, """SELECT kept, reason, detail, checks, tags, verified, metrics, run_id
                                FROM curated_tasks WHERE family = ? AND task_id = ?""", key)
        embedding = _one(con, """SELECT model_name, model_revision, embedding_scheme, text_hash, from_cache, run_id
                                 FROM task_embeddings WHERE family = ? AND task_id = ?""", key)
        density = _one(con, """SELECT sigma, k, neighbour_ids, neighbour_distances, run_id
                               FROM density_factors WHERE family = ? AND task_id = ?""", key)
        if density:
            density["neighbours"] = _pairs(density.pop("neighbour_ids"), density.pop("neighbour_distances"), "distance")
        picks = {}
        for stage, sql in (
            ("family_selection", """SELECT pick_step AS step, novelty, quality_weight, weighted_novelty,
                                           contributor_ids, contributions, variant, run_id, params
                                    FROM family_selection WHERE family = ? AND task_id = ?"""),
            ("fusion", """SELECT fusion_step AS step, novelty, quality_weight, weighted_novelty, contributor_ids,
                                 contributions, variant, sigma, exported, export_error, run_id, params
                          FROM fused_training_set WHERE family = ? AND task_id = ?"""),
        ):
            pick = _one(con, sql, key)
            if pick:
                pick["top_contributors"] = _pairs(pick.pop("contributor_ids"), pick.pop("contributions"), "contribution")
            picks[stage] = pick
        for stage, table in (("family_selection", "selection_exclusions"), ("fusion", "fusion_exclusions")):
            excluded = _one(con, f"SELECT sigma, reason, run_id FROM {table} WHERE family = ? AND task_id = ?", key)
            picks[f"{stage}_excluded"] = excluded
        chains.append({"task_id": task_id, "family": family, "source": source, "curation": curation,
                       "embedding": embedding, "density": density, **picks})
    return chains


def chosen_samples(con: duckdb.DuckDBPyConnection, family: str | None = None) -> list[dict[str, Any]]:
    """Every chosen sample of a family selection (family given) or of the fused set (None), in pick order,
    with the lineage a reader wants at a glance: source, verdict, sigma, family and fusion step, novelty
    and the contributors with their terms."""
    picks = ("SELECT family, task_id, pick_step AS family_step, NULL::INTEGER AS fusion_step, novelty, "
             "contributor_ids, contributions FROM family_selection WHERE family = ?"
             if family is not None else
             "SELECT f.family, f.task_id, s.pick_step AS family_step, f.fusion_step, f.novelty, f.contributor_ids, "
             "f.contributions FROM fused_training_set f LEFT JOIN family_selection s USING (family, task_id)")
    rows = warehouse.query(con, f"""
        WITH picks AS ({picks})
        SELECT p.*, r.source, r.generator, r.master_seed, r.sample_index, r.file_path, r.line_number,
               c.reason, c.verified, c.tags, d.sigma
        FROM picks p
        LEFT JOIN raw_tasks r USING (family, task_id)
        LEFT JOIN curated_tasks c USING (family, task_id)
        LEFT JOIN density_factors d USING (family, task_id)
        ORDER BY coalesce(p.fusion_step, p.family_step)""", [family] if family is not None else [])
    return [{
        "task_id": row["task_id"], "family": row["family"],
        "source": (f"{os.path.basename(row['file_path'])}:{row['line_number']}" if row["source"] == "file"
                   else f"{row['generator']} seed {row['master_seed']} #{row['sample_index']}"),
        "verdict": f"{row['reason']}{', verified' if row['verified'] else ''}"
                   + (f" [{', '.join(row['tags'])}]" if row["tags"] else ""),
        "sigma": row["sigma"], "family_step": row["family_step"], "fusion_step": row["fusion_step"],
        "novelty": row["novelty"],
        "contributors": ", ".join(f"{i} ({v:.3g})" for i, v in zip(row["contributor_ids"] or [], row["contributions"] or [])),
    } for row in rows]


def _source_line(source: dict[str, Any]) -> str:
    """The first place the task was found, then any other place the same task was read from."""
    elsewhere = source["locations"] or []
    if source["source"] == "file":
        text = f"file {source['file_path']} line {source['line_number']} (sha256 {source['file_sha256'][:12]})"
        elsewhere = elsewhere[1:]
    else:
        text = (f"generator {source['generator']} {source['generator_version']}, master seed {source['master_seed']}, "
                f"index {source['sample_index']}, sample seed {source['sample_seed']}")
    if source.get("perturbation"):
        text += f"; negative of {source['parent_id']} ({source['perturbation']})"
    return text + (f"; also in {', '.join(elsewhere)}" if elsewhere else "")


def _pick_lines(name: str, pick: dict[str, Any] | None, reached: bool, excluded: dict[str, Any] | None) -> list[str]:
    if pick is None:
        if excluded is not None:
            return [f"{name}: excluded: {excluded['reason']}   run {excluded['run_id']}"]
        return [f"{name}: not picked" if reached else f"{name}: not a candidate"]
    weight = pick.get("quality_weight")
    weighted = f", quality weight {weight:.3g}" if weight is not None and weight != 1.0 else ""
    lines = [f"{name}: step {pick['step']} ({pick['variant']}), novelty {pick['novelty']:.6g}{weighted}"
             f"   run {pick['run_id']}"]
    if pick.get("exported") is False:
        lines.append(f"  not exported: {pick['export_error']}")
    if not pick["top_contributors"]:
        lines.append("  first pick: no selected samples yet")
    lines += [f"  contributor {c['task_id']}  {c['contribution']:.6g}" for c in pick["top_contributors"]]
    return lines


def render(chain: dict[str, Any]) -> str:
    """Plain text for one chain, in pipeline order."""
    source, curation, embedding, density = chain["source"], chain["curation"], chain["embedding"], chain["density"]
    lines = [f"{chain['task_id']}  family {chain['family']}, subtype {source['subtype']}",
             f"source: {_source_line(source)}   run {source['run_id']}",
             f"content hash: {source['content_hash']}"]
    if curation is None:
        lines.append("curation: not curated yet")
    else:
        verdict = "kept" if curation["kept"] else f"dropped ({curation['reason']})"
        lines.append(f"curation: {verdict}; verified {curation['verified']}; tags {curation['tags'] or '-'}   "
                     f"run {curation['run_id']}")
        if curation["detail"]:
            lines.append(f"  {curation['detail']}")
    if embedding:
        lines.append(f"embedding: {embedding['model_name']} rev {embedding['model_revision']}, "
                     f"{embedding['embedding_scheme']}{' (from cache)' if embedding['from_cache'] else ''}"
                     f"   run {embedding['run_id']}")
    if density:
        lines.append(f"density: sigma {density['sigma']:.6g} from K={density['k']} neighbours   run {density['run_id']}")
        lines += [f"  neighbour {n['task_id']}  distance {n['distance']:.6g}" for n in density["neighbours"]]
    candidate = bool(curation and curation["kept"] and density)
    lines += _pick_lines("family selection", chain["family_selection"], candidate, chain["family_selection_excluded"])
    lines += _pick_lines("fusion", chain["fusion"], chain["family_selection"] is not None, chain["fusion_excluded"])
    return "\n".join(lines)


def register(subparsers: Any) -> None:
    cmd = subparsers.add_parser("lineage", help="where chosen samples came from, how they were checked, why chosen")
    cmd.add_argument("task_ids", nargs="+", metavar="TASK_ID")
    cmd.add_argument("--json", action="store_true", help="print every chain as one JSON list")
    cmd.add_argument("--db", default=os.environ.get("PLANFUSION_DB", warehouse.DEFAULT_DATABASE),
                     help="the DuckDB warehouse (default: $PLANFUSION_DB or %(default)s)")
    cmd.add_argument("--wait", type=float, default=warehouse_access.LOCK_TIMEOUT_S, metavar="SECONDS",
                     help="how long to wait while a run holds the warehouse (default: %(default)g)")
    cmd.set_defaults(run=_lineage)


def _lineage(args: argparse.Namespace) -> int:
    try:
        con = warehouse_access.open_for_command("lineage", args.db, args.wait)
    except warehouse_access.CommandError as exc:
        print(exc, file=sys.stderr)
        return 2
    chains, missing = [], []
    with con:
        for task_id in args.task_ids:
            try:
                chains += task_lineage(con, task_id)
            except UnknownTask as exc:
                missing.append(str(exc))
    if args.json:
        print(json.dumps(chains, indent=2, default=str))
    else:
        print("\n\n".join(render(chain) for chain in chains))
    for message in missing:
        print(f"planfusion lineage: {message}", file=sys.stderr)
    return 1 if missing else 0
