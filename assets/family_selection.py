"""family_selection: NovelSelect per family over the kept tasks."""

import time

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.density_factors import density_factors
from assets.chosen_samples import chosen_samples_table
from assets.selection_report import report_metadata
from assets.settings import PipelineSettingsResource, launchpad_config
from assets.spec import stage_asset
from assets.stage_inputs import check, check_results, code_version, remember, reused
from assets.warehouse_io import connection, provenance, table_metadata, with_provenance
from planfusion import reuse, tables, warehouse
from planfusion.lineage import chosen_samples
from planfusion.report import family_inputs
from planfusion.stages.mix import outlier_guard, quality_weights
from planfusion.stages.selection import SelectionParams, first_picks_are_argmax, select, selection_rows

SelectionConfig = launchpad_config("selection")


def selection_progress(context: dg.AssetExecutionContext, label: str):
    def report(done: int, total: int, seconds: float) -> None:
        if done == total or done % max(1, total // 10) == 0:
            rate = done / max(seconds, 1e-9)
            context.log.info(f"{label}: {done}/{total} picks, {rate:.0f} picks/s, ETA {(total - done) / max(rate, 1e-9):.0f}s")
    return report


@stage_asset("family_selection", module=__name__, deps=[density_factors], kinds={"duckdb", "python"}, check_specs=[
    dg.AssetCheckSpec("selection_is_exact", asset="family_selection", blocking=True,
                      description="meets its budget; first picks are the arg-max of a brute-force re-score")])
def family_selection(context: dg.AssetExecutionContext, config: SelectionConfig, duckdb: DuckDBResource,
                     settings: PipelineSettingsResource) -> dg.MaterializeResult:
    """The family's diverse subset: pick order, novelty at pick, and the picks that made it novel. The
    density factors (and their K) are density_factors' rows: lineage records the K they were made with.
    The same inputs (embeddings, density factors, curated verdicts) and settings as the rows in place keep
    those rows (``reused``)."""
    family = context.partition_key
    asked, overrides = settings.effective(context, "selection", config)
    with connection(duckdb) as con:
        upstream = [tables.data_version(con, t, family) for t in ("raw_tasks", "curated_tasks", "task_embeddings",
                                                                   "density_factors")]
    fingerprint = reuse.fingerprint(code_version=code_version(context), asked=asked.model_dump(mode="json"),
                                    overrides=overrides, settings_file=settings.config_file, family=family,
                                    upstream=upstream)
    kept = reused(context, duckdb, family, fingerprint, lambda con: tables.data_version(con, "family_selection", family))
    if kept is not None:
        return kept
    with connection(duckdb) as con:
        task_ids, vectors = tables.family_vectors(con, family)
        density = tables.family_density(con, family, task_ids) if task_ids else None
        signals = tables.quality_signals(con, [(family, t) for t in task_ids]) if asked.quality_weighting else []
    rows, problems, params, seconds, excluded = [], [], None, 0.0, []
    if task_ids:
        guard = outlier_guard(density.sigma, asked.exclude_sparsest)
        weights = quality_weights(signals) if asked.quality_weighting else None
        controls = {"exclude": guard.mask if guard.mask.any() else None, "weights": weights}
        params = SelectionParams(asked.budget, density.k, asked.kappa1, asked.kappa2, asked.variant, asked.seed)
        params = params.for_pool(len(task_ids), int((~guard.mask).sum()))
        start = time.perf_counter()
        selection = select(vectors, params, density, selection_progress(context, family), **controls)
        seconds = time.perf_counter() - start
        rows = selection_rows(task_ids, selection)
        problems = first_picks_are_argmax(vectors, density.sigma, selection.order, params, **controls)
        for row, i in zip(rows, selection.order):
            row.update(variant=params.variant, budget=params.budget, k=params.k, kappa1=params.kappa1,
                       kappa2=params.kappa2, seed=params.seed, quality_weight=1.0 if weights is None else float(weights[i]))
        excluded = guard.rows(task_ids, density.sigma)
    else:
        context.log.warning(f"{family}: no kept tasks: the family's selection is emptied and fusion goes on without it")
    effective = settings.lineage(asked, overrides, k=params.k if params else None,
                                 budget=params.budget if params else 0)
    stamp = provenance(context, effective | {"budget_requested": asked.budget})
    with connection(duckdb) as con:
        warehouse.replace_rows(con, "family_selection", with_provenance(rows, family, stamp), family=family)
        warehouse.replace_rows(con, "selection_exclusions", with_provenance(excluded, family, stamp), family=family)
        total = tables.count_rows(con, "family_selection")
        version = tables.data_version(con, "family_selection", family)
        report_inputs = family_inputs(con, family)
        samples = chosen_samples(con, family)
        expected = params.budget if params else 0
        checks = [check("selection_is_exact", len(rows) == expected and not problems,
                        {"family": family, "selected": len(rows), "budget": expected, "problems": problems})]
        remember(con, context, family, fingerprint, version, checks)
    return dg.MaterializeResult(
        data_version=dg.DataVersion(version),
        metadata=table_metadata("family_selection", len(rows), total, {
            "reused": False,
            "pool": len(task_ids),
            "selected": len(rows),
            "excluded_by_outlier_guard": len(excluded),
            "seconds": round(seconds, 3),
            "parameters": dg.MetadataValue.json(stamp["params"]),
            "input_fingerprint": fingerprint[:16],
            "chosen_samples": chosen_samples_table(samples, fused=False),
            **report_metadata(context, report_inputs),
        }),
        check_results=check_results(checks),
    )
