"""curated_tasks: the verdict and filter decision for every raw task."""

import time

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.raw_tasks import raw_tasks
from assets.settings import PipelineSettingsResource, launchpad_config
from assets.spec import stage_asset
from assets.warehouse_io import connection, preview, provenance, table_metadata, with_provenance
from planfusion import tables, warehouse
from planfusion.stages.curation import curated_rows, decisions_by_reason
from planfusion.tasks import get_family

CurationConfig = launchpad_config("curation")


@stage_asset("curated_tasks", module=__name__, deps=[raw_tasks], kinds={"duckdb", "python"}, check_specs=[
    dg.AssetCheckSpec("kept_tasks_verified", asset="curated_tasks", blocking=True,
                      description="every kept task passes its family's verifier when re-run")])
def curated_tasks(context: dg.AssetExecutionContext, config: CurationConfig, duckdb: DuckDBResource,
                  settings: PipelineSettingsResource) -> dg.MaterializeResult:
    """Verification, too-easy, loop, contradiction and duplicate filters; every drop keeps its reason."""
    family = context.partition_key
    params, overrides = settings.effective(context, "curation", config)
    with connection(duckdb) as con:
        raw = tables.raw_records(con, family)
    start = time.perf_counter()
    rows = curated_rows(raw, allow_unverified=params.allow_unverified)
    seconds = time.perf_counter() - start
    by_reason = decisions_by_reason(rows)
    context.log.info(f"{family}: {len(rows)} decisions in {seconds:.1f}s: {by_reason}")
    # the check: re-run the verifier on every kept task (unverified ones are admitted by policy)
    verifier = get_family(family)
    records = {row["task_id"]: row["record"] for row in raw}
    failing = [r["task_id"] for r in rows if r["kept"] and "unverified" not in r["tags"]
               and not verifier.verify(records[r["task_id"]]).passed]
    stamp = provenance(context, settings.lineage(params, overrides))
    with connection(duckdb) as con:
        warehouse.replace_rows(con, "curated_tasks", with_provenance(rows, family, stamp), family=family)
        total = tables.count_rows(con, "curated_tasks")
        version = tables.data_version(con, "curated_tasks", family)
    kept = sum(r["kept"] for r in rows)
    return dg.MaterializeResult(
        data_version=dg.DataVersion(version),
        metadata=table_metadata("curated_tasks", len(rows), total, {
            "kept": kept,
            "dropped": len(rows) - kept,
            "by_reason": dg.MetadataValue.json(by_reason),
            "seconds": round(seconds, 2),
            "tasks_per_second": round(len(rows) / max(seconds, 1e-9), 1),
            "parameters": dg.MetadataValue.json(stamp["params"]),
            "preview_dropped": preview([r for r in rows if not r["kept"]], ["task_id", "reason", "detail"]),
        }),
        check_results=[dg.AssetCheckResult(
            check_name="kept_tasks_verified", passed=not failing,
            metadata={"family": family, "kept": kept, "failing": dg.MetadataValue.json(failing[:20])},
        )],
    )
