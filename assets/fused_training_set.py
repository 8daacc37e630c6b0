"""fused_training_set: NovelSelect over the union of the family selections, to a global budget."""

import time
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.family_selection import family_selection
from assets.resources import PipelinePaths
from assets.chosen_samples import chosen_samples_table
from assets.selection_report import report_metadata
from assets.settings import PipelineSettingsResource, launchpad_config
from assets.spec import stage_asset
from assets.stage_inputs import check, check_results, code_version, remember, reused
from assets.warehouse_io import connection, provenance, table_metadata, with_provenance
from planfusion import reuse, tables, warehouse
from planfusion.lineage import chosen_samples
from planfusion.report import fused_inputs
from planfusion.export import FILES as EXPORT_FILES, build_examples, write_exports
from planfusion.stages.fusion import fuse
from planfusion.stages.mix import quality_weights
from planfusion.stages.selection import SelectionParams
from planfusion.tasks.ingest import file_fingerprint
from planfusion.tasks import FAMILIES

FusionConfig = launchpad_config("fusion")
IN_FLIGHT = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
             dg.DagsterRunStatus.STARTED]


def _family_run_in_flight(context: dg.AssetExecutionContext, family: str) -> bool:
    runs = context.instance.get_run_records(
        dg.RunsFilter(statuses=IN_FLIGHT, tags={"dagster/partition": family}), limit=5)
    return any(r.dagster_run.run_id != context.run.run_id for r in runs)


def _exported(folder: str) -> list[tuple[str, str | None]]:
    """The training files and their content hashes (None when missing): a deleted file is written again."""
    files = [Path(folder, name) for name in EXPORT_FILES]
    return [(str(f), file_fingerprint(f) if f.is_file() else None) for f in files]


def _refuse_mixed_generations(context: dg.AssetExecutionContext, problems: dict[str, list[str]]) -> None:
    """A family whose stages disagree is mid-run (wait and retry) or left so by a failed run (fail now,
    saying which stage to rematerialize): the fused set never mixes two generations of a family."""
    if not problems:
        return
    if any(_family_run_in_flight(context, family) for family in problems):
        context.log.info(f"waiting for the family runs in flight: {sorted(problems)}")
        raise dg.RetryRequested(max_retries=20, seconds_to_wait=30)
    raise dg.Failure("the fused set keeps its last consistent state: "
                     + "; ".join(f"{family}: {', '.join(p)}" for family, p in problems.items()), allow_retries=False)


@stage_asset("fused_training_set", module=__name__, partitioned=False, kinds={"duckdb", "parquet"},
             deps=[dg.AssetDep(family_selection, partition_mapping=dg.AllPartitionMapping())],
             automation_condition=dg.AutomationCondition.eager(),
             check_specs=[dg.AssetCheckSpec("covers_every_family", asset="fused_training_set", blocking=True,
                                            description="every family with kept tasks is in the fused set")])
def fused_training_set(context: dg.AssetExecutionContext, config: FusionConfig, duckdb: DuckDBResource,
                       paths: PipelinePaths, settings: PipelineSettingsResource) -> dg.MaterializeResult:
    """The training mix: density recomputed on the union of the family selections, then NovelSelect. The
    same family stages and settings as the rows in place, with the training files still there, keep those
    rows (``reused``)."""
    asked, overrides = settings.effective(context, "fusion", config)
    with connection(duckdb) as con:
        upstream = {f: [tables.data_version(con, t, f) for t in ("raw_tasks", "curated_tasks", "task_embeddings",
                                                                  "density_factors", "family_selection")]
                    for f in FAMILIES}
    inputs = lambda: reuse.fingerprint(  # noqa: E731 - the training files are inputs too: taken twice
        code_version=code_version(context), asked=asked.model_dump(mode="json"), overrides=overrides,
        settings_file=settings.config_file, upstream=upstream, exports=_exported(paths.exports))
    fingerprint = inputs()
    kept = reused(context, duckdb, None, fingerprint, lambda con: tables.data_version(con, "fused_training_set"))
    if kept is not None:
        return kept
    with connection(duckdb) as con:
        _refuse_mixed_generations(context, {f: p for f in FAMILIES if (p := tables.family_problems(con, f))})
        task_ids, families, vectors = tables.selected_vectors(con)
        family_step = tables.family_pick_steps(con)
        signals = tables.quality_signals(con, list(zip(families, task_ids))) if asked.quality_weighting else []
        with_kept = tables.families_with_kept_tasks(con)
    try:
        params = SelectionParams(asked.budget, asked.k, asked.kappa1, asked.kappa2, asked.variant,
                                 asked.seed).for_pool(len(task_ids))
    except ValueError as exc:
        raise dg.Failure(f"fusion over {len(task_ids)} selected tasks: {exc}: lower fusion.k in planfusion.yaml "
                         "or select more per family", allow_retries=False) from None
    start = time.perf_counter()
    rows, report = fuse(task_ids, families, vectors, params, shares=asked.shares_argument(),
                        floors=asked.family_floors or None, exclude_sparsest=asked.exclude_sparsest,
                        weights=quality_weights(signals) if asked.quality_weighting else None)
    seconds = time.perf_counter() - start
    for row in rows:
        row.update(family_pick_step=family_step[(row["family"], row["task_id"])], variant=params.variant,
                   seed=params.seed)
    context.log.info(f"fused {len(rows)} of {len(task_ids)} in {seconds:.1f}s: {report['family_counts']}")
    stamp = provenance(context, settings.lineage(asked, overrides, budget=report["budget"])
                       | {"budget_requested": asked.budget, "quotas": report["quotas"], "floors": report["floors"]})
    with connection(duckdb) as con:
        records = tables.records_by_id(con, [(row["family"], row["task_id"]) for row in rows])
    examples, dropped = build_examples((records[(row["family"], row["task_id"])], row) for row in rows)
    for row in rows:
        row.update(exported=row["task_id"] not in dropped, export_error=dropped.get(row["task_id"]))
        if not row["exported"]:
            context.log.warning(f"{row['task_id']}: not exported: {row['export_error']}")
    with connection(duckdb) as con:
        warehouse.replace_rows(con, "fused_training_set", with_provenance(rows, None, stamp))
        warehouse.replace_rows(con, "fusion_exclusions", with_provenance(report["excluded"], None, stamp))
        version = tables.data_version(con, "fused_training_set")
        report_inputs = fused_inputs(con)
        samples = chosen_samples(con)
    files = write_exports(examples, paths.exports)
    missing = sorted(set(with_kept) - set(report["family_counts"]))
    checks = [check("covers_every_family", not missing, {"families_with_kept_tasks": with_kept, "missing": missing})]
    with connection(duckdb) as con:
        remember(con, context, None, inputs(), version, checks)
    return dg.MaterializeResult(
        data_version=dg.DataVersion(version),
        metadata=table_metadata("fused_training_set", len(rows), len(rows), {
            "reused": False,
            "input_fingerprint": fingerprint[:16],
            "family_counts": dg.MetadataValue.json(report["family_counts"]),
            "family_shares": dg.MetadataValue.json(report["family_shares"]),
            "novelsum_fused": report["novelsum_fused"],
            "novelsum_random_same_size": report["novelsum_random"],
            "novelsum_union": report["novelsum_union"],
            "pool": report["pool"],
            "pool_family_shares": dg.MetadataValue.json(report["pool_family_shares"]),
            "share_mode": str(report["shares"]),
            "excluded_by_outlier_guard": len(report["excluded"]),
            "exported": len(examples),
            "not_exported": dg.MetadataValue.json(dropped),
            "seconds": round(seconds, 3),
            "jsonl": dg.MetadataValue.path(files["jsonl"]),
            "parquet": dg.MetadataValue.path(files["parquet"]),
            "parameters": dg.MetadataValue.json(stamp["params"]),
            "chosen_samples": chosen_samples_table(samples, fused=True),
            **report_metadata(context, report_inputs),
        }),
        check_results=check_results(checks),
    )
