"""Embedding throughput per engine on the project's own task texts, against the baseline measured in the same run.

    .venv/bin/python bench/embedding.py [--n 300] [--seed 4242] [--repeats 3]

Baseline: the path the pipeline ran before OpenVINO (issue #14): the same windows decoded back to text and
passed to sentence-transformers' ``encode`` 256 at a time, torch fp32. Every engine embeds the same texts cut
into the same windows; each is compared with the baseline vectors (cosine min and mean, and the overlap of the
NovelSelect subset at 10% of the pool, same seed) and with torch fp32 on the same word pieces ("cos same
ids", which isolates the engine's rounding from the baseline's decode/re-tokenise step). Repeats are
interleaved (every engine once per round) so load on the shared machine hits all alike; times are medians.
"auto" marks what the pipeline runs on this CPU.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import numpy as np

from planfusion.embedding import TaskEmbedder
from planfusion.encoders import cpu_has_bf16, openvino_available, resolve
from planfusion.novelsum import novel_select
from planfusion.tasks import FAMILIES, get_family


def baseline_embed(embedder: TaskEmbedder, texts: list[str]) -> np.ndarray:
    """The pre-#14 path: decoded windows through SentenceTransformer.encode in chunks of 256, fp32."""
    out = np.zeros((len(texts), 384))
    owners, weights, pieces = [], [], []
    for i, text in enumerate(texts):
        for ids in embedder.windows(text):
            owners.append(i)
            weights.append(max(len(ids), 1))
            pieces.append(embedder.model.tokenizer.decode(ids))
    for lo in range(0, len(pieces), 256):
        vectors = embedder.model.encode(pieces[lo:lo + 256], batch_size=64, normalize_embeddings=True)
        np.add.at(out, owners[lo:lo + 256], vectors * np.asarray(weights[lo:lo + 256], dtype=np.float64)[:, None])
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="tasks per family")
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    texts = [r["text"] for family in FAMILIES for r in get_family(family).generate(args.n, args.seed)]
    reference = TaskEmbedder(backend="torch", precision="fp32")
    windows = sum(len(reference.windows(t)) for t in texts)
    auto = resolve("auto", "auto")
    print(f"{len(texts)} task texts ({args.n} per family), {windows} windows; CPU bf16: {cpu_has_bf16()}; "
          f"OpenVINO installed: {openvino_available()}; auto runs {auto[0]} {auto[1]}")

    engines: dict[str, Callable[[], np.ndarray]] = {"baseline (st torch fp32)": lambda: baseline_embed(reference, texts)}
    for backend in ("torch", "openvino"):
        for precision in ("fp32", "bf16"):
            embedder = TaskEmbedder(backend=backend, precision=precision)
            embedder.model = reference.model
            start = time.perf_counter()
            embedder.encoder  # load or convert once, outside the timing
            label = f"{backend} {precision}" + (" (auto)" if (backend, precision) == auto else "")
            print(f"  {label}: engine ready in {time.perf_counter() - start:.1f}s")
            engines[label] = lambda e=embedder: e.embed(texts)
    seconds: dict[str, list[float]] = {name: [] for name in engines}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(args.repeats):
        for name, run in engines.items():
            start = time.perf_counter()
            vectors[name] = run()
            seconds[name].append(time.perf_counter() - start)

    base_name = next(iter(engines))
    base_s, base_v = statistics.median(seconds[base_name]), vectors[base_name]
    same_ids = vectors["torch fp32" + (" (auto)" if auto == ("torch", "fp32") else "")]
    budget = max(2, len(texts) // 10)
    base_pick = set(novel_select(base_v, budget, random_state=args.seed).order.tolist())
    print(f"\n| engine | seconds (median of {args.repeats}) | texts/s | windows/s | ratio to baseline | cos min | "
          f"cos mean | cos same ids min | overlap@10% |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in engines:
        median = statistics.median(seconds[name])
        cosines = (vectors[name] * base_v).sum(axis=1)
        same = (vectors[name] * same_ids).sum(axis=1)
        picks = set(novel_select(vectors[name], budget, random_state=args.seed).order.tolist())
        print(f"| {name} | {median:.2f} | {len(texts) / median:.1f} | {windows / median:.1f} | {base_s / median:.2f}x | "
              f"{cosines.min():.5f} | {cosines.mean():.5f} | {same.min():.5f} | {len(picks & base_pick) / budget:.1%} |")


if __name__ == "__main__":
    main()
