"""Stage 2: the verdict and filter decision for every raw task (kept or dropped, and why).

Raw rows come in batches and curated rows leave in batches (:func:`curated_batches`): deduplication
remembers only signatures and content hashes, so a family of any size curates in bounded memory."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Sequence

from planfusion.tasks.family import Record, Verdict
from planfusion.tasks.filters import Curator, Decision


@dataclass
class CurationSummary:
    """What a curation saw: decisions by reason, the kept tasks the re-run verifier failed (the check),
    and the first dropped rows (a preview)."""

    by_reason: Counter = field(default_factory=Counter)
    failing: list[str] = field(default_factory=list)
    dropped_preview: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.by_reason.values())

    @property
    def kept(self) -> int:
        return self.by_reason["kept"]


def curated_rows(raw: Sequence[dict[str, Any]], *, allow_unverified: bool = False) -> list[dict[str, Any]]:
    """raw: raw_tasks rows (with their record). One curated row per raw row, same order."""
    return [row for batch in curated_batches([raw], allow_unverified=allow_unverified) for row in batch]


def curated_batches(raw_batches: Iterable[Sequence[dict[str, Any]]], *, allow_unverified: bool = False,
                    summary: CurationSummary | None = None,
                    recheck: Callable[[Record], Verdict] | None = None) -> Iterator[list[dict[str, Any]]]:
    """One batch of curated rows per batch of raw rows, decided in order across batches. ``summary``
    gathers counts and previews; ``recheck`` (the family verifier) is re-run on every kept, verified task
    while its record is at hand, and the ones it fails are listed in ``summary.failing``."""
    curator = Curator(allow_unverified=allow_unverified)
    summary = summary if summary is not None else CurationSummary()
    for raw in raw_batches:
        rows = []
        for row in raw:
            decision = curator.decide(row["record"], row["content_hash"])
            rows.append(_curated(row, decision))
            summary.by_reason[decision.reason] += 1
            if not decision.kept and len(summary.dropped_preview) < 10:
                summary.dropped_preview.append(rows[-1])
            if recheck is not None and decision.kept and "unverified" not in decision.tags \
                    and not recheck(row["record"]).passed:
                summary.failing.append(row["task_id"])
        yield rows


def _curated(row: dict[str, Any], d: Decision) -> dict[str, Any]:
    return {
        "family": row["family"],
        "task_id": row["task_id"],
        "content_hash": row["content_hash"],
        "kept": d.kept,
        "reason": d.reason,
        "detail": d.detail,
        "checks": list(d.checks),
        "tags": list(d.tags),
        "verified": d.reason != "failed_verification" and "unverified" not in d.tags
        and d.reason != "no_ground_truth",
        "metrics": d.metrics,
    }

