"""Plausible slips an agent makes in a call (a transposed id digit, a wrong directory, an inexact name,
an amount that is too large), used to inject recoverable errors. Every variant keeps the argument
types and enums valid, so the call is well-formed and only the backend refuses it."""

from __future__ import annotations

import random
import re
from typing import Any

from planfusion.tasks.tool_execution.env import TOOLS

_ID = re.compile(r"^([A-Z]+-)(\d+)$")
_FREE_TEXT = ("memo", "text", "content", "title", "contains", "query", "tags", "items", "overwrite")


def wrong_variants(name: str, arguments: dict[str, Any], rng: random.Random) -> list[tuple[dict[str, Any], str, str]]:
    """(wrong arguments, what went wrong, argument name) candidates in a seeded order; they may still succeed,
    so the caller keeps only those the simulator refuses."""
    properties = TOOLS[name].schema["parameters"]["properties"]
    variants: list[tuple[dict[str, Any], str, str]] = []
    for key, value in arguments.items():
        if key in _FREE_TEXT or "enum" in properties[key]:
            continue
        for wrong, slip in _slips(value):
            if wrong != value:
                variants.append(({**arguments, key: wrong}, slip.format(key=key.replace("_", " ")), key))
    rng.shuffle(variants)
    return variants


def _slips(value: Any) -> list[tuple[Any, str]]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [(value * 10 + 5, "typed the {key} with an extra digit")]
    if not isinstance(value, str):
        return []
    match = _ID.match(value)
    if match:
        prefix, digits = match.groups()
        swapped = digits[:-2] + digits[-1] + digits[-2]
        return [(prefix + swapped, "transposed two digits of the {key}"),
                (prefix + str(int(digits) + 10), "mistyped the {key}")]
    if value.startswith("/"):
        head, _, tail = value.rpartition("/")
        stem, dot, ext = tail.partition(".")
        return [((head.rpartition("/")[0] or "") + "/" + tail, "left a directory out of the {key}"),
                (head + "/" + stem + (".md" if ext != "md" else ".txt") if dot else value + "s",
                 "guessed the wrong file name in the {key}")]
    return [(value.lower(), "did not use the exact spelling of the {key}"),
            (value.split(" ")[0] + "s", "shortened the {key}")]
