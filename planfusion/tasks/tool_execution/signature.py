"""Step counts for the too-easy filter and value-free structural signatures for near-duplicate removal."""

from __future__ import annotations

from typing import Any

from planfusion.tasks.record import canonical_json, sha256_hex

# Fewer than five calls in the reference program is not long-horizon tool use; five is also the
# default min_calls, so clean records under default params never fall under it.
MIN_STEPS = 5


def _reference_turns(record: Any) -> list[list[dict[str, Any]]]:
    truth = record.get("ground_truth") if isinstance(record, dict) else None
    turns = truth.get("turns") if isinstance(truth, dict) else None
    if not isinstance(turns, list):
        return []
    calls = [t.get("calls") if isinstance(t, dict) else None for t in turns]
    return [[c for c in turn if isinstance(c, dict)] if isinstance(turn, list) else [] for turn in calls]


def count_steps(record: Any) -> int:
    """Tool calls of the reference program; injected errors and their retries are not in it."""
    return sum(len(calls) for calls in _reference_turns(record))


def structural_signature(record: Any) -> str:
    """The program's shape with every value erased: per turn, each call's tool, argument names and
    which earlier calls it depends on. Same template mix with renamed entities -> same signature."""
    shape = [[[c.get("name"), sorted(map(str, c["arguments"])) if isinstance(c.get("arguments"), dict) else [],
               c.get("depends_on")] for c in calls] for calls in _reference_turns(record)]
    return sha256_hex(canonical_json(shape))[:16]
