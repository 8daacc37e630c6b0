"""task_embeddings: all-MiniLM-L6-v2 vectors for the kept tasks, cached across runs."""

import dagster as dg
from dagster_duckdb import DuckDBResource
from duckdb import DuckDBPyConnection

from assets.curated_tasks import curated_tasks
from assets.resources import EmbeddingModel
from assets.settings import PipelineSettingsResource, launchpad_config
from assets.spec import stage_asset
from assets.stage_inputs import code_version, remember, reused
from assets.warehouse_io import connection, provenance, table_metadata
from planfusion import reuse, tables, warehouse
from planfusion.stages.embeddings import embed_missing, write_embeddings

EmbeddingConfig = launchpad_config("embedding")


def _progress(context: dg.AssetExecutionContext, family: str):
    def report(done: int, total: int, seconds: float) -> None:
        rate = done / max(seconds, 1e-9)
        eta = (total - done) / max(rate, 1e-9)
        context.log.info(f"{family}: embedded {done}/{total} new texts, {rate:.1f} texts/s, ETA {eta:.0f}s")
    return report


def _version(con: DuckDBPyConnection, family: str) -> str:
    return tables.data_version(con, "task_embeddings", family)


@stage_asset("task_embeddings", module=__name__, deps=[curated_tasks], kinds={"duckdb", "openvino"})
def task_embeddings(context: dg.AssetExecutionContext, config: EmbeddingConfig, duckdb: DuckDBResource,
                    embedding_model: EmbeddingModel, settings: PipelineSettingsResource) -> dg.MaterializeResult:
    """One L2-normalised vector per kept task; vectors already in embedding_cache for the same text,
    model, revision and scheme are reused, so a rerun with nothing new embeds nothing (and, with the same
    kept tasks too, keeps its rows without loading the model). Lineage records the engine that ran, "auto"
    resolved."""
    family = context.partition_key
    params, overrides = settings.effective(context, "embedding", config)
    embedder = embedding_model.get(params)
    stamp = provenance(context, settings.lineage(
        params, overrides, backend=embedder.backend, precision=embedder.precision, batch_size=embedder.batch_size,
        model_name=embedder.name, model_revision=embedder.revision, embedding_scheme=embedder.scheme))
    with connection(duckdb) as con:
        upstream = [tables.data_version(con, t, family) for t in ("raw_tasks", "curated_tasks")]
    fingerprint = reuse.fingerprint(code_version=code_version(context), params=stamp["params"], family=family,
                                    upstream=upstream)
    kept = reused(context, duckdb, family, fingerprint, lambda con: _version(con, family), embedded_now=0)
    if kept is not None:
        return kept
    with connection(duckdb) as con:
        embedded = embed_missing(con, family, embedder, context.run.run_id, _progress(context, family))
        context.log.info(f"{family}: {embedded.kept} kept tasks, {embedded.computed} texts embedded now")
        warehouse.replace_in_batches(con, "task_embeddings", [], family=family,
                                     finish=write_embeddings(family, embedder, stamp))
        rows = tables.count_rows(con, "task_embeddings", family)
        total = tables.count_rows(con, "task_embeddings")
        computed = con.execute("SELECT count(*) FROM task_embeddings WHERE family = ? AND NOT from_cache",
                               [family]).fetchone()[0]
        version = _version(con, family)
        remember(con, context, family, fingerprint, version, [])
    return dg.MaterializeResult(
        data_version=dg.DataVersion(version),
        metadata=table_metadata("task_embeddings", rows, total, {
            "reused": False,
            "embedded_now": computed,
            "from_cache": rows - computed,
            "texts_per_second": round(embedded.computed / embedded.seconds, 1) if embedded.computed else 0.0,
            "seconds": round(embedded.seconds, 2),
            "engine_ready_seconds": round(embedded.ready_seconds, 2),
            "model": f"{embedder.name} @ {embedder.revision}, {embedder.scheme}",
            **{k: round(v, 3) for k, v in embedded.coverage.items()},
            "parameters": dg.MetadataValue.json(stamp["params"]),
            "input_fingerprint": fingerprint[:16],
        }),
    )
