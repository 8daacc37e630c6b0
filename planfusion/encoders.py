"""The engines that run all-MiniLM-L6-v2 over batches of word-piece ids: torch, or OpenVINO.

Both take the same padded (batch, length) ids and attention mask and return the mean-pooled, L2-normalised
(batch, 384) float32 rows, so they differ only in speed and in the rounding of their matrix products. OpenVINO
is the faster, most of all in bf16 where the CPU multiplies it natively (AVX-512 BF16 or AMX), and it runs
several batches at once, one per CPU stream; ``bench/embedding.py`` measures each against the torch fp32
baseline (README, "Embedding speed").

The OpenVINO model is converted locally from the same weights (nothing is downloaded), checked against torch
on a probe batch, and cached on disk under the model revision and the OpenVINO version.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from openvino import InferRequest

BACKENDS = ("auto", "openvino", "torch")
PRECISIONS = ("auto", "fp32", "bf16")
BATCH_SIZES = {"openvino": 16, "torch": 64}  # windows per forward pass, the fastest measured for each engine

Batch = tuple[np.ndarray, np.ndarray]  # (batch, length) int64 word-piece ids and attention mask


class Encoder(Protocol):
    backend: str
    precision: str

    def encode(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """(batch, length) int64 ids and mask -> (batch, 384) float32 unit rows."""

    def encode_batches(self, batches: Iterable[Batch]) -> Iterator[np.ndarray]:
        """encode of each batch, in order; an engine may run several at once."""


def cpu_has_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether the CPU multiplies bfloat16 natively (AVX-512 BF16 or AMX): there bf16 matrix products run
    2-3x faster than fp32 with vectors within cosine 0.9999 of them; elsewhere bf16 is emulated and slower,
    so fp32 stays."""
    try:
        flags = Path(cpuinfo).read_text()
    except OSError:
        return False
    return any(f" {flag}" in flags for flag in ("avx512_bf16", "amx_bf16"))


def openvino_available() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def resolve(backend: str, precision: str) -> tuple[str, str]:
    """The concrete (backend, precision) that "auto" means on this machine."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if backend == "auto":
        backend = "openvino" if openvino_available() else "torch"
    if precision == "auto":
        precision = "bf16" if cpu_has_bf16() else "fp32"
    return backend, precision


def mean_pooled(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """all-MiniLM-L6-v2's pooling: the mean of the token states under the mask, normalised, in float32."""
    weights = mask[..., None].astype(np.float32)
    summed = (hidden.astype(np.float32) * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
    return summed / np.maximum(np.linalg.norm(summed, axis=1, keepdims=True), 1e-12)


class TorchEncoder:
    """The transformer of the sentence-transformers model, in fp32 or under bf16 autocast."""

    backend = "torch"

    def __init__(self, transformer, precision: str):
        self.transformer = transformer.eval()
        self.precision = precision

    def encode(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        import torch

        autocast = torch.autocast("cpu", dtype=torch.bfloat16) if self.precision == "bf16" else contextlib.nullcontext()
        with torch.inference_mode(), autocast:
            hidden = self.transformer(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
        return mean_pooled(hidden.last_hidden_state.float().numpy(), mask)

    def encode_batches(self, batches: Iterable[Batch]) -> Iterator[np.ndarray]:
        return (self.encode(ids, mask) for ids, mask in batches)


class OpenVINOEncoder:
    """The same transformer converted to OpenVINO, compiled for the CPU in fp32 or bf16.

    Compiled for throughput: the CPU is split into streams (2 single-thread streams on 2 cores) and
    encode_batches keeps one batch in flight per stream. A batch of 16 windows is too small to keep two
    threads busy through one forward pass (its layer norms, softmax and small products wait on each other),
    so in bf16 two batches side by side ran 1.15x as many texts/s as one batch on two threads; fp32, already
    at the speed of the CPU's matrix products, stayed the same (README, "Embedding speed"). A single
    ``encode`` runs on one stream, on a request of its own."""

    backend = "openvino"

    def __init__(self, model_xml: Path, precision: str):
        import openvino as ov

        hint = {"fp32": "f32", "bf16": "bf16"}[precision]
        self.precision = precision
        # Unpinned threads: on a machine shared with other work a pinned thread waits for its core, and the run
        # took 1.3x as long (measured beside a busy process on 2 cores).
        self.compiled = ov.Core().compile_model(str(model_xml), "CPU", {
            "INFERENCE_PRECISION_HINT": hint, "PERFORMANCE_HINT": "THROUGHPUT", "ENABLE_CPU_PINNING": False})
        self.requests = [self.compiled.create_infer_request()
                         for _ in range(self.compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))]
        self.single = self.compiled.create_infer_request()

    def encode(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        outputs = self.single.infer({"input_ids": ids, "attention_mask": mask})
        return mean_pooled(next(iter(outputs.values())), mask)

    def encode_batches(self, batches: Iterable[Batch]) -> Iterator[np.ndarray]:
        """Requests take batches in turn, so the oldest batch in flight is always on the request needed next:
        it is finished (and yielded, keeping the order) before that request starts another. Inputs are
        copied into the request when it starts."""
        for request in self.requests:  # an iteration given up part-way (an error upstream) may have left one busy
            request.wait()
        in_flight: deque[tuple[InferRequest, np.ndarray]] = deque()
        try:
            for k, (ids, mask) in enumerate(batches):
                if len(in_flight) == len(self.requests):
                    yield self._finished(*in_flight.popleft())
                request = self.requests[k % len(self.requests)]
                request.start_async({"input_ids": ids, "attention_mask": mask})
                in_flight.append((request, mask))
            while in_flight:
                yield self._finished(*in_flight.popleft())
        finally:  # stopped early: leave no request running
            for request, _ in in_flight:
                request.wait()

    @staticmethod
    def _finished(request: InferRequest, mask: np.ndarray) -> np.ndarray:
        request.wait()
        return mean_pooled(request.get_output_tensor(0).data, mask)


def model_cache_dir() -> Path:
    """Where converted models live: $PLANFUSION_MODEL_CACHE, else ~/.cache/planfusion/models."""
    return Path(os.environ.get("PLANFUSION_MODEL_CACHE") or Path.home() / ".cache" / "planfusion" / "models")


def converted_model_dir(revision: str, cache: Path | None = None) -> Path:
    """The folder of the OpenVINO model for these weights and this OpenVINO release."""
    import openvino as ov

    return (cache or model_cache_dir()) / f"all-MiniLM-L6-v2-{revision}-openvino-{ov.__version__.split('-')[0]}"


def openvino_model(load_transformer: Callable[[], Any], revision: str, cache: Path | None = None) -> Path:
    """The OpenVINO IR of the transformer ``load_transformer`` gives (weights of ``revision``), converted once
    and cached on disk; the transformer (torch) is loaded only to convert.

    The conversion is written to a temporary folder, checked against torch fp32 on a probe batch (cosine
    >= 0.9999 per row), then renamed into place, so a reader never sees a half-written or wrong model and
    concurrent converters cannot corrupt each other; a cached model that fails to load is converted again.
    """
    import openvino as ov

    target = converted_model_dir(revision, cache)
    xml = target / "model.xml"
    if xml.exists():
        try:
            ov.Core().read_model(str(xml))
            return xml
        except RuntimeError:
            shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        _convert(load_transformer(), staging / "model.xml")
        try:
            staging.rename(target)
        except OSError:  # another process put its (checked) conversion there first
            if not xml.exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return xml


def _convert(transformer, xml: Path) -> None:
    import openvino as ov
    import torch

    probe_ids, probe_mask = _probe_batch()
    example = {"input_ids": torch.from_numpy(probe_ids), "attention_mask": torch.from_numpy(probe_mask)}
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on shape-dependent branches; the probe check below decides
        converted = ov.convert_model(transformer.eval(), example_input=example)
    ov.save_model(converted, str(xml), compress_to_fp16=False)
    expected = TorchEncoder(transformer, "fp32").encode(probe_ids, probe_mask)
    got = OpenVINOEncoder(xml, "fp32").encode(probe_ids, probe_mask)
    cosines = (expected * got).sum(axis=1)
    if cosines.min() < 0.9999:
        raise RuntimeError(f"the OpenVINO conversion disagrees with torch (cosine {cosines.min():.6f} < 0.9999)")


def _probe_batch() -> tuple[np.ndarray, np.ndarray]:
    """Two padded rows of fixed, arbitrary word-piece ids (no tokenizer needed): [CLS] ... [SEP]."""
    rng = np.random.default_rng(0)
    ids = np.zeros((2, 24), dtype=np.int64)
    mask = np.zeros((2, 24), dtype=np.int64)
    for row, length in enumerate((24, 13)):
        ids[row, :length] = [101, *rng.integers(1000, 30000, length - 2), 102]
        mask[row, :length] = 1
    return ids, mask
