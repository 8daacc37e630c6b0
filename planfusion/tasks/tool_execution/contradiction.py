"""The contradiction filter: the reasoning that closes a turn must not state a value its reply leaves out."""

from __future__ import annotations

from typing import Any

from planfusion.tasks.tool_execution.answer_format import parse_closing_think


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
