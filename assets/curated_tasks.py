"""curated_tasks: the verdict and filter decision for every raw task."""

import time

import dagster as dg
from duckdb import DuckDBPyConnection
from dagster_duckdb import DuckDBResource

from assets.raw_tasks import raw_tasks
from assets.settings import PipelineSettingsResource, launchpad_config
from assets.spec import stage_asset
from assets.stage_inputs import check, check_results, code_version, remember, reused
from assets.warehouse_io import connection, preview, progress_due, provenance, table_metadata, with_provenance
from planfusion import reuse, tables, warehouse
from planfusion.stages.curation import CurationSummary, curated_batches
from planfusion.tasks import get_family

CurationConfig = launchpad_config("curation")


def _version(con: DuckDBPyConnection, family: str) -> str:
    return tables.data_version(con, "curated_tasks", family)


@stage_asset("curated_tasks", module=__name__, deps=[raw_tasks], kinds={"duckdb", "python"}, check_specs=[
    dg.AssetCheckSpec("kept_tasks_verified", asset="curated_tasks", blocking=True,
                      description="every kept task passes its family's verifier when re-run")])
def curated_tasks(context: dg.AssetExecutionContext, config: CurationConfig, duckdb: DuckDBResource,
                  settings: PipelineSettingsResource) -> dg.MaterializeResult:
    """Verification, too-easy, loop, contradiction and duplicate filters; every drop keeps its reason.
    Raw tasks are read and decided in batches; the same raw tasks, settings and code as the rows in place
    keep those rows and the check's result on them (``reused``)."""
    family = context.partition_key
    params, overrides = settings.effective(context, "curation", config)
    stamp = provenance(context, settings.lineage(params, overrides))
    with connection(duckdb) as con:
        upstream = tables.raw_order_version(con, family)
    fingerprint = reuse.fingerprint(code_version=code_version(context), params=stamp["params"], family=family,
                                    raw=upstream)
    kept = reused(context, duckdb, family, fingerprint, lambda con: _version(con, family))
    if kept is not None:
        return kept
    start = time.perf_counter()
    summary = CurationSummary()

    def batches(con: DuckDBPyConnection):
        # the check re-runs the verifier on every kept task (unverified ones are admitted by policy)
        for rows in curated_batches(tables.raw_record_batches(con, family), allow_unverified=params.allow_unverified,
                                    summary=summary, recheck=get_family(family).verify):
            if progress_due(summary.total, len(rows)):
                rate = summary.total / max(time.perf_counter() - start, 1e-9)
                context.log.info(f"{family}: {summary.total} decisions, {rate:.0f}/s")
            yield with_provenance(rows, family, stamp)

    with connection(duckdb) as con:
        written = warehouse.replace_in_batches(con, "curated_tasks", batches(con), family=family)
        seconds = time.perf_counter() - start
        total = tables.count_rows(con, "curated_tasks")
        version = _version(con, family)
        by_reason = dict(sorted(summary.by_reason.items()))
        checks = [check("kept_tasks_verified", not summary.failing,
                        {"family": family, "kept": summary.kept, "failing": summary.failing[:20]})]
        remember(con, context, family, fingerprint, version, checks)
    context.log.info(f"{family}: {written} decisions in {seconds:.1f}s: {by_reason}")
    return dg.MaterializeResult(
        data_version=dg.DataVersion(version),
        metadata=table_metadata("curated_tasks", written, total, {
            "reused": False,
            "kept": summary.kept,
            "dropped": written - summary.kept,
            "by_reason": dg.MetadataValue.json(by_reason),
            "seconds": round(seconds, 2),
            "tasks_per_second": round(written / max(seconds, 1e-9), 1),
            "parameters": dg.MetadataValue.json(stamp["params"]),
            "input_fingerprint": fingerprint[:16],
            "preview_dropped": preview(summary.dropped_preview, ["task_id", "reason", "detail"]),
        }),
        check_results=check_results(checks),
    )
