"""raw_tasks: the family's generated tasks plus every task file in inbox/<family>/."""

import time
from collections import Counter

import dagster as dg
from duckdb import DuckDBPyConnection
from dagster_duckdb import DuckDBResource

from assets.resources import PipelinePaths
from assets.settings import PipelineSettingsResource, launchpad_config
from assets.spec import stage_asset
from assets.stage_inputs import check, check_results, code_version, remember, reused
from assets.warehouse_io import connection, preview, progress_due, provenance, table_metadata, with_provenance
from planfusion import reuse, tables, warehouse
from planfusion.stages.raw import RawTasks, inbox_entries, raw_batches
from planfusion.tasks.ingest import file_fingerprint

GenerationConfig = launchpad_config("generation")


def _version(con: DuckDBPyConnection, family: str) -> str:
    return tables.data_version(con, "raw_tasks", family) + tables.data_version(con, "ingest_rejections", family)


@stage_asset("raw_tasks", module=__name__, kinds={"duckdb", "python"}, check_specs=[
    dg.AssetCheckSpec("task_ids_unique", asset="raw_tasks", blocking=True,
                      description="task ids are unique within the family")])
def raw_tasks(context: dg.AssetExecutionContext, config: GenerationConfig, duckdb: DuckDBResource,
              paths: PipelinePaths, settings: PipelineSettingsResource) -> dg.MaterializeResult:
    """Generated tasks (seeded) and user task files; a malformed line becomes a row of
    ingest_rejections (file, line, reason) and never stops the rest. Same settings, code and inbox
    files as the rows in place: those rows are kept (``reused``)."""
    family = context.partition_key
    params, overrides = settings.effective(context, "generation", config)
    stamp = provenance(context, settings.lineage(params, overrides, inbox=paths.inbox))
    files, skipped = inbox_entries(paths.inbox, family)
    fingerprint = reuse.fingerprint(code_version=code_version(context), params=stamp["params"], family=family,
                                    files=[(str(p), file_fingerprint(p)) for p in files],
                                    skipped=[(str(p), why) for p, why in skipped])
    kept = reused(context, duckdb, family, fingerprint, lambda con: _version(con, family))
    if kept is not None:
        return kept
    start = time.perf_counter()
    found, subtypes, first_rows = RawTasks(), Counter(), []

    def batches():
        for batch in raw_batches(family, found, n=params.n, seed=params.seed, params=params.params,
                                 inbox=paths.inbox, negatives_every=params.negatives_every):
            subtypes.update(row["subtype"] for row in batch)
            first_rows.extend(batch[: 10 - len(first_rows)])
            made = sum(subtypes.values())
            if progress_due(made, len(batch)):
                context.log.info(f"{family}: {made} raw tasks, {made / (time.perf_counter() - start):.0f}/s")
            yield with_provenance(batch, family, stamp)

    def add_locations(con: DuckDBPyConnection) -> None:
        if found.more_locations:
            con.execute("""UPDATE raw_tasks SET locations = list_concat(locations, m.more)
                           FROM (SELECT unnest(?::VARCHAR[]) AS task_id, unnest(?::VARCHAR[][]) AS more) m
                           WHERE raw_tasks.family = ? AND raw_tasks.task_id = m.task_id""",
                        [list(found.more_locations), list(found.more_locations.values()), family])

    with connection(duckdb) as con:
        written = warehouse.replace_in_batches(con, "raw_tasks", batches(), family=family, finish=add_locations)
        built = time.perf_counter() - start
        warehouse.replace_rows(con, "ingest_rejections", with_provenance(found.rejections, family, stamp), family=family)
        total = tables.count_rows(con, "raw_tasks")
        duplicates = tables.duplicate_task_ids(con, family)
        version = _version(con, family)
        checks = [check("task_ids_unique", not duplicates, {"family": family, "duplicated_ids": duplicates})]
        remember(con, context, family, fingerprint, version, checks)
    context.log.info(f"{family}: {found.counts()} in {built:.1f}s")
    for path, what in found.skipped:
        context.log.warning(f"{path}: skipped, {what}: only regular files are task files")
    if not written:
        context.log.warning(f"{family}: no tasks (n=0 and no inbox files): the family's later stages will be emptied")
    reasons = Counter(r["reason"].split(":")[0] for r in found.rejections)
    return dg.MaterializeResult(
        data_version=dg.DataVersion(version),
        metadata=table_metadata("raw_tasks", written, total, {
            **found.counts(),
            "reused": False,
            "rejections_by_reason": dg.MetadataValue.json(dict(reasons)),
            "subtypes": dg.MetadataValue.json(dict(subtypes)),
            "files": dg.MetadataValue.json(found.files),
            "skipped_inbox_entries": dg.MetadataValue.json([f"{path}: {what}" for path, what in found.skipped]),
            "seconds": round(time.perf_counter() - start, 2),
            "tasks_per_second": round(written / max(built, 1e-9), 1),
            "parameters": dg.MetadataValue.json(stamp["params"]),
            "input_fingerprint": fingerprint[:16],
            "preview": preview(first_rows, ["task_id", "subtype", "source", "perturbation", "file_path", "line_number"]),
            "rejections_preview": preview(found.rejections, ["file_path", "line_number", "field", "reason"]),
        }),
        check_results=check_results(checks),
    )
