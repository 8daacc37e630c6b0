"""raw_tasks: the family's generated tasks plus every task file in inbox/<family>/."""

import time
from collections import Counter

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.resources import PipelinePaths
from assets.settings import PipelineSettingsResource, launchpad_config
from assets.spec import stage_asset
from assets.warehouse_io import connection, preview, provenance, table_metadata, with_provenance
from planfusion import tables, warehouse
from planfusion.stages.raw import raw_tasks as build_raw_tasks

GenerationConfig = launchpad_config("generation")


@stage_asset("raw_tasks", module=__name__, kinds={"duckdb", "python"}, check_specs=[
    dg.AssetCheckSpec("task_ids_unique", asset="raw_tasks", blocking=True,
                      description="task ids are unique within the family")])
def raw_tasks(context: dg.AssetExecutionContext, config: GenerationConfig, duckdb: DuckDBResource,
              paths: PipelinePaths, settings: PipelineSettingsResource) -> dg.MaterializeResult:
    """Generated tasks (seeded) and user task files; a malformed line becomes a row of
    ingest_rejections (file, line, reason) and never stops the rest."""
    family = context.partition_key
    params, overrides = settings.effective(context, "generation", config)
    start = time.perf_counter()
    raw = build_raw_tasks(family, n=params.n, seed=params.seed, params=params.params, inbox=paths.inbox,
                          negatives_every=params.negatives_every)
    built = time.perf_counter() - start
    context.log.info(f"{family}: {raw.counts()} in {built:.1f}s")
    for path, what in raw.skipped:
        context.log.warning(f"{path}: skipped, {what}: only regular files are task files")
    stamp = provenance(context, settings.lineage(params, overrides, inbox=paths.inbox))
    rows = with_provenance(raw.rows, family, stamp)
    with connection(duckdb) as con:
        warehouse.replace_rows(con, "raw_tasks", rows, family=family)
        warehouse.replace_rows(con, "ingest_rejections", with_provenance(raw.rejections, family, stamp), family=family)
        total = tables.count_rows(con, "raw_tasks")
        duplicates = tables.duplicate_task_ids(con, family)
        version = tables.data_version(con, "raw_tasks", family) + tables.data_version(con, "ingest_rejections", family)
    if not rows:
        context.log.warning(f"{family}: no tasks (n=0 and no inbox files): the family's later stages will be emptied")
    reasons = Counter(r["reason"].split(":")[0] for r in raw.rejections)
    return dg.MaterializeResult(
        data_version=dg.DataVersion(version),
        metadata=table_metadata("raw_tasks", len(rows), total, {
            **raw.counts(),
            "rejections_by_reason": dg.MetadataValue.json(dict(reasons)),
            "subtypes": dg.MetadataValue.json(dict(Counter(r["subtype"] for r in rows))),
            "files": dg.MetadataValue.json(raw.files),
            "skipped_inbox_entries": dg.MetadataValue.json([f"{path}: {what}" for path, what in raw.skipped]),
            "seconds": round(time.perf_counter() - start, 2),
            "tasks_per_second": round(len(rows) / max(built, 1e-9), 1),
            "parameters": dg.MetadataValue.json(stamp["params"]),
            "preview": preview(rows, ["task_id", "subtype", "source", "perturbation", "file_path", "line_number"]),
            "rejections_preview": preview(raw.rejections, ["file_path", "line_number", "field", "reason"]),
        }),
        check_results=[dg.AssetCheckResult(
            check_name="task_ids_unique", passed=not duplicates,
            metadata={"family": family, "duplicated_ids": dg.MetadataValue.json(duplicates)},
        )],
    )
