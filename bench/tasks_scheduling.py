"""Generate + verify N scheduling records; print throughput and variety.

    .venv/bin/python bench/tasks_scheduling.py [--n 10000] [--seed 0]

Targets: >= 1,000 records/s for generate + verify together (10,000 well under 20 s), >= 99% distinct
content hashes and >= 90% distinct structural signatures. Also prints two quality shares (issue #12):
trips with several valid orders, under the stated rule (every day of an event in the stay: must be
0%) and if an event only had to overlap the stay; job shops whose optimum lies above the lower bound
the reasoning states and above the trivial bound (no precedences).
"""

from __future__ import annotations

import argparse
import itertools
import re
import time
from collections import Counter
from typing import Any

from planfusion.tasks.record import content_hash
from planfusion.tasks.scheduling import FAMILY


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    records = list(FAMILY.generate(args.n, args.seed))
    generated = time.perf_counter()
    verdicts = [FAMILY.verify(record) for record in records]
    verified = time.perf_counter()
    t_gen, t_ver = generated - start, verified - generated
    failed = Counter(v.first_check for v in verdicts if not v.passed)
    hashes = len({content_hash(r) for r in records})
    shapes = len({FAMILY.structural_signature(r) for r in records})
    print(f"records: {args.n:,} (seed {args.seed}), subtypes: {dict(Counter(r['subtype'] for r in records))}")
    print(f"generate: {t_gen:.2f} s ({args.n / t_gen:,.0f} records/s)")
    print(f"verify:   {t_ver:.2f} s ({args.n / t_ver:,.0f} records/s)")
    print(f"generate + verify: {t_gen + t_ver:.2f} s ({args.n / (t_gen + t_ver):,.0f} records/s)")
    print(f"verified: {100 * (args.n - sum(failed.values())) / args.n:.2f}%" + (f" failures {dict(failed)}" if failed else ""))
    print(f"distinct content hashes: {100 * hashes / args.n:.2f}%")
    print(f"distinct structural signatures: {100 * shapes / args.n:.2f}%")
    for subtype in FAMILY.subtypes:
        mine = [r for r in records if r["subtype"] == subtype]
        if mine:
            distinct = len({FAMILY.structural_signature(r) for r in mine})
            print(f"  {subtype:<17} {len(mine):>6} records, {100 * distinct / len(mine):6.2f}% distinct signatures")
    trips = [r["ground_truth"]["constraints"] for r in records if r["subtype"] == "trip_itinerary"]
    if trips:
        overlap = sum(_valid_orders(c, overlap=True) > 1 for c in trips)
        stated = sum(_valid_orders(c, overlap=False) > 1 for c in trips)
        print(f"trips with several valid orders: {100 * stated / len(trips):.1f}% under the stated rule (every event "
              f"day in the stay), {100 * overlap / len(trips):.1f}% if an event only had to overlap the stay")
    jobs = [r for r in records if r["subtype"] == "job_shop"]
    if jobs:
        stated = sum(r["ground_truth"]["optimum"] > _stated_bound(r) for r in jobs)
        trivial = sum(r["ground_truth"]["optimum"] > _trivial_bound(r["ground_truth"]["constraints"]) for r in jobs)
        print(f"job shops with the optimum above the stated bound: {100 * stated / len(jobs):.1f}%, "
              f"above the trivial bound: {100 * trivial / len(jobs):.1f}%")


def _valid_orders(c: dict[str, Any], overlap: bool) -> int:
    """City orders along direct flights whose stays cover (or, with ``overlap``, touch) every event."""
    lengths = dict(c["stays"])
    flights = {frozenset(pair) for pair in c["flights"]}
    count = 0
    for order in itertools.permutations(lengths):
        day, spans = 1, {}
        for city in order:
            spans[city] = (day, day + lengths[city] - 1)
            day += lengths[city] - 1
        inside = [(spans[e["city"]], (e["to"], e["from"]) if overlap else (e["from"], e["to"])) for e in c["events"]]
        count += all(frozenset(pair) in flights for pair in zip(order, order[1:])) and all(
            first <= a and b <= last for (first, last), (a, b) in inside)
    return count


def _stated_bound(record: dict[str, Any]) -> int:
    return int(re.search(r"So no schedule ends before t=(\d+)\.", record["trajectory"][-1]["think"])[1])


def _trivial_bound(c: dict[str, Any]) -> int:
    """Job release plus its work; a resource's first release plus its work over its capacity."""
    bound = max(job["release"] + sum(op["duration"] for op in job["ops"]) for job in c["jobs"])
    for machine, cap in c["machines"].items():
        on = [(job["release"], op["duration"]) for job in c["jobs"] for op in job["ops"] if op["machine"] == machine]
        if on:
            bound = max(bound, min(r for r, _ in on) + -(-sum(d for _, d in on) // cap))
    return bound


if __name__ == "__main__":
    main()
