"""The contradiction filter: the reasoning that closes a turn must not state a value its reply leaves out."""

from __future__ import annotations

from typing import Any

from planfusion.tasks.tool_execution.answer_format import parse_closing_think
from planfusion.tasks.tool_execution.verifier import mentions


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
            if not mentions(reply, value):
                return f"the reasoning concludes {label} is {value}, which the reply does not say"
    return None
