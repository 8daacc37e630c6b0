"""Stage 3: one embedding per kept task, reusing cached vectors so a rerun embeds only what is new.

It streams: the kept texts missing from ``embedding_cache`` (key: sha256 of the text, model, revision,
scheme) are read, embedded and added to the cache a batch at a time (each batch committed, so an
interrupted run keeps what it computed), then the family's ``task_embeddings`` rows are written in one
SQL statement joining the kept tasks with the cache: no stage step holds more than a batch of texts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb

from planfusion import warehouse
from planfusion.embedding import Progress, TaskEmbedder
from planfusion.tasks.record import sha256_hex

BATCH = 1024  # texts read, embedded and cached at a time

# The family's kept tasks with the sha256 of their text (the cache key with the model).
_KEPT = """SELECT c.family, c.task_id, sha256(r.text) AS text_hash FROM curated_tasks c
           JOIN raw_tasks r USING (family, task_id) WHERE c.family = $family AND c.kept"""
_CACHED = """SELECT 1 FROM embedding_cache e WHERE e.text_hash = k.text_hash AND e.model_name = $model
             AND e.model_revision = $revision AND e.embedding_scheme = $scheme"""


def text_hash(text: str) -> str:
    """The cache key's text part: sha256 of the UTF-8 text, as DuckDB's sha256() gives it."""
    return sha256_hex(text)


@dataclass
class Embedded:
    """What a family's embedding did: kept tasks, distinct texts computed now, and their coverage. ``seconds``
    is the embedding alone; ``ready_seconds`` the model's load and the engine's compilation before it (with
    the one-time conversion on first use), kept apart so the rate and the ETA describe the embedding."""

    kept: int = 0
    computed: int = 0
    seconds: float = 0.0
    ready_seconds: float = 0.0
    coverage: dict[str, float] = field(default_factory=dict)


def _key(family: str, embedder: TaskEmbedder) -> dict[str, Any]:
    return {"family": family, "model": embedder.name, "revision": embedder.revision, "scheme": embedder.scheme}


def embed_missing(con: duckdb.DuckDBPyConnection, family: str, embedder: TaskEmbedder, run_id: str,
                  progress: Progress | None = None, batch: int = BATCH) -> Embedded:
    """Embed the family's kept texts that the cache lacks for this embedder, ``batch`` distinct texts at a
    time, adding each batch to the cache (with ``run_id``) as soon as it is done."""
    key = _key(family, embedder)
    kept = con.execute(f"SELECT count(*) FROM ({_KEPT})", {"family": family}).fetchone()[0]
    missing = [r[0] for r in con.execute(f"""SELECT min(task_id) FROM ({_KEPT}) k WHERE NOT EXISTS ({_CACHED})
                                            GROUP BY text_hash ORDER BY text_hash""", key).fetchall()]
    done, shares = Embedded(kept=kept), {}
    if missing:
        loading = time.perf_counter()
        embedder.load()  # outside the clock of the rate
        done.ready_seconds = time.perf_counter() - loading
    start = time.perf_counter()
    for lo in range(0, len(missing), batch):
        ids = missing[lo : lo + batch]
        texts = [r[0] for r in con.execute("""SELECT text FROM raw_tasks WHERE family = ? AND task_id IN
                                              (SELECT unnest(?::VARCHAR[])) ORDER BY task_id""", [family, ids]).fetchall()]
        offset = done.computed
        report = None if progress is None else (lambda n, _total, _s: progress(offset + n, len(missing),
                                                                                time.perf_counter() - start))
        vectors = embedder.embed(texts, report)
        warehouse.add_cached_embeddings(con, [
            {"text_hash": text_hash(t), "model_name": embedder.name, "model_revision": embedder.revision,
             "embedding_scheme": embedder.scheme, "embedding": v, "run_id": run_id} for t, v in zip(texts, vectors)])
        done.computed += len(texts)
        _add_coverage(shares, embedder.coverage(texts), len(texts))
    done.seconds = time.perf_counter() - start
    done.coverage = _mean_coverage(shares, done.computed)
    return done


def write_embeddings(family: str, embedder: TaskEmbedder, stamp: dict[str, Any]) -> Callable[[duckdb.DuckDBPyConnection], None]:
    """The statement (for warehouse.replace_in_batches' ``finish``) that writes one row per kept task from
    the cache; ``from_cache`` is false for vectors this run computed. stamp: run_id, code_version, params."""
    def insert(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(f"""INSERT INTO task_embeddings BY NAME
            SELECT k.family, k.task_id, k.text_hash, e.model_name, e.model_revision, e.embedding_scheme,
                   e.run_id IS DISTINCT FROM $run_id AS from_cache, e.embedding, $run_id AS run_id,
                   $code_version AS code_version, $params::JSON AS params
            FROM ({_KEPT}) k JOIN embedding_cache e ON e.text_hash = k.text_hash AND e.model_name = $model
                 AND e.model_revision = $revision AND e.embedding_scheme = $scheme""",
                    _key(family, embedder) | {"run_id": stamp["run_id"], "code_version": stamp["code_version"],
                                              "params": warehouse.json_text(stamp["params"])})
    return insert


def _add_coverage(sums: dict[str, float], coverage: dict[str, float], n: int) -> None:
    tokens = coverage["tokens_per_text_mean"] * n
    sums["tokens"] = sums.get("tokens", 0.0) + tokens
    sums["windows"] = sums.get("windows", 0.0) + coverage["windows_per_text_mean"] * n
    sums["one_window"] = sums.get("one_window", 0.0) + coverage["share_one_window_would_see"] * tokens
    sums["embedded"] = coverage["share_of_tokens_embedded"]


def _mean_coverage(sums: dict[str, float], n: int) -> dict[str, float]:
    """TaskEmbedder.coverage over every text embedded now, from the per-batch figures."""
    if not n:
        return {}
    return {"tokens_per_text_mean": sums["tokens"] / n, "windows_per_text_mean": sums["windows"] / n,
            "share_of_tokens_embedded": sums["embedded"],
            "share_one_window_would_see": sums["one_window"] / sums["tokens"] if sums["tokens"] else 1.0}
