"""What the shared quality filters ask of this family: step count, structure signature, contradiction."""

from __future__ import annotations

from typing import Any

from planfusion.tasks.record import canonical_json, sha256_hex
from planfusion.tasks.tool_execution.answer_format import parse_closing_think


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
    """A description when the reasoning that closes a turn states a value its reply does not give."""
    trajectory = record.get("trajectory") if isinstance(record, dict) else None
    if not isinstance(trajectory, list):
        return None
    for message in trajectory:
        if not isinstance(message, dict) or message.get("role") != "assistant" or message.get("tool_calls"):
            continue
        think, reply = message.get("think"), message.get("content")
        if not isinstance(think, str) or not isinstance(reply, str):
            continue
        for label, value in parse_closing_think(think).items():
            if not _says(reply, value):
                return f"the reasoning concludes {label} is {value}, which the reply does not say"
    return None


def _says(text: str, value: str) -> bool:
    """``value`` occurs in ``text`` as a whole token (not inside a longer id, word or number); plain
    find, not a regex per value, because the filter runs this on every value of every record."""
    start = text.find(value)
    while start >= 0 and value:
        end = start + len(value)
        if not _glued(text[start - 1:start]) and not _glued(text[end:end + 1]):
            return True
        start = text.find(value, start + 1)
    return False


def _glued(char: str) -> bool:
    return char != "" and (char.isalnum() or char in "_-")
