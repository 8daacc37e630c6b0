"""density_factors: sigma for every kept task from its K nearest neighbours (faiss, exact)."""

import time

import dagster as dg
from duckdb import DuckDBPyConnection
import numpy as np
from dagster_duckdb import DuckDBResource

from assets.settings import PipelineSettingsResource, launchpad_config
from assets.spec import stage_asset
from assets.stage_inputs import code_version, remember, reused
from assets.task_embeddings import task_embeddings
from assets.warehouse_io import arrow_with_provenance, connection, preview, provenance, table_metadata
from planfusion import reuse, tables, warehouse
from planfusion.stages.selection import density_rows

DensityConfig = launchpad_config("density")


def _version(con: DuckDBPyConnection, family: str) -> str:
    return tables.data_version(con, "density_factors", family)


@stage_asset("density_factors", module=__name__, deps=[task_embeddings], kinds={"duckdb", "python"})
def density_factors(context: dg.AssetExecutionContext, config: DensityConfig, duckdb: DuckDBResource,
                    settings: PipelineSettingsResource) -> dg.MaterializeResult:
    """sigma = 1 / sum of the distances to the K nearest distinct neighbours, with those neighbours. An
    empty family empties its rows; a family too small for K fails before any write. The same embeddings
    and K as the rows in place keep those rows (``reused``)."""
    family = context.partition_key
    params, overrides = settings.effective(context, "density", config)
    stamp = provenance(context, settings.lineage(params, overrides))
    with connection(duckdb) as con:
        upstream = tables.data_version(con, "task_embeddings", family)
    fingerprint = reuse.fingerprint(code_version=code_version(context), params=stamp["params"], family=family,
                                    embeddings=upstream)
    kept = reused(context, duckdb, family, fingerprint, lambda con: _version(con, family))
    if kept is not None:
        return kept
    with connection(duckdb) as con:
        task_ids, vectors = tables.family_vectors(con, family)
        revision = tables.embedding_revision(con, family)
    if 0 < len(task_ids) <= params.k:
        raise dg.Failure(f"{family}: density.k={params.k} needs more than {params.k} kept tasks, the family has "
                         f"{len(task_ids)}: lower density.k in planfusion.yaml or add tasks", allow_retries=False)
    start = time.perf_counter()
    rows = density_rows(task_ids, vectors, params.k)[1] if task_ids else None
    seconds = time.perf_counter() - start
    if not task_ids:
        context.log.warning(f"{family}: no kept tasks: the family's density factors are emptied")
    batches = [] if rows is None else [arrow_with_provenance(rows, family, stamp, model_revision=revision)]
    with connection(duckdb) as con:
        written = warehouse.replace_in_batches(con, "density_factors", batches, family=family)
        total = tables.count_rows(con, "density_factors")
        version = _version(con, family)
        remember(con, context, family, fingerprint, version, [])
    ordered = np.sort(rows["sigma"].to_numpy()) if rows is not None else []
    sigma = {"sigma_min": float(ordered[0]), "sigma_median": float(ordered[len(ordered) // 2]),
             "sigma_max": float(ordered[-1])} if len(ordered) else {}
    return dg.MaterializeResult(
        data_version=dg.DataVersion(version),
        metadata=table_metadata("density_factors", written, total, {
            "reused": False,
            "k": params.k,
            **sigma,
            "seconds": round(seconds, 3),
            "parameters": dg.MetadataValue.json(stamp["params"]),
            "input_fingerprint": fingerprint[:16],
            "preview": preview([] if rows is None else rows.slice(0, 10).to_pylist(), ["task_id", "sigma", "neighbour_ids"]),
        }),
    )
