"""How a turn closes: the reasoning names in words what the reply will report, and the reply says it.
Rendered by the generator, read back by the contradiction filter.

    closing think: <status> To report: <label> is <value>; <label> is <value>.
    reply:         plain sentences that mention every reported value

No key names and no "Results:" block: the machine-readable outputs live in the ground truth.
"""

from __future__ import annotations

from typing import Any

REPORT_MARK = " To report: "


def render_closing_think(status: str, outputs: list[dict[str, Any]]) -> str:
    if not outputs:
        return status + " There is no value to report, only what was done."
    return status + REPORT_MARK + "; ".join(f"{o['label']} is {o['value']}" for o in outputs) + "."


def parse_closing_think(think: str) -> dict[str, str]:
    """label -> value stated after the report mark (empty if the think states none)."""
    _, found, tail = think.rpartition(REPORT_MARK)
    if not found:
        return {}
    pairs = (item.rpartition(" is ") for item in tail.removesuffix(".").split("; "))
    return {label: value for label, sep, value in pairs if sep}
