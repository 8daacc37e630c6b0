"""fused_training_set: NovelSelect over the union of the family selections, to a global budget."""

import json
import time
from dataclasses import asdict

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.family_selection import family_selection
from assets.family_vectors import load_vectors
from assets.resources import PipelinePaths
from assets.warehouse_io import POOL, RETRY, connection, preview, provenance, table_metadata, with_provenance
from planfusion import warehouse
from planfusion.stages.fusion import chat_example, fuse, write_exports
from planfusion.stages.selection import SelectionParams

CODE_VERSION = "1"


class FusionConfig(dg.Config):
    budget: int = 200
    k: int = 10
    kappa1: float = 1.0
    kappa2: float = 0.5
    variant: str = "magicagent"
    seed: int = 0


@dg.asset(
    deps=[dg.AssetDep(family_selection, partition_mapping=dg.AllPartitionMapping())],
    pool=POOL,
    retry_policy=RETRY,
    code_version=CODE_VERSION,
    group_name="planfusion",
    kinds={"duckdb", "parquet"},
    automation_condition=dg.AutomationCondition.eager(),
    check_specs=[dg.AssetCheckSpec("covers_every_family", asset="fused_training_set", blocking=True,
                                   description="every family with kept tasks is in the fused set")],
)
def fused_training_set(
    context: dg.AssetExecutionContext, config: FusionConfig, duckdb: DuckDBResource, paths: PipelinePaths
) -> dg.MaterializeResult:
    """The training mix: density recomputed on the union of the family selections, then NovelSelect."""
    with connection(duckdb) as con:
        task_ids, families, vectors = load_vectors(
            con, "task_id IN (SELECT task_id FROM family_selection s WHERE s.family = task_embeddings.family)", [])
        family_step = dict(con.execute("SELECT task_id, pick_step FROM family_selection").fetchall())
        with_kept = [r[0] for r in con.execute(
            "SELECT DISTINCT family FROM curated_tasks WHERE kept ORDER BY family").fetchall()]
    if len(task_ids) < 2:
        raise dg.Failure(f"the family selections hold {len(task_ids)} tasks; fusion needs at least 2")
    asked = SelectionParams(**config.model_dump())
    start = time.perf_counter()
    rows, report = fuse(task_ids, families, vectors, asked)
    seconds = time.perf_counter() - start
    for row in rows:
        row.update(family_pick_step=family_step[row["task_id"]], variant=asked.variant, seed=asked.seed)
    context.log.info(f"fused {len(rows)} of {len(task_ids)} in {seconds:.1f}s: {report['family_counts']}")
    stamp = provenance(context, CODE_VERSION, asdict(asked.for_pool(len(task_ids))) | {"budget_requested": asked.budget})
    with connection(duckdb) as con:
        records = {
            r[0]: json.loads(r[1])
            for r in con.execute("SELECT task_id, record FROM raw_tasks WHERE task_id IN "
                                 "(SELECT unnest(?::VARCHAR[]))", [[row["task_id"] for row in rows]]).fetchall()
        }
        warehouse.replace_rows(con, "fused_training_set", with_provenance(rows, None, stamp))
    files = write_exports([chat_example(records[row["task_id"]], row) for row in rows], paths.exports)
    missing = sorted(set(with_kept) - set(report["family_counts"]))
    return dg.MaterializeResult(
        metadata=table_metadata("fused_training_set", len(rows), len(rows), {
            "family_counts": dg.MetadataValue.json(report["family_counts"]),
            "family_shares": dg.MetadataValue.json(report["family_shares"]),
            "novelsum_fused": report["novelsum_fused"],
            "novelsum_random_same_size": report["novelsum_random"],
            "novelsum_union": report["novelsum_union"],
            "pool": report["pool"],
            "seconds": round(seconds, 3),
            "jsonl": dg.MetadataValue.path(files["jsonl"]),
            "parquet": dg.MetadataValue.path(files["parquet"]),
            "parameters": dg.MetadataValue.json(stamp["params"]),
            "preview": preview(rows, ["fusion_step", "task_id", "family", "novelty", "sigma"]),
        }),
        check_results=[dg.AssetCheckResult(
            check_name="covers_every_family", passed=not missing,
            metadata={"families_with_kept_tasks": dg.MetadataValue.json(with_kept),
                      "missing": dg.MetadataValue.json(missing)},
        )],
    )
