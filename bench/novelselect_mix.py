"""NovelSelect with the mix controls (#13) against the options off, N=20,000 B=1,000 by default.

    .venv/bin/python bench/novelselect_mix.py [--n N] [--b B] [--repeats R] [--modes off,quotas,...]

Data as bench/novelselect.py (clustered_embeddings(N, 384, random_state=0), density K=10 computed once,
first pick drawn from seed 0). Modes: off; quotas (three uneven groups, 55/30/15% of the pool, quotas
their shares of the budget); floors (free, with a floor of 30% of the budget for the smallest group,
which binds); exclude (the sparsest 5% by sigma); weights (seven quality levels 0.36..1); all (quotas,
exclude and weights). Per mode: median wall and CPU seconds (process time, both threads; steadier than
wall time on a shared machine), promotions, and a hash of the pick order. At the default size the
options-off hashes must equal those from before the mix controls existed (checked).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import time

import numpy as np

from planfusion.novelsum import embedding_density, novel_select
from planfusion.novelsum.synthetic import clustered_embeddings

BEFORE_MIX = {"magicagent": "15c1c286019a0a04", "released": "c497ed30c4eced5b"}  # N=20,000 B=1,000, seed 0
MODES = ("off", "quotas", "floors", "exclude", "weights", "all")


def controls(mode: str, n: int, b: int, sigma: np.ndarray, first: int) -> dict:
    rng = np.random.default_rng(1)
    groups = rng.choice(3, n, p=[0.55, 0.3, 0.15])
    quotas = np.array([round(0.55 * b), round(0.3 * b), b - round(0.55 * b) - round(0.3 * b)])
    exclude = sigma <= np.quantile(sigma, 0.05)
    exclude[first] = False
    weights = rng.choice([0.36, 0.45, 0.5, 0.72, 0.8, 0.9, 1.0], n)
    return {
        "off": {},
        "quotas": {"groups": groups, "quotas": quotas},
        "floors": {"groups": groups, "floors": np.array([0, 0, round(0.3 * b)])},
        "exclude": {"exclude": exclude},
        "weights": {"weights": weights},
        "all": {"groups": groups, "quotas": quotas, "exclude": exclude, "weights": weights},
    }[mode]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--b", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--modes", default=",".join(MODES))
    args = parser.parse_args()
    x = clustered_embeddings(args.n, 384, random_state=0)
    density = embedding_density(x, 10)
    first = int(np.random.default_rng(0).integers(args.n))
    print(f"{'mode':8} {'variant':10} {'wall s':>7} {'cpu s':>6} {'promoted':>9}  order hash")
    for mode in args.modes.split(","):
        for variant in ("magicagent", "released"):
            kwargs = controls(mode, args.n, args.b, density.sigma, first)
            wall, cpu = [], []
            for _ in range(args.repeats):
                t0, c0 = time.perf_counter(), time.process_time()
                s = novel_select(x, args.b, variant=variant, first=first, density=density, **kwargs)
                wall.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
            digest = hashlib.sha256(s.order.tobytes()).hexdigest()[:16]
            check = ""
            if mode == "off" and (args.n, args.b) == (20_000, 1_000):
                check = "  same picks as before the mix controls" if digest == BEFORE_MIX[variant] else "  CHANGED"
            print(f"{mode:8} {variant:10} {statistics.median(wall):7.2f} {statistics.median(cpu):6.2f} "
                  f"{int(s.stats['promoted']):9,}  {digest}{check}", flush=True)


if __name__ == "__main__":
    main()
