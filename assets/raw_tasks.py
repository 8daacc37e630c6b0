"""raw_tasks: the family's generated tasks plus every task file in inbox/<family>/."""

import json
import time
from collections import Counter

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.partitions import family_partitions
from assets.resources import PipelinePaths
from assets.warehouse_io import POOL, RETRY, connection, count_rows, preview, provenance, table_metadata, with_provenance
from planfusion import warehouse
from planfusion.stages.raw import raw_tasks as build_raw_tasks

CODE_VERSION = "1"


class RawTasksConfig(dg.Config):
    """Editable in the launchpad. params_json: generator knobs as JSON, e.g. {"levels": [2, 4]};
    negatives_every: add one seeded negative (a perturbed copy) per that many generated tasks, 0 for none,
    so curation shows what it catches."""

    n: int = 500
    seed: int = 0
    params_json: str = "{}"
    negatives_every: int = 10


@dg.asset(
    partitions_def=family_partitions,
    pool=POOL,
    retry_policy=RETRY,
    code_version=CODE_VERSION,
    group_name="planfusion",
    kinds={"duckdb", "python"},
    check_specs=[dg.AssetCheckSpec("task_ids_unique", asset="raw_tasks", blocking=True,
                                   description="task ids are unique within the family")],
)
def raw_tasks(
    context: dg.AssetExecutionContext, config: RawTasksConfig, duckdb: DuckDBResource, paths: PipelinePaths
) -> dg.MaterializeResult:
    """Generated tasks (seeded) and user task files; a malformed line becomes a row of
    ingest_rejections (file, line, reason) and never stops the rest."""
    family = context.partition_key
    try:
        params = json.loads(config.params_json or "{}")
    except json.JSONDecodeError as e:
        raise dg.Failure(f"raw_tasks config params_json is not valid JSON: {e}") from None
    start = time.perf_counter()
    raw = build_raw_tasks(family, n=config.n, seed=config.seed, params=params, inbox=paths.inbox,
                          negatives_every=config.negatives_every)
    built = time.perf_counter() - start
    context.log.info(f"{family}: {raw.counts()} in {built:.1f}s")
    stamp = provenance(context, CODE_VERSION, {"n": config.n, "seed": config.seed, "params": params,
                                               "negatives_every": config.negatives_every, "inbox": paths.inbox})
    rows = with_provenance(raw.rows, family, stamp)
    with connection(duckdb) as con:
        warehouse.replace_rows(con, "raw_tasks", rows, family=family)
        warehouse.replace_rows(con, "ingest_rejections", with_provenance(raw.rejections, family, stamp), family=family)
        total = count_rows(con, "raw_tasks")
        duplicates = con.execute(
            "SELECT task_id, count(*) AS n FROM raw_tasks WHERE family = ? GROUP BY task_id HAVING n > 1 LIMIT 5",
            [family],
        ).fetchall()
    reasons = Counter(r["reason"].split(":")[0] for r in raw.rejections)
    return dg.MaterializeResult(
        metadata=table_metadata("raw_tasks", len(rows), total, {
            **raw.counts(),
            "rejections_by_reason": dg.MetadataValue.json(dict(reasons)),
            "subtypes": dg.MetadataValue.json(dict(Counter(r["subtype"] for r in rows))),
            "files": dg.MetadataValue.json(raw.files),
            "seconds": round(time.perf_counter() - start, 2),
            "tasks_per_second": round(len(rows) / max(built, 1e-9), 1),
            "parameters": dg.MetadataValue.json(stamp["params"]),
            "preview": preview(rows, ["task_id", "subtype", "source", "perturbation", "file_path", "line_number"]),
            "rejections_preview": preview(raw.rejections, ["file_path", "line_number", "field", "reason"]),
        }),
        check_results=[dg.AssetCheckResult(
            check_name="task_ids_unique", passed=not duplicates,
            metadata={"duplicated_ids": dg.MetadataValue.json([d[0] for d in duplicates])},
        )],
    )
