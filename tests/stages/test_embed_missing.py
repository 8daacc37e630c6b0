"""embed_missing's clock: the rate and ETA it reports describe the embedding, not the model's load and the
engine's compilation before it (seconds of a fresh process, which made a 60-text run report 5 texts/s)."""

from __future__ import annotations

import time
from functools import cached_property
from pathlib import Path

from planfusion import warehouse
from planfusion.embedding import TaskEmbedder
from planfusion.stages.curation import curated_rows
from planfusion.stages.embeddings import embed_missing
from planfusion.stages.raw import raw_tasks

FAMILY = "scheduling"


class _NotingReady(TaskEmbedder):
    """A TaskEmbedder that notes when the last of its tokenizer and engine, loaded on first use, became ready."""

    @cached_property
    def tokenizer(self):
        tokenizer = TaskEmbedder.tokenizer.func(self)
        self.ready_at = time.perf_counter()
        return tokenizer

    @cached_property
    def encoder(self):
        engine = TaskEmbedder.encoder.func(self)
        self.ready_at = time.perf_counter()
        return engine


def test_the_rate_starts_once_the_engine_is_ready(tmp_path: Path) -> None:
    raw = raw_tasks(FAMILY, n=4, seed=11, params=None, inbox=tmp_path / "no-inbox").rows
    stamp = {"run_id": "run", "code_version": "test", "params": {}}
    reports = []
    with warehouse.connect(tmp_path / "warehouse.duckdb") as con:
        warehouse.replace_rows(con, "raw_tasks", [dict(r, **stamp) for r in raw], family=FAMILY)
        warehouse.replace_rows(con, "curated_tasks", [dict(r, **stamp) for r in curated_rows(raw)], family=FAMILY)
        embedder = _NotingReady(backend="torch", precision="fp32")
        done = embed_missing(con, FAMILY, embedder, "run", lambda n, total, s: reports.append((time.perf_counter(), s)))
    assert done.computed == 4 and reports[-1][1] <= done.seconds
    first_report_at, elapsed = reports[0]
    assert elapsed <= first_report_at - embedder.ready_at  # the clock was started once both were ready
    assert done.ready_seconds > 0
