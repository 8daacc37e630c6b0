"""The contradiction filter: the reasoning's final "Conclusion: ..." must state the answer given."""

from __future__ import annotations

from planfusion.tasks.family import Record
from planfusion.tasks.scheduling.answer_parser import answer_key, conclusion_key


def contradiction(record: Record) -> str | None:
    """A description when the last think concludes something other than the final answer; None when they
    agree or either side cannot be read (an unreadable answer is the verifier's ``bad_format``)."""
    trajectory = record.get("trajectory") if isinstance(record, dict) else None
    if not isinstance(trajectory, list):
        return None
    think = next((m["think"] for m in reversed(trajectory) if isinstance(m, dict) and m.get("role") == "assistant"
                  and isinstance(m.get("think"), str)), None)
    subtype, answer = record.get("subtype"), record.get("answer")
    if think is None or not isinstance(subtype, str) or not isinstance(answer, str):
        return None
    try:
        stated = conclusion_key(subtype, think)
        given = answer_key(subtype, answer)
    except ValueError:
        return None
    if stated is None or stated == given:
        return None
    return f"the reasoning concludes {stated!r} but the answer gives {given!r}"
