"""Plausible slips an agent makes in a call (swapped or mistyped digits, a folder left out of a path, the
wrong extension, a name in lower case or cut short), used to inject recoverable errors. Each slip comes
with the words that describe exactly that slip, so the reflection after the error names what really
went wrong. Every variant keeps the argument types and enums valid: the call is well-formed and only
the backend refuses it."""

from __future__ import annotations

import random
import re
from typing import Any

from planfusion.tasks.tool_execution.env import TOOLS

_ID = re.compile(r"^([A-Z]+-)(\d+)$")
_FREE_TEXT = ("memo", "text", "content", "title", "contains", "query", "tags", "items", "overwrite")

_NOUNS = {"from_account": "source account", "to_account": "target account", "sku": "SKU", "source": "source path",
          "assignee": "agent name", "owner": "owner's name", "customer": "customer's name", "team": "team name"}

Variant = tuple[dict[str, Any], str, str]  # (wrong arguments, the slip in words, argument name)


def noun(key: str) -> str:
    """How a reasoning step names an argument: "ticket id", "source account", never "ticket_id"."""
    return _NOUNS.get(key, key.replace("_", " "))


def wrong_variants(name: str, arguments: dict[str, Any], rng: random.Random) -> list[Variant]:
    """Candidates in a seeded order; they may still succeed, so the caller keeps only those the simulator refuses.
    The slip reads after "I", e.g. "swapped the last two digits of the ticket id"."""
    properties = TOOLS[name].schema["parameters"]["properties"]
    variants: list[Variant] = []
    for key, value in arguments.items():
        if key in _FREE_TEXT or "enum" in properties[key]:
            continue
        for wrong, slip in _slips(value):
            if wrong != value:
                variants.append(({**arguments, key: wrong}, slip.format(key=noun(key)), key))
    rng.shuffle(variants)
    return variants


def _slips(value: Any) -> list[tuple[Any, str]]:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return []
    if isinstance(value, int):
        return [(value * 10 + 5, "typed an extra digit 5 at the end of the {key}")]
    match = _ID.match(value)
    if match:
        prefix, digits = match.groups()
        last = str((int(digits[-1]) + 3) % 10)
        return [(prefix + digits[:-2] + digits[-1] + digits[-2], "swapped the last two digits of the {key}"),
                (prefix + digits[:-1] + last, f"mistyped the last digit of the {{key}} as {last}")]
    if value.startswith("/"):
        return _path_slips(value)
    slips = [(value.lower(), "wrote the {key} in lower case")]
    if " " in value:
        slips.append((value.split(" ")[0], "used only the first name as the {key}"))
    else:
        slips += [(value + "s", "added a stray 's' to the end of the {key}"),
                  (value[:-1], "left off the last letter of the {key}")]
    return slips


def _path_slips(path: str) -> list[tuple[str, str]]:
    head, _, name = path.rpartition("/")
    slips = []
    if head:  # drop the innermost folder: /projects/atlas/spec.txt -> /projects/spec.txt
        outer, _, folder = head.rpartition("/")
        slips.append((f"{outer}/{name}", f"left the folder '{folder}' out of the {{key}}"))
    stem, dot, ext = name.partition(".")
    if dot:
        other = "md" if ext != "md" else "txt"
        slips.append((f"{head}/{stem}.{other}", f"used the extension .{other} instead of .{ext} in the {{key}}"))
    elif name.lower() != name:
        slips.append((f"{head}/{name.lower()}", "wrote the file name in the {key} in lower case"))
    else:
        slips.append((path + "s", "added a stray 's' to the end of the {key}"))
    return slips
