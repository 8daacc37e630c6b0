"""The canonical shape of the final answer and of the last reasoning step: rendered by the generator,
parsed by the contradiction filter.

    answer:      <reply sentences>\n\nResults:\n- <name>: <value>\n...
    final think: ... Final results: <name>=<value>; <name>=<value>
"""

from __future__ import annotations

from typing import Any

RESULTS_HEADER = "Results:"
FINAL_MARK = "Final results: "


def render_answer(reply: str, outputs: list[dict[str, Any]]) -> str:
    return reply + "\n\n" + RESULTS_HEADER + "\n" + "\n".join(f"- {o['name']}: {o['value']}" for o in outputs)


def render_final_think(outputs: list[dict[str, Any]]) -> str:
    return ("Every request is done and no call is left failing. " + FINAL_MARK
            + "; ".join(f"{o['name']}={o['value']}" for o in outputs))


def parse_results(answer: str) -> dict[str, str]:
    """name -> value from the "- name: value" lines after the Results header (empty if there is none)."""
    _, found, tail = answer.rpartition(RESULTS_HEADER + "\n")
    if not found:
        return {}
    pairs = (line[2:].partition(": ") for line in tail.splitlines() if line.startswith("- "))
    return {name: value for name, sep, value in pairs if sep}


def parse_final_think(think: str) -> dict[str, str]:
    """name -> value stated after the final-results mark (empty if the think states none)."""
    _, found, tail = think.rpartition(FINAL_MARK)
    if not found:
        return {}
    pairs = (item.partition("=") for item in tail.split("; "))
    return {name.strip(): value.strip() for name, sep, value in pairs if sep}
