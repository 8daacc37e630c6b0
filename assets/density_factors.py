"""density_factors: sigma for every kept task from its K nearest neighbours (faiss, exact)."""

import time

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.family_vectors import load_vectors
from assets.partitions import family_partitions
from assets.task_embeddings import task_embeddings
from assets.warehouse_io import POOL, RETRY, connection, count_rows, preview, provenance, table_metadata, with_provenance
from planfusion import warehouse
from planfusion.stages.selection import density_rows

CODE_VERSION = "1"


class DensityConfig(dg.Config):
    k: int = 10


@dg.asset(
    partitions_def=family_partitions,
    deps=[task_embeddings],
    pool=POOL,
    retry_policy=RETRY,
    code_version=CODE_VERSION,
    group_name="planfusion",
    kinds={"duckdb", "python"},
)
def density_factors(context: dg.AssetExecutionContext, config: DensityConfig, duckdb: DuckDBResource) -> dg.MaterializeResult:
    """sigma = 1 / sum of the distances to the K nearest distinct neighbours, with those neighbours."""
    family = context.partition_key
    with connection(duckdb) as con:
        task_ids, _, vectors = load_vectors(con, "family = ?", [family])
        revision = con.execute("SELECT any_value(model_revision) FROM task_embeddings WHERE family = ?", [family]).fetchone()[0]
    k = max(1, min(config.k, len(task_ids) - 1))
    if len(task_ids) < 2:
        raise dg.Failure(f"{family}: {len(task_ids)} kept tasks; density needs at least 2")
    start = time.perf_counter()
    density, rows = density_rows(task_ids, vectors, k)
    seconds = time.perf_counter() - start
    stamp = provenance(context, CODE_VERSION, {"k": k, "k_requested": config.k})
    for row in rows:
        row["model_revision"] = revision
    with connection(duckdb) as con:
        warehouse.replace_rows(con, "density_factors", with_provenance(rows, family, stamp), family=family)
        total = count_rows(con, "density_factors")
    return dg.MaterializeResult(
        metadata=table_metadata("density_factors", len(rows), total, {
            "k": k,
            "sigma_min": float(density.sigma.min()),
            "sigma_median": float(sorted(density.sigma)[len(rows) // 2]),
            "sigma_max": float(density.sigma.max()),
            "seconds": round(seconds, 3),
            "parameters": dg.MetadataValue.json(stamp["params"]),
            "preview": preview(rows, ["task_id", "sigma", "neighbour_ids"]),
        }),
    )
