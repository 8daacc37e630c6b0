"""What a subtype builder hands to the record assembler, plus the text helpers the builders share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Instance:
    """One built task: constraints as the instruction states them, the confirmed solution, and the
    reasoning text. ``extra_truth`` holds the objective facts the verifier compares against."""

    subtype: str
    instruction: str
    constraints: dict[str, Any]
    solution: Any
    answer: str
    think: str
    knobs: dict[str, Any]
    n_steps: int
    extra_truth: dict[str, Any] = field(default_factory=dict)
    has_reflection: bool = False


def hhmm(minutes: int) -> str:
    """Minutes after midnight as 24-hour "H:MM" (the NATURAL PLAN style, no leading zero)."""
    return f"{minutes // 60}:{minutes % 60:02d}"


def join_names(names: list[str], last: str = "and") -> str:
    """"A", "A and B", "A, B and C"."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} {last} {names[-1]}"
