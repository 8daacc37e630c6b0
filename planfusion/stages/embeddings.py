"""Stage 3: one embedding per kept task, reusing cached vectors so a rerun embeds only what is new."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from planfusion.embedding import DIMENSION, Progress, TaskEmbedder
from planfusion.tasks.record import sha256_hex


def text_hash(text: str) -> str:
    return sha256_hex(text)


@dataclass
class EmbeddedTasks:
    vectors: np.ndarray  # (n, 384) float32 unit rows, in input order
    text_hashes: list[str]
    from_cache: np.ndarray  # (n,) bool
    seconds: float = 0.0

    @property
    def n_computed(self) -> int:
        return int((~self.from_cache).sum())


def embed_texts(
    texts: Sequence[str],
    cached: Mapping[str, np.ndarray],
    embedder: TaskEmbedder,
    progress: Progress | None = None,
) -> EmbeddedTasks:
    """Vectors for texts; cached maps text hash -> vector for this model and revision. Identical texts
    are embedded once."""
    hashes = [text_hash(t) for t in texts]
    vectors = np.empty((len(texts), DIMENSION), dtype=np.float32)
    from_cache = np.array([h in cached for h in hashes], dtype=bool)
    missing: dict[str, str] = {}
    for h, t, hit in zip(hashes, texts, from_cache):
        if not hit:
            missing.setdefault(h, t)
    start = time.perf_counter()
    fresh = dict(zip(missing, embedder.embed(list(missing.values()), progress))) if missing else {}
    for i, h in enumerate(hashes):
        vectors[i] = cached[h] if from_cache[i] else fresh[h]
    return EmbeddedTasks(vectors, hashes, from_cache, time.perf_counter() - start)
