"""The record envelope shared by every task family, and the hashing that makes it stable.

A record is a plain JSON-able dict (so it travels through JSONL files and DuckDB unchanged):

    id            family prefix + hash of (generator, version, seed, params): stable across runs
    family        "decomposition" | "scheduling" | "tool_execution"
    subtype       family-specific, e.g. "calendar_meeting"
    task          everything a solver may see: {"instruction": str, ...family fields}
    ground_truth  never shown to a solver (gold DAG, constraints and optimum, reference calls and state)
    trajectory    chat messages ready for SFT: {"role", "content", "think"?, "tool_calls"?, "tool_call_id"?}
                  tool_calls items are {"id", "name", "arguments": dict}; the last message is the
                  assistant's final answer
    answer        the final answer text (the content of the last assistant message)
    difficulty    {"level": 1..5, "knobs": {...}}
    quality       {"n_steps", "n_tool_calls", "n_errors_recovered", "has_reflection", "format_ok",
                   "answer_correct", "flags": [...]}
    lineage       {"generator", "generator_version", "master_seed", "index", "seed", "params",
                   "content_hash", "parent_id", "perturbation"}
    text          instruction plus a canonical rendering of the answer: what gets embedded
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

FAMILIES: tuple[str, ...] = ("decomposition", "scheduling", "tool_execution")
FAMILY_PREFIX: dict[str, str] = {"decomposition": "dec", "scheduling": "sch", "tool_execution": "tool"}

REQUIRED_FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": str,
    "family": str,
    "subtype": str,
    "task": dict,
    "ground_truth": dict,
    "trajectory": list,
    "answer": str,
    "difficulty": dict,
    "quality": dict,
    "lineage": dict,
    "text": str,
}

# Fields that make up the content hash: what a solver or a trainer would see, not where it came from.
CONTENT_FIELDS: tuple[str, ...] = ("family", "subtype", "task", "ground_truth", "trajectory", "answer")


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: the same value always gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def derive_seed(master_seed: int, index: int, generator: str, version: str) -> int:
    """Per-sample seed by hashing, never the global RNG, so any sample can be rebuilt alone, in any order."""
    digest = hashlib.sha256(f"{generator}|{version}|{master_seed}|{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1  # fits a signed 64-bit integer


def content_hash(record: dict[str, Any]) -> str:
    return sha256_hex(canonical_json({k: record.get(k) for k in CONTENT_FIELDS}))


def record_id(family: str, generator: str, version: str, seed: int, params: dict[str, Any]) -> str:
    digest = sha256_hex(canonical_json([generator, version, seed, params]))[:16]
    return f"{FAMILY_PREFIX[family]}-{digest}"


def build_record(
    *,
    family: str,
    subtype: str,
    task: dict[str, Any],
    ground_truth: dict[str, Any],
    trajectory: list[dict[str, Any]],
    answer: str,
    difficulty: dict[str, Any],
    quality: dict[str, Any],
    generator: str,
    version: str,
    master_seed: int,
    index: int,
    seed: int,
    params: dict[str, Any],
    text: str,
    parent_id: str | None = None,
    perturbation: str | None = None,
) -> dict[str, Any]:
    """Assemble the envelope and stamp id and content hash (negatives get an id derived from their parent)."""
    record: dict[str, Any] = {
        "family": family,
        "subtype": subtype,
        "task": task,
        "ground_truth": ground_truth,
        "trajectory": trajectory,
        "answer": answer,
        "difficulty": difficulty,
        "quality": quality,
        "lineage": {
            "generator": generator,
            "generator_version": version,
            "master_seed": master_seed,
            "index": index,
            "seed": seed,
            "params": params,
            "content_hash": "",
            "parent_id": parent_id,
            "perturbation": perturbation,
        },
        "text": text,
    }
    if parent_id is None:
        record["id"] = record_id(family, generator, version, seed, params)
    else:
        record["id"] = f"{parent_id}~{perturbation}"
    record["lineage"]["content_hash"] = content_hash(record)
    return record


def restamp(record: dict[str, Any]) -> dict[str, Any]:
    """Recompute the content hash after a record was edited (perturbations edit copies)."""
    record["lineage"]["content_hash"] = content_hash(record)
    return record
