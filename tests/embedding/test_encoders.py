"""The embedding engines: OpenVINO agrees with torch on the same windows, the converted model is made
locally once and cached under the weights' revision, and the engine and precision key the vector cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from planfusion import encoders
from planfusion.embedding import TaskEmbedder
from planfusion.tasks import FAMILIES, get_family


@pytest.fixture(scope="module")
def torch_fp32() -> TaskEmbedder:
    return TaskEmbedder(backend="torch", precision="fp32")


@pytest.fixture(scope="module")
def model_cache(torch_fp32, tmp_path_factory) -> Path:
    """One conversion shared by the tests that only use the converted model."""
    cache = tmp_path_factory.mktemp("models")
    encoders.openvino_model(lambda: torch_fp32.model[0].auto_model, torch_fp32.revision, cache=cache)
    return cache


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [r["text"] for family in FAMILIES for r in get_family(family).generate(3, seed=515)]


def _with_model(embedder: TaskEmbedder, loaded: TaskEmbedder) -> TaskEmbedder:
    embedder.model = loaded.model  # one loaded model, several engines
    return embedder


def test_openvino_fp32_matches_torch_fp32_on_padded_batches(torch_fp32, texts, model_cache, monkeypatch) -> None:
    monkeypatch.setenv("PLANFUSION_MODEL_CACHE", str(model_cache))
    openvino = _with_model(TaskEmbedder(backend="openvino", precision="fp32", batch_size=5), torch_fp32)
    # batch 5 over windows of many lengths: every batch but the first mixes padded and full rows
    cosines = (openvino.embed(texts) * torch_fp32.embed(texts)).sum(axis=1)
    assert cosines.min() >= 0.9999, cosines.min()


@pytest.mark.parametrize("backend", ["torch", "openvino"])
def test_bf16_stays_within_cosine_0_999_of_torch_fp32(backend, torch_fp32, texts, model_cache, monkeypatch) -> None:
    monkeypatch.setenv("PLANFUSION_MODEL_CACHE", str(model_cache))
    half = _with_model(TaskEmbedder(backend=backend, precision="bf16"), torch_fp32)
    cosines = (half.embed(texts) * torch_fp32.embed(texts)).sum(axis=1)
    assert cosines.min() >= 0.999, cosines.min()


def test_the_converted_model_is_made_once_and_cached_by_revision(torch_fp32, tmp_path) -> None:
    transformer = torch_fp32.model[0].auto_model
    xml = encoders.openvino_model(lambda: transformer, torch_fp32.revision, cache=tmp_path)
    assert xml.exists() and torch_fp32.revision in xml.parent.name
    made = xml.stat().st_mtime_ns
    assert encoders.openvino_model(lambda: transformer, torch_fp32.revision, cache=tmp_path) == xml
    assert xml.stat().st_mtime_ns == made  # served from disk, not converted again
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left behind
    assert encoders.converted_model_dir("other-revision", cache=tmp_path) != xml.parent


def test_a_damaged_cached_model_is_converted_again(torch_fp32, model_cache, tmp_path) -> None:
    transformer = torch_fp32.model[0].auto_model
    shutil.copytree(encoders.converted_model_dir(torch_fp32.revision, model_cache),
                    encoders.converted_model_dir(torch_fp32.revision, tmp_path))
    xml = encoders.converted_model_dir(torch_fp32.revision, tmp_path) / "model.xml"
    xml.write_text("<net>truncated")
    again = encoders.openvino_model(lambda: transformer, torch_fp32.revision, cache=tmp_path)
    ids, mask = np.array([[101, 7592, 102]]), np.array([[1, 1, 1]])
    expected = encoders.TorchEncoder(transformer, "fp32").encode(ids, mask)
    assert float((encoders.OpenVINOEncoder(again, "fp32").encode(ids, mask) * expected).sum()) > 0.9999


def test_auto_picks_openvino_and_the_cpus_precision_and_both_key_the_cache(tmp_path) -> None:
    with_bf16 = tmp_path / "cpuinfo"
    with_bf16.write_text("flags\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n")
    assert encoders.cpu_has_bf16(str(with_bf16))
    assert encoders.resolve("auto", "auto") == ("openvino", "bf16" if encoders.cpu_has_bf16() else "fp32")
    schemes = {TaskEmbedder(backend=b, precision=p).scheme for b in ("torch", "openvino") for p in ("fp32", "bf16")}
    assert len(schemes) == 4
    with pytest.raises(ValueError, match="backend"):
        TaskEmbedder(backend="onnx")
    with pytest.raises(ValueError, match="batch_size"):
        TaskEmbedder(batch_size=0)


def test_auto_falls_back_to_torch_without_openvino(monkeypatch) -> None:
    monkeypatch.setattr(encoders, "openvino_available", lambda: False)
    assert encoders.resolve("auto", "fp32") == ("torch", "fp32")


def _batches(count: int, seed: int = 7) -> list[tuple[np.ndarray, np.ndarray]]:
    """count batches of random word pieces, of uneven rows and lengths."""
    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(count):
        rows, length = int(rng.integers(1, 6)), int(rng.integers(3, 41))
        ids = np.concatenate([np.full((rows, 1), 101), rng.integers(1000, 30000, (rows, length - 2)),
                              np.full((rows, 1), 102)], axis=1)
        batches.append((ids, np.ones_like(ids)))
    return batches


@pytest.mark.parametrize("backend", ["torch", "openvino"])
def test_encode_batches_gives_each_batch_its_own_rows_in_order(backend, torch_fp32, model_cache, monkeypatch) -> None:
    """OpenVINO keeps a batch in flight per CPU stream; the rows must still come back batch by batch, in order."""
    monkeypatch.setenv("PLANFUSION_MODEL_CACHE", str(model_cache))
    encoder = _with_model(TaskEmbedder(backend=backend, precision="fp32"), torch_fp32).encoder
    batches = _batches(2 * len(getattr(encoder, "requests", [])) + 3)  # every request reused
    streamed = list(encoder.encode_batches(iter(batches)))
    assert [v.shape for v in streamed] == [(len(ids), 384) for ids, _ in batches]
    for (ids, mask), vectors in zip(batches, streamed):
        np.testing.assert_allclose(vectors, encoder.encode(ids, mask), atol=1e-6)


def test_openvino_encodes_again_after_an_iteration_stopped_part_way(torch_fp32, model_cache, monkeypatch) -> None:
    """A source that fails, or a consumer that stops, leaves batches in flight; the next call must not find
    its requests busy, and a single encode works while an iteration is under way."""
    monkeypatch.setenv("PLANFUSION_MODEL_CACHE", str(model_cache))
    encoder = _with_model(TaskEmbedder(backend="openvino", precision="fp32"), torch_fp32).encoder
    batches = _batches(2 * len(encoder.requests) + 1)
    expected = [encoder.encode(ids, mask) for ids, mask in batches]

    def failing():
        yield from batches[: len(encoder.requests)]
        raise OSError("source gone")

    with pytest.raises(OSError, match="source gone"):
        list(encoder.encode_batches(failing()))
    stopped = encoder.encode_batches(iter(batches))
    next(stopped)  # the others stay in flight
    np.testing.assert_allclose(encoder.encode(*batches[0]), expected[0], atol=1e-6)
    kept_alive = stopped  # not closed: as when a traceback holds the consumer's frame
    again = list(encoder.encode_batches(iter(batches)))
    for got, want in zip(again, expected, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-6)
    del kept_alive
