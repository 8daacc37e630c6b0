"""What the shared quality filters ask of this family: step count, structure signature, contradiction."""

from __future__ import annotations

from typing import Any

from planfusion.tasks.record import canonical_json, sha256_hex
from planfusion.tasks.tool_execution.answer_format import parse_final_think, parse_results


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


def contradiction(record: Any) -> str | None:
    """A description when the last reasoning step states a result the final answer does not give."""
    trajectory = record.get("trajectory") if isinstance(record, dict) else None
    answer = record.get("answer") if isinstance(record, dict) else None
    if not isinstance(trajectory, list) or not trajectory or not isinstance(answer, str):
        return None
    last = trajectory[-1]
    think = last.get("think") if isinstance(last, dict) else None
    if not isinstance(think, str):
        return None
    stated, given = parse_final_think(think), parse_results(answer)
    for name, value in stated.items():
        if name in given and given[name] != value:
            return f"the reasoning concludes {name}={value} but the answer gives {given[name]}"
        if name not in given and value not in answer:
            return f"the reasoning concludes {name}={value}, which the answer does not mention"
    return None
