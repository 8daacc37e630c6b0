"""Stage 2: the verdict and filter decision for every raw task (kept or dropped, and why)."""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

from planfusion.tasks.filters import curate


def curated_rows(raw: Sequence[dict[str, Any]], *, allow_unverified: bool = False) -> list[dict[str, Any]]:
    """raw: raw_tasks rows (with their record). One curated row per raw row, same order."""
    decisions = curate([row["record"] for row in raw], allow_unverified=allow_unverified)
    return [
        {
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
        for row, d in zip(raw, decisions)
    ]


def decisions_by_reason(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    return dict(sorted(Counter(row["reason"] for row in rows).items()))
