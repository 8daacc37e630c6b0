"""Selection report benchmark: what the report costs next to the selection it describes.

    .venv/bin/python bench/report.py [--sizes 500,2000,10000] [--fraction 0.1] [--defaults] [--seed S]

Data: planfusion.novelsum.synthetic.clustered_embeddings(N, 384, random_state=--seed) with random
categories (3 families, 8 subtypes, 5 levels); NovelSelect (magicagent, defaults) picks B = fraction
* N first (its time is shown for scale, not counted). --defaults adds the pipeline's default sizes:
a family (N = 450, B = 100) and the fusion (N = 300, B = 200).

Every case runs in a fresh subprocess (this script with --case), so "peak MiB" is that process's own
high-water mark (interpreter, numpy, matplotlib, the data and the work). Columns, in seconds of wall
time: geometry (the pool's kNN and similarity sums, one blocked N^2 D pass), k-center (N B D),
facility location (lazy greedy), metrics (every metric of NovelSelect, the two greedy baselines and 5
random seeds at every budget), report (all of selection_report), cpu (its CPU seconds: a shared
machine inflates wall time, not this), plots (render_plots) and plots_cpu, card (markdown card and
HTML page).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmark the checkout this script is in, whatever is installed
DIM = 384


def run_case(n: int, budget: int, seed: int) -> dict[str, float]:
    import numpy as np

    from planfusion.novelsum import embedding_density, novel_select
    from planfusion.novelsum.synthetic import clustered_embeddings
    from planfusion.report import Categories, html_page, markdown_card, render_plots, selection_report

    x = clustered_embeddings(n, DIM, random_state=seed)
    density = embedding_density(x, 10)
    tick = time.perf_counter()
    selection = novel_select(x, budget, density=density)
    select_seconds = time.perf_counter() - tick
    rng = np.random.default_rng(seed)
    categories = Categories(family=rng.choice(["decomposition", "scheduling", "tool_execution"], n),
                            subtype=rng.choice([f"s{i}" for i in range(8)], n), level=rng.integers(1, 6, n))
    tick, cpu = time.perf_counter(), time.process_time()
    report = selection_report(x, density.sigma, selection.order, novelty=selection.scores, categories=categories)
    report_seconds, report_cpu = time.perf_counter() - tick, time.process_time() - cpu
    tick, cpu = time.perf_counter(), time.process_time()
    images = render_plots(report)
    plot_seconds, plot_cpu = time.perf_counter() - tick, time.process_time() - cpu
    tick = time.perf_counter()
    markdown_card(report, images)
    html_page([report], [images])
    card_seconds = time.perf_counter() - tick
    return {"n": n, "budget": budget, "select": select_seconds, **{k: report.seconds[k] for k in
            ("geometry", "k_center", "facility_location", "metrics")}, "report": report_seconds, "cpu": report_cpu,
            "plots": plot_seconds, "plots_cpu": plot_cpu, "card": card_seconds,
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="500,2000,10000", help="pool sizes N, comma-separated")
    parser.add_argument("--fraction", type=float, default=0.1, help="budget B as a share of N (default 0.1)")
    parser.add_argument("--defaults", action="store_true", help="add the pipeline's default sizes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--case", nargs=2, type=int, metavar=("N", "B"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(*args.case, args.seed)))
        return 0
    cases = [("default family", 450, 100), ("default fusion", 300, 200)] if args.defaults else []
    cases += [(f"B = {args.fraction:g} N", n, max(1, round(args.fraction * n))) for n in map(int, args.sizes.split(","))]
    columns = ["case", "N", "B", "select", "geometry", "k_center", "facility_location", "metrics", "report", "cpu",
               "plots", "plots_cpu", "card", "peak_mib"]
    print(" | ".join(columns))
    print("|".join("---" for _ in columns))
    for name, n, budget in cases:
        done = subprocess.run([sys.executable, __file__, "--case", str(n), str(budget), "--seed", str(args.seed)],
                              cwd=ROOT, capture_output=True, text=True, check=True)
        row = json.loads(done.stdout.splitlines()[-1])
        cells = [name, f"{n:,}", f"{budget:,}"] + [f"{row[c]:.2f}" for c in columns[3:-1]] + [f"{row['peak_mib']:.0f}"]
        print(" | ".join(cells), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
