"""task_embeddings: all-MiniLM-L6-v2 vectors for the kept tasks, cached across runs."""

import time

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.curated_tasks import curated_tasks
from assets.resources import EmbeddingModel
from assets.spec import stage_asset
from assets.warehouse_io import connection, provenance, table_metadata, with_provenance
from planfusion import tables, warehouse
from planfusion.stages.embeddings import embed_texts, text_hash


def _progress(context: dg.AssetExecutionContext, family: str):
    def report(done: int, total: int, seconds: float) -> None:
        rate = done / max(seconds, 1e-9)
        eta = (total - done) / max(rate, 1e-9)
        context.log.info(f"{family}: embedded {done}/{total} new texts, {rate:.1f} texts/s, ETA {eta:.0f}s")
    return report


@stage_asset("task_embeddings", module=__name__, deps=[curated_tasks], kinds={"duckdb", "pytorch"})
def task_embeddings(context: dg.AssetExecutionContext, duckdb: DuckDBResource,
                    embedding_model: EmbeddingModel) -> dg.MaterializeResult:
    """One L2-normalised vector per kept task; vectors already in embedding_cache for the same text,
    model and revision are reused, so a rerun with nothing new embeds nothing."""
    family = context.partition_key
    embedder = embedding_model.get()
    with connection(duckdb) as con:
        tasks = tables.kept_texts(con, family)
        cached = tables.cached_vectors(con, embedder.name, embedder.revision, embedder.scheme,
                                       sorted({text_hash(t["text"]) for t in tasks}))
    context.log.info(f"{family}: {len(tasks)} kept tasks, {len(cached)} distinct texts cached")
    start = time.perf_counter()
    embedded = embed_texts([t["text"] for t in tasks], cached, embedder, _progress(context, family))
    seconds = time.perf_counter() - start
    stamp = provenance(context, {"model_name": embedder.name, "model_revision": embedder.revision,
                                 "embedding_scheme": embedder.scheme, "batch_size": embedder.batch_size})
    rows = [
        {"task_id": t["task_id"], "text_hash": h, "model_name": embedder.name, "model_revision": embedder.revision,
         "embedding_scheme": embedder.scheme, "from_cache": bool(hit), "embedding": v}
        for t, h, hit, v in zip(tasks, embedded.text_hashes, embedded.from_cache, embedded.vectors)
    ]
    fresh = {row["text_hash"]: row for row in rows if not row["from_cache"]}
    with connection(duckdb) as con:
        warehouse.add_cached_embeddings(con, [
            {k: row[k] for k in ("text_hash", "model_name", "model_revision", "embedding_scheme", "embedding")}
            | {"run_id": context.run.run_id}
            for row in fresh.values()
        ])
        warehouse.replace_rows(con, "task_embeddings", with_provenance(rows, family, stamp), family=family)
        total = tables.count_rows(con, "task_embeddings")
        version = tables.data_version(con, "task_embeddings", family)
    computed = embedded.n_computed
    return dg.MaterializeResult(
        data_version=dg.DataVersion(version),
        metadata=table_metadata("task_embeddings", len(rows), total, {
            "embedded_now": computed,
            "from_cache": len(rows) - computed,
            "texts_per_second": round(len(fresh) / seconds, 1) if fresh else 0.0,
            "seconds": round(seconds, 2),
            "model": f"{embedder.name} @ {embedder.revision}, {embedder.scheme}",
            **{k: round(v, 3) for k, v in embedder.coverage([t["text"] for t in tasks]).items()},
            "parameters": dg.MetadataValue.json(stamp["params"]),
        }),
    )
