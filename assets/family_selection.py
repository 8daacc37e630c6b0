"""family_selection: NovelSelect per family over the kept tasks."""

import time
from dataclasses import asdict

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.density_factors import density_factors
from assets.family_vectors import load_vectors
from assets.partitions import family_partitions
from assets.warehouse_io import (
    POOL, RETRY, connection, count_rows, family_rows, preview, provenance, table_metadata, with_provenance,
)
from planfusion import warehouse
from planfusion.stages.selection import SelectionParams, density_from_rows, first_picks_are_argmax, select, selection_rows

CODE_VERSION = "1"


class SelectionConfig(dg.Config):
    """variant: magicagent (MagicAgent Eq. 1, default) or released (the authors' code)."""

    budget: int = 100
    k: int = 10
    kappa1: float = 1.0
    kappa2: float = 0.5
    variant: str = "magicagent"
    seed: int = 0


def selection_progress(context: dg.AssetExecutionContext, label: str):
    def report(done: int, total: int, seconds: float) -> None:
        if done == total or done % max(1, total // 10) == 0:
            rate = done / max(seconds, 1e-9)
            context.log.info(f"{label}: {done}/{total} picks, {rate:.0f} picks/s, ETA {(total - done) / max(rate, 1e-9):.0f}s")
    return report


@dg.asset(
    partitions_def=family_partitions,
    deps=[density_factors],
    pool=POOL,
    retry_policy=RETRY,
    code_version=CODE_VERSION,
    group_name="planfusion",
    kinds={"duckdb", "python"},
    check_specs=[dg.AssetCheckSpec("selection_is_exact", asset="family_selection", blocking=True,
                                   description="meets its budget; first picks are the arg-max of a brute-force re-score")],
)
def family_selection(context: dg.AssetExecutionContext, config: SelectionConfig, duckdb: DuckDBResource) -> dg.MaterializeResult:
    """The family's diverse subset: pick order, novelty at pick, and the picks that made it novel."""
    family = context.partition_key
    with connection(duckdb) as con:
        task_ids, _, vectors = load_vectors(con, "family = ?", [family])
        density = density_from_rows(task_ids, family_rows(
            con, "SELECT task_id, sigma, k, neighbour_ids, neighbour_distances FROM density_factors WHERE family = ?", family))
    asked = SelectionParams(**config.model_dump())
    params = asked.for_pool(len(task_ids))
    start = time.perf_counter()
    selection = select(vectors, params, density, selection_progress(context, family))
    seconds = time.perf_counter() - start
    rows = selection_rows(task_ids, selection)
    problems = first_picks_are_argmax(vectors, density.sigma, selection.order, params)
    stamp = provenance(context, CODE_VERSION, asdict(params) | {"budget_requested": asked.budget})
    for row in rows:
        row.update(variant=params.variant, budget=params.budget, k=params.k, kappa1=params.kappa1,
                   kappa2=params.kappa2, seed=params.seed)
    with connection(duckdb) as con:
        warehouse.replace_rows(con, "family_selection", with_provenance(rows, family, stamp), family=family)
        total = count_rows(con, "family_selection")
    return dg.MaterializeResult(
        metadata=table_metadata("family_selection", len(rows), total, {
            "pool": len(task_ids),
            "selected": len(rows),
            "seconds": round(seconds, 3),
            "parameters": dg.MetadataValue.json(stamp["params"]),
            "preview": preview(rows, ["pick_step", "task_id", "novelty", "contributor_ids"]),
        }),
        check_results=[dg.AssetCheckResult(
            check_name="selection_is_exact",
            passed=len(rows) == params.budget and not problems,
            metadata={"selected": len(rows), "budget": params.budget, "problems": dg.MetadataValue.json(problems)},
        )],
    )
