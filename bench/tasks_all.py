"""Generate, verify and curate N records per task family; print throughput and diversity.

    .venv/bin/python bench/tasks_all.py [--n 10000] [--seed 0] [--families decomposition scheduling]

"total s" is the pipeline's own work, generate + curate (curate runs the verifier); the verifier is
also timed alone for its rate, and "filter s" is what curate adds on top of it. Times are CPU
seconds of this process (the machine is shared, so wall time says more about the neighbours).
Project target: all three families under 60 s total. Untimed text checks close each row: "hygiene %" is the
share of records with a text problem (planfusion.tasks.hygiene), "stated edges %" the mean share of gold
edges a decomposition instruction states word for word (the rest are implicit).

tool_execution also gets a variety table (planfusion.tasks.tool_execution.variety): request kinds and
(kind, wording) templates used, distinct word 3-grams over all 3-grams of the user messages, the shares
of cross_backend records whose reference calls touch two or more backends and in which a value read from
one backend feeds a call to another, and the share of records with a request that undoes an earlier one.
"""

from __future__ import annotations

import argparse
import time

from planfusion.tasks import get_family
from planfusion.tasks.decomposition.stated import stated_edge_share
from planfusion.tasks.filters import curate
from planfusion.tasks.hygiene import record_problems
from planfusion.tasks.record import FAMILIES, content_hash
from planfusion.tasks.tool_execution.variety import variety


def bench(name: str, n: int, seed: int) -> tuple[tuple[str, ...], dict[str, float] | None]:
    """The throughput row, and for tool_execution its variety figures (outside the timed work)."""
    family = get_family(name)
    start = time.process_time()
    records = list(family.generate(n, seed))
    generated = time.process_time()
    passed = sum(family.verify(record).passed for record in records)
    verified = time.process_time()
    decisions = curate(records)
    curated = time.process_time()
    hashes = len({content_hash(r) for r in records})
    shapes = len({family.structural_signature(r) for r in records})
    t_gen, t_ver, t_cur = generated - start, verified - generated, curated - verified
    unclean = sum(bool(record_problems(r)) for r in records)
    shares = [s for s in map(stated_edge_share, records) if s is not None] if name == "decomposition" else []
    row = (
        name, f"{n / t_gen:,.0f}", f"{n / t_ver:,.0f}", f"{t_cur - t_ver:.2f}", f"{t_gen + t_cur:.2f}",
        f"{100 * passed / n:.1f}", f"{100 * hashes / n:.1f}", f"{100 * shapes / n:.1f}",
        f"{100 * sum(d.kept for d in decisions) / n:.1f}", f"{100 * unclean / n:.1f}",
        f"{100 * sum(shares) / len(shares):.1f}" if shares else "-",
    )
    return row, variety(records) if name == "tool_execution" else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--families", nargs="+", choices=FAMILIES, default=list(FAMILIES))
    args = parser.parse_args()
    header = ("family", "gen rec/s", "verify rec/s", "filter s", "total s", "verified %",
              "distinct hash %", "distinct struct %", "kept %", "hygiene %", "stated edges %")
    widths = [max(len(h), 14 if i == 0 else 8) for i, h in enumerate(header)]
    print(_row(header, widths), flush=True)
    total = 0.0
    figures = None
    for name in args.families:  # one row as soon as each family is done
        row, extra = bench(name, args.n, args.seed)
        figures = extra or figures
        total += float(row[4])
        print(_row(row, widths), flush=True)
    print(f"all families: {total:.2f} s total for {args.n:,} records each (target < 60 s)")
    if figures is not None:
        header = ("tool_execution", "request kinds", "templates", "distinct 3-gram", "cross touches 2+ %",
                  "cross links data %", "self-cancelling %")
        cells = ("variety", f"{figures['request_kinds']:.0f}", f"{figures['request_templates']:.0f}",
                 f"{figures['distinct_3gram_ratio']:.3f}", f"{100 * figures['cross_backend_touched']:.1f}",
                 f"{100 * figures['cross_backend_linked']:.1f}", f"{100 * figures['self_cancelling']:.2f}")
        widths = [len(h) for h in header]
        print(_row(header, widths))
        print(_row(cells, widths))


def _row(cells: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))


if __name__ == "__main__":
    main()
