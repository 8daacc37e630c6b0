"""curated_tasks: the verdict and filter decision for every raw task."""

import json
import time

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.partitions import family_partitions
from assets.raw_tasks import raw_tasks
from assets.warehouse_io import (
    POOL, RETRY, connection, count_rows, family_rows, preview, provenance, table_metadata, with_provenance,
)
from planfusion import warehouse
from planfusion.stages.curation import curated_rows, decisions_by_reason
from planfusion.tasks import get_family

CODE_VERSION = "1"


class CurationConfig(dg.Config):
    """allow_unverified: admit records without ground truth, tagged unverified (default: reject them)."""

    allow_unverified: bool = False


@dg.asset(
    partitions_def=family_partitions,
    deps=[raw_tasks],
    pool=POOL,
    retry_policy=RETRY,
    code_version=CODE_VERSION,
    group_name="planfusion",
    kinds={"duckdb", "python"},
    check_specs=[dg.AssetCheckSpec("kept_tasks_verified", asset="curated_tasks", blocking=True,
                                   description="every kept task passes its family's verifier when re-run")],
)
def curated_tasks(context: dg.AssetExecutionContext, config: CurationConfig, duckdb: DuckDBResource) -> dg.MaterializeResult:
    """Verification, too-easy, loop, contradiction and duplicate filters; every drop keeps its reason."""
    family = context.partition_key
    with connection(duckdb) as con:
        raw = family_rows(con, "SELECT task_id, family, content_hash, record FROM raw_tasks WHERE family = ? "
                               "ORDER BY source DESC, file_path, line_number, sample_index", family)
    for row in raw:
        row["record"] = json.loads(row["record"])
    start = time.perf_counter()
    rows = curated_rows(raw, allow_unverified=config.allow_unverified)
    seconds = time.perf_counter() - start
    by_reason = decisions_by_reason(rows)
    context.log.info(f"{family}: {len(rows)} decisions in {seconds:.1f}s: {by_reason}")
    # the check: re-run the verifier on every kept task (unverified ones are admitted by policy)
    verifier = get_family(family)
    records = {row["task_id"]: row["record"] for row in raw}
    failing = [r["task_id"] for r in rows if r["kept"] and "unverified" not in r["tags"]
               and not verifier.verify(records[r["task_id"]]).passed]
    stamp = provenance(context, CODE_VERSION, {"allow_unverified": config.allow_unverified})
    with connection(duckdb) as con:
        warehouse.replace_rows(con, "curated_tasks", with_provenance(rows, family, stamp), family=family)
        total = count_rows(con, "curated_tasks")
    kept = sum(r["kept"] for r in rows)
    return dg.MaterializeResult(
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
            metadata={"kept": kept, "failing": dg.MetadataValue.json(failing[:20])},
        )],
    )
