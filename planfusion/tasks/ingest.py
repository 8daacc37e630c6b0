"""Reading a user's JSONL task file into records, with one traceable rejection per bad line.

A malformed line never stops the good ones. Records written outside planfusion may lack the
bookkeeping fields (id, lineage, quality, ...): those are filled with neutral defaults and the
content hash is always recomputed, never trusted. What a record *is* (family, subtype, task,
trajectory, answer) must be present with the right type.

A line is ingested only if everything downstream can hold it: canonical JSON and its hash, the
DuckDB columns, the family verifiers. So every value in it must be storable (no NaN or Infinity, no
integer beyond 64 bits, no NUL character or lone surrogate, at most MAX_DEPTH levels of nesting) and
the envelope (trajectory messages and tool calls, difficulty, quality, lineage) must have the types
the pipeline reads. A rejection names the offending field by its path, e.g.
``trajectory[2].tool_calls[0].arguments``, and a syntax error by its column in the user's editor.
"""

from __future__ import annotations

import codecs
import copy
import hashlib
import json
import math
import re
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
# Containers nested deeper than this are rejected: generated records nest at most about 10 levels, and
# a fixed limit keeps parsing, hashing and copying far from Python's recursion limit.
MAX_DEPTH = 64
_INT64 = range(-(2**63), 2**63)

# What the pipeline reads from the envelope: field -> the JSON types it accepts, checked when present
# (required ones must be). Other fields are allowed and only checked for storable values.
_MESSAGE_FIELDS = {"role": ("string",), "content": ("string",), "think": ("string", "null"),
                   "tool_call_id": ("string",), "tool_calls": ("array",)}
_MESSAGE_REQUIRED = ("role", "content")
_TOOL_CALL_FIELDS = {"id": ("string",), "name": ("string",), "arguments": ("object",)}
_TASK_FIELDS = {"instruction": ("string",)}
_DIFFICULTY_FIELDS = {"level": ("integer", "null"), "knobs": ("object",)}
_QUALITY_FIELDS = {
    "n_steps": ("integer", "null"), "n_tool_calls": ("integer", "null"), "n_errors_recovered": ("integer",),
    "has_reflection": ("boolean",), "format_ok": ("boolean", "null"), "answer_correct": ("boolean", "null"),
    "flags": ("array",),
}
_LINEAGE_FIELDS = {
    "generator": ("string", "null"), "generator_version": ("string", "null"), "master_seed": ("integer", "null"),
    "index": ("integer", "null"), "seed": ("integer", "null"), "params": ("object",),
    "parent_id": ("string", "null"), "perturbation": ("string", "null"),
}

_CHUNK = 1 << 16
_JSON_NAMES: dict[type, str] = {
    dict: "object", list: "array", str: "string", int: "integer", float: "number", bool: "boolean",
}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},:]')
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# NUL and lone surrogates can only arrive as \u escapes (raw ones are invalid JSON or invalid UTF-8):
# a line without one of these skips the walk over its strings.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


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
            try:
                record = _ingest_line(line, number == 1, expected_family)
            except _Bad as bad:
                rejections.append(Rejection(name, number, bad.field, bad.reason))
                continue
            if record is not None:
                parsed.append((number, record))
    sha = digest.hexdigest()
    return [IngestedRecord(record, Source(name, sha, number)) for number, record in parsed], rejections


class _Bad(Exception):
    """Why one line cannot be ingested: the field to blame (a path, None for the whole line) and the reason."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class _Unstorable:
    """A number literal the warehouse cannot hold, parsed into a marker so the check can name its path."""

    reason: str


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


def _ingest_line(line: bytes, first: bool, expected_family: str | None) -> Record | None:
    """The completed record, None for a blank line; raises _Bad."""
    try:
        text = _decode(line, first)
        if not text.strip():
            return None
        numbers = _Numbers()
        value = _parse_json(text, numbers)
        if not isinstance(value, dict):
            raise _Bad(None, f"not a JSON object but {_json_type(value)}")
        if numbers.unstorable or _SUSPECT_ESCAPE.search(text):
            _check_storable(value)
        _check_envelope(value, expected_family)
        return _complete(value)
    except MemoryError:
        raise _Bad(None, "too large to process in memory") from None


def _decode(line: bytes, first: bool) -> str:
    """The line as an editor shows it: UTF-8 text without its line ending, nor a byte order mark on line 1."""
    line = line.removesuffix(b"\n").removesuffix(b"\r")
    if first:
        line = line.removeprefix(codecs.BOM_UTF8)
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as exc:
        column = len(line[: exc.start].decode("utf-8")) + 1
        raise _Bad(None, f"not valid UTF-8: {exc.reason} at column {column}") from None


def _parse_json(text: str, numbers: _Numbers) -> Any:
    """Strict JSON at most MAX_DEPTH deep; a syntax error is reported first, as the parser meets it first."""
    try:
        value = json.loads(text, parse_int=numbers.int, parse_float=numbers.float, parse_constant=numbers.constant)
    except json.JSONDecodeError as exc:
        raise _Bad(None, f"invalid JSON: {exc.msg} at column {exc.pos + 1}") from None
    except RecursionError:
        where = _too_deep(text)
        if where is None:  # the caller's stack was already deep: no fault of the line's
            raise _Bad(None, "nested too deeply for the parser here") from None
        raise _Bad(where, f"nested deeper than {MAX_DEPTH} levels") from None
    if _nested_too_deep(value):
        raise _Bad(_too_deep(text), f"nested deeper than {MAX_DEPTH} levels")
    return value


class _Numbers:
    """json.loads hooks: numbers the warehouse cannot hold become _Unstorable markers, and are counted."""

    def __init__(self) -> None:
        self.unstorable = 0

    def int(self, literal: str) -> int | _Unstorable:
        # a long literal is never converted: Python refuses over 4300 digits, and over 20 is out of range
        value = int(literal) if len(literal) <= 20 else None
        if value is None or value not in _INT64:
            return self._marker(f"integer {_clip(literal, 20)} does not fit in 64 bits")
        return value

    def float(self, literal: str) -> float | _Unstorable:
        value = float(literal)
        return self._marker(f"number {_clip(literal, 20)} is out of range") if math.isinf(value) else value

    def constant(self, literal: str) -> _Unstorable:
        return self._marker(f"{literal} is not JSON")

    def _marker(self, reason: str) -> _Unstorable:
        self.unstorable += 1
        return _Unstorable(reason)


def _nested_too_deep(value: Any) -> bool:
    """Whether containers nest deeper than MAX_DEPTH, one level at a time (no recursion)."""
    level = [value]
    for _ in range(MAX_DEPTH):
        level = [child for item in level for child in (item.values() if isinstance(item, dict) else item)
                 if isinstance(child, (dict, list))]
        if not level:
            return False
    return True


def _too_deep(text: str) -> str | None:
    """Path of the first container nested deeper than MAX_DEPTH, found by scanning tokens, not recursing.

    None if the text turns malformed first: past the point where the parser ran out of stack, the
    text was never checked (in practice the parser gets far deeper than MAX_DEPTH).
    """
    stack: list[Any] = []  # per open container: the current key (object) or index (array)
    last_string = ""
    try:
        for token in _TOKEN.finditer(text):
            mark = token.group()
            if mark[0] == '"':
                last_string = mark
            elif mark in "{[":
                if len(stack) == MAX_DEPTH:
                    return _path(tuple(stack))
                stack.append(0 if mark == "[" else None)
            elif mark in "}]":
                stack.pop()
            elif mark == ":":
                stack[-1] = json.loads(last_string)
            elif isinstance(stack[-1], int):  # a comma in an array
                stack[-1] += 1
    except (IndexError, ValueError):
        pass
    return None


def _check_storable(record: Record) -> None:
    """Every text (keys included) and number can be hashed, stored and read back; the first problem in
    document order is reported with its path. Only run when parsing made a marker or the text has a
    suspect escape: walking every value of every line would double the cost of ingestion."""
    stack: list[tuple[tuple[Any, ...], Any]] = [((), record)]
    while stack:
        path, value = stack.pop()
        if path and isinstance(path[-1], str):
            _check_text(path[-1], path, "key ")
        if isinstance(value, dict):
            stack.extend((path + (key,), item) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((path + (index,), value[index]) for index in range(len(value) - 1, -1, -1))
        elif isinstance(value, str):
            _check_text(value, path, "")
        elif isinstance(value, _Unstorable):
            raise _Bad(_path(path), value.reason)


def _check_text(text: str, path: tuple[Any, ...], what: str) -> None:
    """NUL breaks C consumers of the warehouse; a lone surrogate cannot be encoded as UTF-8 at all."""
    if "\x00" in text:
        raise _Bad(_path(path), f"{what}contains a NUL character")
    surrogate = _LONE_SURROGATE.search(text)
    if surrogate is not None:
        raise _Bad(_path(path), f"{what}contains a lone surrogate (\\u{ord(surrogate.group()):04x}): not Unicode text")


def _check_envelope(value: Record, expected_family: str | None) -> None:
    """The fields the pipeline reads have the types it expects, at every level."""
    for key, expected in REQUIRED_FIELDS.items():
        if key not in value:
            if key not in FILLABLE_FIELDS:
                raise _Bad(key, "missing required field")
        elif not isinstance(value[key], expected):
            raise _Bad(key, f"wrong type: expected {_type_name(expected)}, got {_json_type(value[key])}")
    family = value["family"]
    if family not in FAMILIES:
        raise _Bad("family", f"unknown family {_clip(repr(family), 40)}; expected one of {', '.join(FAMILIES)}")
    if expected_family is not None and family != expected_family:
        raise _Bad("family", f"family {family!r} does not match the expected {expected_family!r}")
    _check_fields(value["task"], ("task",), _TASK_FIELDS)
    for index, message in enumerate(value["trajectory"]):
        _check_message(message, ("trajectory", index))
    for key, fields in (("difficulty", _DIFFICULTY_FIELDS), ("quality", _QUALITY_FIELDS), ("lineage", _LINEAGE_FIELDS)):
        if key in value:
            _check_fields(value[key], (key,), fields)
    for index, flag in enumerate(value.get("quality", {}).get("flags", ())):
        _expect(flag, ("quality", "flags", index), ("string",))


def _check_message(message: Any, path: tuple[Any, ...]) -> None:
    _expect(message, path, ("object",))
    _check_fields(message, path, _MESSAGE_FIELDS, _MESSAGE_REQUIRED)
    for index, call in enumerate(message.get("tool_calls", ())):
        where = path + ("tool_calls", index)
        _expect(call, where, ("object",))
        _check_fields(call, where, _TOOL_CALL_FIELDS, tuple(_TOOL_CALL_FIELDS))


def _check_fields(
    value: dict[str, Any], path: tuple[Any, ...], fields: dict[str, tuple[str, ...]], required: tuple[str, ...] = ()
) -> None:
    for key, kinds in fields.items():
        if key in value:
            _expect(value[key], path + (key,), kinds)
        elif key in required:
            raise _Bad(_path(path + (key,)), "missing required field")


def _expect(value: Any, path: tuple[Any, ...], kinds: tuple[str, ...]) -> None:
    if _json_type(value) not in kinds:
        raise _Bad(_path(path), f"wrong type: expected {' or '.join(kinds)}, got {_json_type(value)}")


def _path(path: tuple[Any, ...]) -> str:
    """("trajectory", 2, "tool_calls") -> "trajectory[2].tool_calls"; odd keys as escaped JSON strings."""
    out = ""
    for key in path:
        if isinstance(key, int):
            out += f"[{key}]"
        elif _IDENTIFIER.fullmatch(key):
            out += f".{key}" if out else key
        else:
            out += f"[{json.dumps(_clip(key, 40))}]"
    return out


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _complete(record: Record) -> Record:
    """Fill missing bookkeeping fields; the content hash is always recomputed."""
    record.setdefault("ground_truth", {})
    record.setdefault("difficulty", {"level": None, "knobs": {}})
    quality = record.setdefault("quality", {})
    _fill(quality, _QUALITY_DEFAULTS)
    if "n_tool_calls" not in quality:
        quality["n_tool_calls"] = sum(len(m.get("tool_calls", ())) for m in record["trajectory"])
    if "text" not in record:
        instruction = record["task"].get("instruction")
        record["text"] = f"{instruction}\n{record['answer']}" if instruction is not None else record["answer"]
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
