"""The fused set as supervised fine-tuning files, each example self-contained and checked.

One example is what a chat template consumes: ``messages`` (the system prompt the model saw, the user's
request, the assistant's reasoning in ``reasoning_content``, tool calls in the OpenAI / Hugging Face form
``{"id", "type": "function", "function": {"name", "arguments": JSON text}}``, tool results answering a
call id, and the final reply) plus ``tools``, the JSON-schema function definitions the model was shown,
as JSON text (``json.loads`` gives the list ``apply_chat_template(tools=...)`` takes). Every message has
the same keys (None where absent) and JSON-valued fields are text, so the files load with Hugging Face
``datasets`` and round-trip every column unchanged.

An example is validated before it is written: every call names a shown tool with arguments that match
its schema, every tool message answers an earlier call, roles follow the chat convention, nothing
of the hidden ground truth appears in what the model sees, and its texts pass the hygiene checks
(``planfusion.tasks.hygiene``). One that fails is dropped with a reason.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Sequence

import jsonschema
import pyarrow as pa
import pyarrow.parquet as pq

from planfusion.tasks.hygiene import record_problems
from planfusion.tasks.record import canonical_json

MESSAGE_KEYS = ("role", "content", "reasoning_content", "tool_calls", "tool_call_id", "name")
FILES = ("fused_training_set.jsonl", "fused_training_set.parquet")
_LEAK_MIN_CHARS = 48  # hidden values shorter than this (a name, a number) may legitimately reappear

_CALL = pa.struct([("id", pa.string()), ("type", pa.string()),
                   ("function", pa.struct([("name", pa.string()), ("arguments", pa.string())]))])
_MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string()), ("reasoning_content", pa.string()),
                      ("tool_calls", pa.list_(_CALL)), ("tool_call_id", pa.string()), ("name", pa.string())])
SCHEMA = pa.schema([
    ("id", pa.string()), ("family", pa.string()), ("subtype", pa.string()),
    ("messages", pa.list_(_MESSAGE)), ("tools", pa.string()),
    ("fusion_step", pa.int64()), ("novelty", pa.float64()), ("content_hash", pa.string()),
])


def tool_definitions(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The tools the task showed the model, as chat-template function definitions."""
    return [{"type": "function", "function": {"name": t["name"], "description": t.get("description", ""),
                                              "parameters": t.get("parameters", {"type": "object", "properties": {}})}}
            for t in record["task"].get("tools") or []]


def chat_messages(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The trajectory in the chat convention, every message with every key."""
    messages = []
    for m in record["trajectory"]:
        calls = m.get("tool_calls")
        messages.append({
            "role": m["role"],
            "content": m.get("content") or "",
            "reasoning_content": m.get("think"),
            "tool_calls": [{"id": c["id"], "type": "function",
                            "function": {"name": c["name"], "arguments": canonical_json(c["arguments"])}}
                           for c in calls] if calls else None,
            "tool_call_id": m.get("tool_call_id"),
            "name": m.get("name"),
        })
    return messages


def training_example(record: dict[str, Any], fused: dict[str, Any]) -> dict[str, Any]:
    """One SFT example for a fused row (its fusion step and novelty) and its record."""
    return {
        "id": record["id"], "family": record["family"], "subtype": record["subtype"],
        "messages": chat_messages(record), "tools": canonical_json(tool_definitions(record)),
        "fusion_step": fused["fusion_step"], "novelty": float(fused["novelty"]),
        "content_hash": record["lineage"]["content_hash"],
    }


def example_problems(example: dict[str, Any], record: dict[str, Any]) -> list[str]:
    """What makes the example unfit to train on (empty: fit)."""
    messages, problems = example["messages"], []
    tools = {t["function"]["name"]: t["function"]["parameters"] for t in json.loads(example["tools"])}
    if not messages or messages[0]["role"] != "system" or len(messages) < 3 or messages[1]["role"] != "user":
        problems.append("must open with the system prompt, then the user's request")
    open_calls: set[str] = set()
    for i, m in enumerate(messages):
        where = f"message {i} ({m['role']})"
        if set(m) != set(MESSAGE_KEYS):
            problems.append(f"{where}: keys {sorted(m)}")
        if m["role"] not in ("system", "user", "assistant", "tool") or (m["role"] == "system" and i):
            problems.append(f"{where}: role out of place")
        if m["role"] == "tool":
            if m["tool_call_id"] not in open_calls:
                problems.append(f"{where}: answers no open call ({m['tool_call_id']!r})")
            open_calls.discard(m["tool_call_id"])
        elif open_calls and m["role"] != "tool":
            problems.append(f"{where}: calls {sorted(open_calls)} were never answered")
            open_calls.clear()
        for call in m["tool_calls"] or []:
            if m["role"] != "assistant":
                problems.append(f"{where}: only the assistant calls tools")
            problems += _call_problems(where, call, tools)
            open_calls.add(call["id"])
    last = messages[-1] if messages else None
    if last is None or last["role"] != "assistant" or last["tool_calls"] or not last["content"].strip():
        problems.append("must end with the assistant's final reply")
    problems += _leaks(example, record)
    problems += [f"text hygiene: {kind} in {where}: {excerpt!r}" for where, kind, excerpt in record_problems(record)]
    return problems


def _call_problems(where: str, call: dict[str, Any], tools: dict[str, Any]) -> list[str]:
    name = call["function"]["name"]
    if name not in tools:
        return [f"{where}: calls {name!r}, which is not among the tools shown"]
    try:
        arguments = json.loads(call["function"]["arguments"])
    except json.JSONDecodeError:
        return [f"{where}: arguments of {name!r} are not JSON"]
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(tools[name]).iter_errors(arguments))
    return [f"{where}: arguments of {name!r} break its schema: {error.message}"] if error else []


def _leaks(example: dict[str, Any], record: dict[str, Any]) -> list[str]:
    """Hidden ground truth (gold graphs, schedules, world state) in the model's view: a leak."""
    seen = "\n".join([example["tools"], *(str(v) for m in example["messages"] for k, v in m.items()
                                          if k in ("content", "reasoning_content")),
                       *(c["function"]["arguments"] for m in example["messages"] for c in m["tool_calls"] or [])])
    return [f"hidden ground_truth.{key} appears in the model's view"
            for key, value in (record.get("ground_truth") or {}).items()
            if isinstance(value, (dict, list)) and len(text := canonical_json(value)) >= _LEAK_MIN_CHARS
            and text in seen]


def build_examples(pairs: Iterable[tuple[dict[str, Any], dict[str, Any]]]
                   ) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """(record, fused row) pairs -> the valid examples in order, and task id -> why dropped."""
    examples, dropped = [], {}
    for record, fused in pairs:
        example = training_example(record, fused)
        problems = example_problems(example, record)
        if problems:
            dropped[record["id"]] = "; ".join(problems)
        else:
            examples.append(example)
    return examples, dropped


def write_exports(examples: Sequence[dict[str, Any]], directory: str | Path) -> dict[str, str]:
    """fused_training_set.jsonl and .parquet, same columns, each written atomically (temp, rename)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    jsonl, parquet = (directory / name for name in FILES)
    tmp = jsonl.with_name(jsonl.name + ".tmp")
    tmp.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in examples), encoding="utf-8")
    tmp.replace(jsonl)
    tmp = parquet.with_name(parquet.name + ".tmp")
    pq.write_table(pa.Table.from_pylist(list(examples), schema=SCHEMA), tmp)
    tmp.replace(parquet)
    return {"jsonl": str(jsonl), "parquet": str(parquet)}
