"""A stage whose inputs are unchanged keeps its rows (planfusion.reuse), as a Dagster result that says so:
the materialization carries ``reused: true`` and the run that wrote the rows (their run_id column too),
the metadata of that stage's last materialization, and its checks' results on those rows again."""

from __future__ import annotations

import time
from typing import Any, Callable

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from assets.warehouse_io import connection, table_metadata
from planfusion import reuse, tables


def check(name: str, passed: bool, metadata: dict[str, Any]) -> dict[str, Any]:
    """A check result as plain data, to report now and store with the rows' fingerprint."""
    return {"check_name": name, "passed": bool(passed), "metadata": metadata}


def check_results(checks: list[dict[str, Any]], **extra: Any) -> list[dg.AssetCheckResult]:
    return [dg.AssetCheckResult(check_name=c["check_name"], passed=c["passed"], metadata={
        k: dg.MetadataValue.json(v) if isinstance(v, (list, dict)) else v for k, v in (c["metadata"] | extra).items()})
        for c in checks]


# Metadata of the run that made the rows that says what that run did, not what the rows are: not repeated.
WORK = ("seconds", "tasks_per_second", "texts_per_second", "embedded_now", "from_cache")


def reused(context: dg.AssetExecutionContext, duckdb_resource: DuckDBResource, family: str | None, fingerprint: str,
           version: Callable[[duckdb.DuckDBPyConnection], str], **now: Any) -> dg.MaterializeResult | None:
    """The result of keeping the stage's rows when they were made from the same inputs, else None (the
    stage then runs and must :func:`remember` what it wrote). ``now``: metadata of this run's own work
    (e.g. embedded_now=0) in place of the earlier run's."""
    start = time.perf_counter()
    stage = context.asset_key.to_user_string()
    with connection(duckdb_resource) as con:
        hit = reuse.reusable(con, stage, family or "", fingerprint, lambda: version(con))
        if hit is None:
            return None
        rows = tables.count_rows(con, stage, family)
        total = tables.count_rows(con, stage)
    context.log.info(f"{stage}{f' {family}' if family else ''}: inputs unchanged since run {hit.run_id}: "
                     f"its {rows} rows are kept")
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=context.asset_key, asset_partitions=[family] if family else None), limit=1).records
    previous = {k: v for k, v in records[0].asset_materialization.metadata.items() if k not in WORK} if records else {}
    return dg.MaterializeResult(
        data_version=dg.DataVersion(hit.data_version),
        metadata=previous | table_metadata(stage, rows, total, now | {
            "reused": True, "rows_of_run": hit.run_id, "input_fingerprint": fingerprint[:16],
            "seconds": round(time.perf_counter() - start, 3)}),
        check_results=check_results(hit.checks, reused=True, rows_of_run=hit.run_id),
    )


def remember(con: duckdb.DuckDBPyConnection, context: dg.AssetExecutionContext, family: str | None,
             fingerprint: str, data_version: str, checks: list[dict[str, Any]]) -> None:
    reuse.remember(con, context.asset_key.to_user_string(), family or "", fingerprint, data_version, checks,
                   context.run.run_id)


def code_version(context: dg.AssetExecutionContext) -> str:
    return context.assets_def.code_versions_by_key[context.asset_key]
