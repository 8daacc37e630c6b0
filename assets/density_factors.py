"""density_factors: sigma for every kept task from its K nearest neighbours (faiss, exact)."""

import time

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.settings import PipelineSettingsResource, launchpad_config
from assets.spec import stage_asset
from assets.task_embeddings import task_embeddings
from assets.warehouse_io import connection, preview, provenance, table_metadata, with_provenance
from planfusion import tables, warehouse
from planfusion.stages.selection import density_rows

DensityConfig = launchpad_config("density")


@stage_asset("density_factors", module=__name__, deps=[task_embeddings], kinds={"duckdb", "python"})
def density_factors(context: dg.AssetExecutionContext, config: DensityConfig, duckdb: DuckDBResource,
                    settings: PipelineSettingsResource) -> dg.MaterializeResult:
    """sigma = 1 / sum of the distances to the K nearest distinct neighbours, with those neighbours. An
    empty family empties its rows; a family too small for K fails before any write."""
    family = context.partition_key
    params, overrides = settings.effective(context, "density", config)
    with connection(duckdb) as con:
        task_ids, vectors = tables.family_vectors(con, family)
        revision = tables.embedding_revision(con, family)
    if 0 < len(task_ids) <= params.k:
        raise dg.Failure(f"{family}: density.k={params.k} needs more than {params.k} kept tasks, the family has "
                         f"{len(task_ids)}: lower density.k in planfusion.yaml or add tasks", allow_retries=False)
    start = time.perf_counter()
    density, rows = density_rows(task_ids, vectors, params.k) if task_ids else (None, [])
    seconds = time.perf_counter() - start
    if not task_ids:
        context.log.warning(f"{family}: no kept tasks: the family's density factors are emptied")
    stamp = provenance(context, settings.lineage(params, overrides))
    for row in rows:
        row["model_revision"] = revision
    with connection(duckdb) as con:
        warehouse.replace_rows(con, "density_factors", with_provenance(rows, family, stamp), family=family)
        total = tables.count_rows(con, "density_factors")
        version = tables.data_version(con, "density_factors", family)
    sigma = sorted(row["sigma"] for row in rows)
    return dg.MaterializeResult(
        data_version=dg.DataVersion(version),
        metadata=table_metadata("density_factors", len(rows), total, {
            "k": params.k,
            **({"sigma_min": sigma[0], "sigma_median": sigma[len(sigma) // 2], "sigma_max": sigma[-1]} if sigma else {}),
            "seconds": round(seconds, 3),
            "parameters": dg.MetadataValue.json(stamp["params"]),
            "preview": preview(rows, ["task_id", "sigma", "neighbour_ids"]),
        }),
    )
