"""``planfusion generate`` and ``planfusion verify``: task files from the command line.

``generate`` writes a family's seeded stream (optionally with its negatives) as JSONL; ``verify``
ingests JSONL files, runs the verifiers and quality filters, and prints what was kept, what was
dropped and why, and which lines could not be read at all.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterator

from planfusion.tasks import get_family
from planfusion.tasks.family import Record, TaskFamily
from planfusion.tasks.filters import REASONS, Decision, curate
from planfusion.tasks.ingest import IngestedRecord, Rejection, read_task_file
from planfusion.tasks.negatives import negative
from planfusion.tasks.record import FAMILIES, canonical_json


class CommandError(Exception):
    """A user-facing failure: printed as one line, exit status 2, no traceback."""


def register(subparsers: Any) -> None:
    gen = subparsers.add_parser("generate", help="write a family's seeded records as JSONL",
                                description="Write records start..start+n-1 of a family's seeded stream as JSONL.")
    gen.add_argument("--family", required=True, choices=FAMILIES)
    gen.add_argument("--n", type=int, required=True, help="number of clean records")
    gen.add_argument("--seed", type=int, required=True, help="master seed")
    gen.add_argument("--start", type=int, default=0, help="index of the first record (default 0)")
    gen.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                     help="generator parameter; VALUE is read as JSON when it parses (3, true, [1,2]), else as text")
    gen.add_argument("--negatives", action="store_true",
                     help="after each clean record, also write every perturbation of it that applies")
    gen.add_argument("--out", required=True, type=Path, help="output JSONL file (written atomically)")
    gen.set_defaults(run=lambda args: _guarded(_generate, args))

    ver = subparsers.add_parser("verify", help="ingest, verify and curate JSONL task files",
                                description="Ingest JSONL task files, verify and curate them, report counts per reason.")
    ver.add_argument("files", nargs="+", type=Path)
    ver.add_argument("--family", choices=FAMILIES,
                     help="reject records of other families (default: inferred from an inbox/<family>/ path)")
    ver.add_argument("--allow-unverified", action="store_true", help="keep records without ground truth, tagged")
    ver.add_argument("--strict", action="store_true", help="exit 1 if any line is rejected or any record dropped")
    ver.add_argument("--verbose", "-v", action="store_true", help="also list every dropped record")
    ver.add_argument("--decisions", type=Path, metavar="FILE.jsonl",
                     help="write one JSON line per record: its decision and source file:line")
    ver.set_defaults(run=lambda args: _guarded(_verify, args))


def parse_params(items: list[str]) -> dict[str, Any]:
    """``["nodes=8", "subtype=job_shop"]`` -> ``{"nodes": 8, "subtype": "job_shop"}``."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise CommandError(f"--param {item!r}: expected KEY=VALUE")
        try:
            params[key] = json.loads(text)
        except json.JSONDecodeError:
            params[key] = text
    return params


def generate_records(family: TaskFamily, n: int, seed: int, params: dict[str, Any],
                     start: int = 0, negatives: bool = False) -> Iterator[Record]:
    """The clean stream, each record followed by its negatives when asked.

    Negatives are as reproducible as the clean records (see :func:`negatives.negative`).
    """
    for record in family.generate(n, seed, params, start):
        yield record
        if not negatives:
            continue
        for perturbation in family.perturbations:
            made = negative(family, record, seed, perturbation)
            if made is not None:
                yield made


def _guarded(command: Any, args: argparse.Namespace) -> int:
    try:
        return command(args)
    except (CommandError, ValueError, OSError, ImportError) as exc:
        print(f"planfusion {args.command}: error: {exc}", file=sys.stderr)
        return 2


def _generate(args: argparse.Namespace) -> int:
    if args.n < 0 or args.start < 0:
        raise CommandError(f"--n and --start must be >= 0, got {args.n} and {args.start}")
    family = get_family(args.family)
    params = parse_params(args.param)
    clean = negative = 0
    tmp = args.out.with_name(args.out.name + ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            for record in generate_records(family, args.n, args.seed, params, args.start, args.negatives):
                handle.write(canonical_json(record) + "\n")
                if record["lineage"].get("parent_id") is None:
                    clean += 1
                else:
                    negative += 1
        os.replace(tmp, args.out)
    finally:
        tmp.unlink(missing_ok=True)
    print(f"wrote {clean} {args.family} records and {negative} negatives to {args.out}", file=sys.stderr)
    return 0


def _verify(args: argparse.Namespace) -> int:
    ingested: list[IngestedRecord] = []
    rejections: list[Rejection] = []
    for path in args.files:
        got, bad = read_task_file(path, expected_family=args.family or _inbox_family(path))
        ingested.extend(got)
        rejections.extend(bad)
    decisions = curate([item.record for item in ingested], allow_unverified=args.allow_unverified)
    print(_summary(decisions))
    if args.verbose:
        for item, decision in zip(ingested, decisions):
            if not decision.kept:
                print(f"dropped {decision.record_id} ({item.source.file}:{item.source.line}): "
                      f"{decision.reason}: {decision.detail}")
    if rejections:
        print(f"rejected lines: {len(rejections)}")
        for rejection in rejections:
            print(f"  {rejection}")
    if args.decisions is not None:
        _write_decisions(args.decisions, ingested, decisions)
    failed = bool(rejections) or any(not d.kept for d in decisions)
    return 1 if args.strict and failed else 0


def _inbox_family(path: Path) -> str | None:
    """``.../inbox/<family>/file.jsonl`` holds only that family's records."""
    parent = path.resolve().parent
    return parent.name if parent.name in FAMILIES and parent.parent.name == "inbox" else None


def _summary(decisions: list[Decision]) -> str:
    """Per family: verifier pass/fail, kept, and the count per reason with the failing checks."""
    lines = [f"{'family':<16}{'records':>8}{'passed':>10}{'failed':>8}{'kept':>8}"]
    for family in FAMILIES:
        mine = [d for d in decisions if d.family == family]
        if not mine:
            continue
        failed = sum(d.reason == "failed_verification" for d in mine)
        unchecked = sum(d.reason == "no_ground_truth" or "unverified" in d.tags for d in mine)
        kept = sum(d.kept for d in mine)
        lines.append(f"{family:<16}{len(mine):>8}{len(mine) - failed - unchecked:>10}{failed:>8}{kept:>8}")
        reasons = Counter(d.reason for d in mine)
        checks = Counter(c for d in mine for c in d.checks)
        for reason in REASONS:
            if reasons[reason]:
                extra = ""
                if reason == "failed_verification":
                    extra = "  (" + ", ".join(f"{c} {k}" for c, k in sorted(checks.items())) + ")"
                lines.append(f"  {reason:<22}{reasons[reason]:>6}{extra}")
        tags = Counter(t for d in mine for t in d.tags)
        if tags:
            lines.append("  tagged: " + ", ".join(f"{t} {k}" for t, k in sorted(tags.items())))
    if len(lines) == 1:
        lines.append("(no records)")
    return "\n".join(lines)


def _write_decisions(path: Path, ingested: list[IngestedRecord], decisions: list[Decision]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for item, decision in zip(ingested, decisions):
            row = {**asdict(decision), "file": item.source.file, "file_sha256": item.source.sha256,
                   "line": item.source.line}
            handle.write(canonical_json(row) + "\n")
