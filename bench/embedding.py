"""Embedding throughput per engine on the project's own task texts, against the baseline measured in the same run.

    .venv/bin/python bench/embedding.py [--n 300] [--seed 4242] [--repeats 3]

Baseline: the path the pipeline ran before OpenVINO (issue #14): the same windows decoded back to text and
passed to sentence-transformers' ``encode`` 256 at a time, torch fp32. Every engine embeds the same texts cut
into the same windows; each is compared with the baseline vectors (cosine min and mean, and the overlap of the
NovelSelect subset at 10% of the pool, same seed) and with torch fp32 on the same word pieces ("cos same
ids": to the first fp32 engine listed, which isolates the engine's rounding from the baseline's decode/re-tokenise step). "NovelSum" is the
NovelSum of each engine's subset scored on the baseline vectors, against the baseline's own subset: what the
picks are worth, not only which they are. The "noise floor" rows add random noise of each engine's size (the same
cosine to the baseline, per vector) to the baseline vectors: the overlap any perturbation that small gives, since
greedy selection turns a near-tie flipped early into a different tail. Repeats are
interleaved (every engine once per round) so load on the shared machine hits all alike; times are medians.
"auto" marks what the pipeline runs on this CPU.

"GFLOP/s" is the model's arithmetic on the windows (model_flops, padding not counted) over each engine's time,
against the peak of torch's matrix product in that precision on the model's own feed-forward shape, measured in the
same run (matmul_peak). The ceiling table turns those peaks into texts/s: every window needs that arithmetic
whatever engine runs it, so an engine of this model on this CPU reaches those rates only if all of its work ran
at the speed of one large, well-shaped matrix product.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from planfusion.embedding import TaskEmbedder
from planfusion.encoders import cpu_has_bf16, openvino_available, resolve
from planfusion.novelsum import embedding_density, novel_select, novelsum
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


def model_flops(config, lengths: list[int]) -> float:
    """Floating-point operations of the transformer over windows of these token lengths, no padding: per layer
    and token the Q, K, V, output and two feed-forward products, plus attention's two (L, L) products; a
    multiply-add counts as two."""
    h, f = config.hidden_size, config.intermediate_size
    lengths_ = np.asarray(lengths, dtype=np.float64)
    return 2.0 * config.num_hidden_layers * float((lengths_ * (4 * h * h + 2 * h * f) + 2 * lengths_**2 * h).sum())


def matmul_peak(precision: str, config, tokens: int = 4096, repeats: int = 10) -> float:
    """GFLOP/s of torch's matrix product in fp32, bf16 or int8 on the model's feed-forward shape, (tokens, hidden)
    by (hidden, intermediate), median of ``repeats`` timings of 10 products each."""
    import torch

    h, f = config.hidden_size, config.intermediate_size
    if precision == "int8":
        a = torch.randint(-100, 100, (tokens, h), dtype=torch.int8)
        b = torch.randint(-100, 100, (h, f), dtype=torch.int8)
        product = torch._int_mm  # the CPU's int8 dot products (AVX-512 VNNI where present)
    else:
        dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[precision]
        a, b, product = torch.randn(tokens, h, dtype=dtype), torch.randn(h, f, dtype=dtype), torch.matmul
    timings = []
    for attempt in range(repeats + 2):  # two warm-ups
        start = time.perf_counter()
        for _ in range(10):
            product(a, b)
        if attempt >= 2:
            timings.append(time.perf_counter() - start)
    return 2.0 * tokens * h * f * 10 / statistics.median(timings) / 1e9


def perturbed_like(base: np.ndarray, cosines: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Unit rows at the given cosines to the base rows, in random directions."""
    noise = rng.standard_normal(base.shape)
    noise -= (noise * base).sum(axis=1, keepdims=True) * base  # orthogonal to each base row
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    cos = np.clip(cosines, -1.0, 1.0)[:, None]
    return (cos * base + np.sqrt(1.0 - cos**2) * noise).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="tasks per family")
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--engines", default="torch-fp32,torch-bf16,openvino-fp32,openvino-bf16",
                        help="comma-separated BACKEND-PRECISION engines to measure besides the baseline")
    args = parser.parse_args()
    texts = [r["text"] for family in FAMILIES for r in get_family(family).generate(args.n, args.seed)]
    reference = TaskEmbedder(backend="torch", precision="fp32")
    lengths = [len(w) + 2 for t in texts for w in reference.windows(t)]  # [CLS] window [SEP]
    windows, config = len(lengths), reference.model[0].auto_model.config
    flops = model_flops(config, lengths)
    auto = resolve("auto", "auto")
    print(f"{len(texts)} task texts ({args.n} per family), {windows} windows; CPU bf16: {cpu_has_bf16()}; "
          f"OpenVINO installed: {openvino_available()}; auto runs {auto[0]} {auto[1]}")

    engines: dict[str, Callable[[], np.ndarray]] = {
        "baseline (st torch fp32)": lambda: baseline_embed(reference, texts)}
    chosen = [tuple(e.split("-")) for e in args.engines.split(",")]
    if not any(precision == "fp32" for _, precision in chosen):
        chosen.insert(0, ("openvino", "fp32"))  # an fp32 engine on the same word pieces: the same-ids reference
    for backend, precision in chosen:
        embedder = TaskEmbedder(backend=backend, precision=precision)
        embedder.model = reference.model
        start = time.perf_counter()
        _ = embedder.encoder  # load or convert once, outside the timing
        label = f"{backend} {precision}" + (" (auto)" if (backend, precision) == auto else "")
        print(f"  {label}: engine ready in {time.perf_counter() - start:.1f}s")
        engines[label] = lambda e=embedder: e.embed(texts)
    seconds: dict[str, list[float]] = {name: [] for name in engines}
    vectors: dict[str, np.ndarray] = {}
    for round_ in range(1, args.repeats + 1):
        for name, run in engines.items():
            start = time.perf_counter()
            vectors[name] = run()
            seconds[name].append(time.perf_counter() - start)
            print(f"  round {round_}/{args.repeats} {name}: {seconds[name][-1]:.1f}s, "
                  f"{windows / seconds[name][-1]:.1f} windows/s", flush=True)

    base_name = next(iter(engines))
    base_s, base_v = statistics.median(seconds[base_name]), vectors[base_name]
    same_ids = next(vectors[name] for name in list(engines)[1:] if " fp32" in name)
    budget = max(2, len(texts) // 10)
    base_sigma = embedding_density(base_v, k=10).sigma

    def picked(v: np.ndarray) -> tuple[set[int], float]:
        order = novel_select(v, budget, random_state=args.seed).order
        return set(order.tolist()), novelsum(base_v[order], base_sigma[order])

    base_pick, base_score = picked(base_v)
    peaks = {precision: matmul_peak(precision, config) for precision in ("fp32", "bf16", "int8")}
    print(f"\n| engine | seconds (median of {args.repeats}) | texts/s | windows/s | ratio to baseline | "
          "GFLOP/s (of its precision's matmul peak) | cos min | cos mean | cos same ids min | overlap@10% | "
          "NovelSum of picks |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(args.seed)
    floors = []
    for name in engines:
        median = statistics.median(seconds[name])
        cosines = (vectors[name] * base_v).sum(axis=1)
        same = (vectors[name] * same_ids).sum(axis=1)
        picks, score = picked(vectors[name])
        precision = "bf16" if "bf16" in name else "fp32"
        rate = flops / median / 1e9
        print(f"| {name} | {median:.2f} | {len(texts) / median:.1f} | {windows / median:.1f} | "
              f"{base_s / median:.2f}x | {rate:.0f} ({rate / peaks[precision]:.0%}) | {cosines.min():.5f} | "
              f"{cosines.mean():.5f} | {same.min():.5f} | {len(picks & base_pick) / budget:.1%} | "
              f"{score:.2f} ({score / base_score:.4f}) |")
        if name != next(iter(engines)):
            noisy = [picked(perturbed_like(base_v, cosines, rng)) for _ in range(3)]
            floors.append(f"| noise floor of {name} (3 draws) | | | | | | | | | "
                          f"{min(len(p & base_pick) for p, _ in noisy) / budget:.1%}-"
                          f"{max(len(p & base_pick) for p, _ in noisy) / budget:.1%} | "
                          f"{statistics.mean(s for _, s in noisy) / base_score:.4f} |")
    print("\n".join(floors))
    per_text = flops / len(texts)
    print(f"\nCeiling: {per_text / 1e9:.1f} GFLOP per task text on average ({sum(lengths) / len(texts):.0f} tokens in "
          f"{windows / len(texts):.2f} windows), at the peak of torch's matrix product on the model's shape, measured "
          "in this run (int8 for reference: its vectors fall to cosine ~0.98, see README)")
    print("\n| precision | matmul peak GFLOP/s | texts/s at the peak | 30,000 texts at the peak |")
    print("|---|---|---|---|")
    for precision, peak in peaks.items():
        rate = peak * 1e9 / per_text
        print(f"| {precision} | {peak:.0f} | {rate:.1f} | {30000 / rate / 60:.1f} min |")


if __name__ == "__main__":
    main()
