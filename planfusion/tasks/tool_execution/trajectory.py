"""Rendering an executed program into SFT chat messages ending in the canonical answer."""

from __future__ import annotations

import json
from typing import Any

from planfusion.tasks.tool_execution.answer_format import render_closing_think
from planfusion.tasks.tool_execution.scenarios.session import Call, Piece, Step


_ENCODE = json.JSONEncoder(ensure_ascii=False).encode  # one encoder: json.dumps with options builds one per call
_CLEAN = "Everything asked is done and every call succeeded."
_RECOVERED = "Everything asked is done; the failed call was corrected and retried, so nothing is left failing."


def observation_text(result: dict[str, Any]) -> str:
    return _ENCODE(result)


def render(system: str, requests: list[str], turns: list[list[Piece]], steps: list[Step], calls: list[Call],
           outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """system, then per turn: the user request, assistant steps (think + tool_calls) each followed by
    its tool results, and the assistant's reply, which reports that turn's outputs in plain sentences."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
    counter = 0

    def emit(think: str, named: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> None:
        nonlocal counter
        ids = []
        for _ in named:
            counter += 1
            ids.append(f"call_{counter}")
        messages.append({"role": "assistant", "content": "", "think": think,
                         "tool_calls": [{"id": i, "name": n, "arguments": a} for i, (n, a, _) in zip(ids, named)]})
        messages.extend({"role": "tool", "tool_call_id": i, "content": observation_text(r)}
                        for i, (_, _, r) in zip(ids, named))

    by_turn: list[list[Step]] = [[] for _ in turns]
    for step in steps:
        by_turn[calls[step.refs[0]].turn].append(step)
    for t, (request, pieces) in enumerate(zip(requests, turns)):
        messages.append({"role": "user", "content": request})
        for step in by_turn[t]:
            think = step.think
            if step.error is not None:
                call = calls[step.refs[0]]
                emit(think, [(call.name, step.error.arguments, step.error.result)])
                think = step.error.reflection
            emit(think, [(calls[r].name, calls[r].arguments, calls[r].result) for r in step.refs])
        recovered = any(step.error is not None for step in by_turn[t])
        status = _RECOVERED if recovered else _CLEAN
        messages.append({"role": "assistant", "content": " ".join(p.reply for p in pieces),
                         "think": render_closing_think(status, [o for o in outputs if o["turn"] == t])})
    return messages
