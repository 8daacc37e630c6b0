"""Embedding throughput per precision on the project's own task texts, against fp32 measured in the same run.

    .venv/bin/python bench/embedding.py [--n 100] [--seed 4242] [--repeats 2]

Same texts, same windows (every text cut into the embedder's overlapping windows), same model; each
backend's vectors are compared with the fp32 ones: cosine min and mean, and the overlap of the NovelSelect
subset at 10% of the pool (same density K, same seed). "auto" is what the pipeline runs on this CPU.
Times are wall-clock medians of --repeats runs: the machine is shared, so quote medians and ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from planfusion.embedding import TaskEmbedder, cpu_has_bf16
from planfusion.novelsum import novel_select
from planfusion.tasks import FAMILIES, get_family


def timed(embedder: TaskEmbedder, texts: list[str], repeats: int) -> tuple[float, np.ndarray]:
    seconds, vectors = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        vectors = embedder.embed(texts)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="tasks per family")
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    texts = [r["text"] for family in FAMILIES for r in get_family(family).generate(args.n, args.seed)]
    baseline = TaskEmbedder(precision="fp32")
    windows = sum(len(baseline.windows(t)) for t in texts)
    print(f"{len(texts)} task texts ({args.n} per family), {windows} windows; CPU bf16: {cpu_has_bf16()}; "
          f"auto runs {TaskEmbedder().precision}")
    base_s, base_v = timed(baseline, texts, args.repeats)
    budget = max(2, len(texts) // 10)
    base_pick = set(novel_select(base_v, budget, random_state=args.seed).order.tolist())
    header = f"{'backend':<10}{'seconds':>9}{'texts/s':>10}{'windows/s':>11}{'ratio':>7}  {'ratio of':<15}{'cos min':>9}{'cos mean':>10}{'overlap@10%':>13}"
    print(header)
    for precision in ("fp32", "bf16"):
        embedder = TaskEmbedder(precision=precision)
        embedder.model = baseline.model
        seconds, vectors = (base_s, base_v) if precision == "fp32" else timed(embedder, texts, args.repeats)
        cosines = (vectors * base_v).sum(axis=1)
        picks = set(novel_select(vectors, budget, random_state=args.seed).order.tolist())
        ratio = "-" if precision == "fp32" else f"{base_s / seconds:.2f}"
        print(f"{precision:<10}{seconds:>9.2f}{len(texts) / seconds:>10.1f}{windows / seconds:>11.1f}{ratio:>7}  "
              f"{'baseline' if precision == 'fp32' else 'fp32/' + precision:<15}{cosines.min():>9.5f}{cosines.mean():>10.5f}"
              f"{len(picks & base_pick) / budget:>13.1%}")


if __name__ == "__main__":
    main()
