"""Reading a user's JSONL task file into records, with one traceable rejection per bad line.

A malformed line never stops the good ones. Records written outside planfusion may lack the
bookkeeping fields (id, lineage, quality, ...): those are filled with neutral defaults and the
content hash is always recomputed, never trusted. What a record *is* (family, subtype, task,
trajectory, answer) must be present with the right type.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from planfusion.tasks.family import Record
from planfusion.tasks.record import FAMILIES, FAMILY_PREFIX, REQUIRED_FIELDS, content_hash

# Fields of REQUIRED_FIELDS that may be absent from an outside record and are filled in here.
FILLABLE_FIELDS: tuple[str, ...] = ("id", "ground_truth", "difficulty", "quality", "lineage", "text")

_LINEAGE_DEFAULTS: dict[str, Any] = {
    "generator": "external",
    "generator_version": None,
    "master_seed": None,
    "index": None,
    "seed": None,
    "params": {},
    "parent_id": None,
    "perturbation": None,
}
_QUALITY_DEFAULTS: dict[str, Any] = {
    "n_steps": None,
    "n_errors_recovered": 0,
    "has_reflection": False,
    "format_ok": None,
    "answer_correct": None,
    "flags": [],
}
_CHUNK = 1 << 16
_JSON_NAMES: dict[type, str] = {
    dict: "object", list: "array", str: "string", int: "integer", float: "number", bool: "boolean",
}


@dataclass(frozen=True)
class Source:
    """Where an ingested record came from: enough to point a user at the exact line."""

    file: str
    sha256: str
    line: int


@dataclass(frozen=True)
class IngestedRecord:
    record: Record
    source: Source


@dataclass(frozen=True)
class Rejection:
    file: str
    line: int
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


def file_fingerprint(path: str | Path) -> str:
    """sha256 of the file's bytes: identifies a user file independently of its name."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_task_file(
    path: str | Path, *, expected_family: str | None = None, max_line_bytes: int = 1_000_000
) -> tuple[list[IngestedRecord], list[Rejection]]:
    """Parse every non-blank line of ``path``; good records and rejections both keep their line number.

    ``expected_family`` (e.g. from ``inbox/<family>/``) rejects records of any other family.
    Lines longer than ``max_line_bytes`` are rejected without being held in memory whole.
    """
    if expected_family is not None and expected_family not in FAMILIES:
        raise ValueError(f"expected_family {expected_family!r} is not one of {', '.join(FAMILIES)}")
    if max_line_bytes < 1:
        raise ValueError(f"max_line_bytes must be positive, got {max_line_bytes}")
    name = str(path)
    digest = hashlib.sha256()
    parsed: list[tuple[int, Record]] = []
    rejections: list[Rejection] = []
    with open(path, "rb") as handle:
        for number, line, size in _lines(handle, digest, max_line_bytes):
            if line is None:
                rejections.append(Rejection(name, number, None, f"line is {size} bytes, over the limit of {max_line_bytes}"))
                continue
            if not line.strip():
                continue
            record, problem = _parse(line, expected_family)
            if problem is not None:
                rejections.append(Rejection(name, number, problem[0], problem[1]))
            else:
                parsed.append((number, record))
    sha = digest.hexdigest()
    return [IngestedRecord(record, Source(name, sha, number)) for number, record in parsed], rejections


def _lines(handle: BinaryIO, digest: Any, limit: int) -> Iterator[tuple[int, bytes | None, int]]:
    """(1-based number, bytes or None if oversize, size) per line, hashing the whole file on the way."""
    number = 0
    while True:
        line = handle.readline(limit + 2)  # room for "\r\n": a truncated read is always oversize
        if not line:
            return
        number += 1
        digest.update(line)
        size = len(line.rstrip(b"\r\n"))
        if size <= limit:
            yield number, line, size
            continue
        while line and not line.endswith(b"\n"):  # drain the rest of the oversize line
            line = handle.readline(_CHUNK)
            digest.update(line)
            size += len(line.rstrip(b"\r\n"))
        yield number, None, size


def _parse(line: bytes, expected_family: str | None) -> tuple[Record, tuple[str | None, str] | None]:
    """The completed record, or a (field, reason) problem."""
    try:
        value = json.loads(line)
    except UnicodeDecodeError as exc:
        return {}, (None, f"not valid UTF-8: {exc.reason} at byte {exc.start}")
    except json.JSONDecodeError as exc:
        return {}, (None, f"invalid JSON: {exc.msg} at column {exc.colno}")
    if not isinstance(value, dict):
        return {}, (None, f"not a JSON object but {_json_type(value)}")
    for key, expected in REQUIRED_FIELDS.items():
        if key not in value:
            if key not in FILLABLE_FIELDS:
                return {}, (key, "missing required field")
        elif not isinstance(value[key], expected):
            return {}, (key, f"wrong type: expected {_type_name(expected)}, got {_json_type(value[key])}")
    family = value["family"]
    if family not in FAMILIES:
        return {}, ("family", f"unknown family {family!r}; expected one of {', '.join(FAMILIES)}")
    if expected_family is not None and family != expected_family:
        return {}, ("family", f"family {family!r} does not match the expected {expected_family!r}")
    return _complete(value), None


def _complete(record: Record) -> Record:
    """Fill missing bookkeeping fields; the content hash is always recomputed."""
    record.setdefault("ground_truth", {})
    record.setdefault("difficulty", {"level": None, "knobs": {}})
    quality = record.setdefault("quality", {})
    _fill(quality, _QUALITY_DEFAULTS)
    if "n_tool_calls" not in quality:
        calls = (m.get("tool_calls") for m in record["trajectory"] if isinstance(m, dict))
        quality["n_tool_calls"] = sum(len(c) for c in calls if isinstance(c, list))
    if "text" not in record:
        instruction = record["task"].get("instruction")
        record["text"] = f"{instruction}\n{record['answer']}" if isinstance(instruction, str) else record["answer"]
    lineage = record.setdefault("lineage", {})
    _fill(lineage, _LINEAGE_DEFAULTS)
    lineage["content_hash"] = content_hash(record)
    record.setdefault("id", f"{FAMILY_PREFIX[record['family']]}-{lineage['content_hash'][:16]}")
    return record


def _fill(target: dict[str, Any], defaults: dict[str, Any]) -> None:
    """Missing keys get a fresh copy of their default (never a shared mutable)."""
    for key, default in defaults.items():
        if key not in target:
            target[key] = copy.deepcopy(default)


def _type_name(expected: type | tuple[type, ...]) -> str:
    types = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join(_JSON_NAMES.get(t, t.__name__) for t in types)


def _json_type(value: Any) -> str:
    return "null" if value is None else _JSON_NAMES.get(type(value), type(value).__name__)
