"""Generate and verify N decomposition records; print throughput and variety.

    .venv/bin/python bench/tasks_decomposition.py [--n 10000] [--seed 0]

Targets: generate + verify of 10,000 records well under 20 s (>= 1,000 records/s), >= 99% distinct
content hashes and >= 90% distinct structural signatures. "distinct gold DAG" counts the gold
workflows alone (action kinds, edges, sub-goal depth), ignoring the unneeded actions on offer and
which dependencies the instruction states outright.
"""

from __future__ import annotations

import argparse
import collections
import time

from planfusion.tasks.decomposition import FAMILY
from planfusion.tasks.decomposition.signature import dag_signature
from planfusion.tasks.record import content_hash


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    wall, cpu = time.perf_counter(), time.process_time()
    records = list(FAMILY.generate(args.n, args.seed))
    gen_wall, gen_cpu = time.perf_counter() - wall, time.process_time() - cpu
    wall, cpu = time.perf_counter(), time.process_time()
    verdicts = [FAMILY.verify(record) for record in records]
    ver_wall, ver_cpu = time.perf_counter() - wall, time.process_time() - cpu

    n = len(records)
    hashes = {content_hash(r) for r in records}
    signatures = {FAMILY.structural_signature(r) for r in records}
    dags = {dag_signature(r) for r in records}
    print(f"records            {n:,} (seed {args.seed}); wall time, then CPU time of this process")
    for label, t_wall, t_cpu in (("generate", gen_wall, gen_cpu), ("verify", ver_wall, ver_cpu),
                                 ("generate + verify", gen_wall + ver_wall, gen_cpu + ver_cpu)):
        print(f"{label:<18} {t_wall:.2f} s ({n / t_wall:,.0f} records/s); "
              f"cpu {t_cpu:.2f} s ({n / t_cpu:,.0f} records/s)")
    print(f"verified           {100 * sum(v.passed for v in verdicts) / n:.2f} %")
    print(f"distinct hash      {100 * len(hashes) / n:.2f} %")
    print(f"distinct signature {100 * len(signatures) / n:.2f} %")
    print(f"distinct gold DAG  {100 * len(dags) / n:.2f} %")
    subtypes = collections.Counter(r["subtype"] for r in records)
    levels = collections.Counter(r["difficulty"]["level"] for r in records)
    nodes = [r["difficulty"]["knobs"]["nodes"] for r in records]
    print("subtypes           " + ", ".join(f"{k} {v}" for k, v in sorted(subtypes.items())))
    print("difficulty levels  " + ", ".join(f"{k}: {v}" for k, v in sorted(levels.items())))
    print(f"nodes              min {min(nodes)}, mean {sum(nodes) / n:.1f}, max {max(nodes)}")


if __name__ == "__main__":
    main()
