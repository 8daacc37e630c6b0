"""Ingestion fuzzed end to end: hundreds of malformed lines, made by mutating each family's generated
records at random JSON paths and by garbling their bytes, interleaved with valid records.

Nothing may raise. Every valid record is ingested and curated exactly as when it is alone; every
malformed line is rejected at ingestion with a reason, or, if it still has a valid shape, gets a
curation decision; written to a real DuckDB warehouse, no other family's row changes and every
written row reads back as written. Seeded: the same lines on every run.
"""

from __future__ import annotations

import copy
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import duckdb

from planfusion import warehouse
from planfusion.stages.curation import curated_rows
from planfusion.stages.raw import RawTasks, raw_tasks
from planfusion.tasks import get_family
from planfusion.tasks.filters import REASONS
from planfusion.tasks.record import FAMILIES, canonical_json

SEED = 20_251_101
MUTANTS_PER_FAMILY = 110
VALID_SEED, BASE_SEED = 101, 202  # valid records and the records mutated: never the same tasks
MARK = "@@fuzz@@"  # put where a literal goes, then replaced in the JSON text

# Literals spliced into the JSON text: Python's json reads them (or overflows on them), the warehouse cannot hold them.
LITERALS: dict[str, list[str]] = {
    "deep_nesting": ["[" * 70 + "]" * 70, '{"a":' * 100 + "1" + "}" * 100, "[" * 5000 + "]" * 5000],
    "huge_int": ["9223372036854775808", "-9223372036854775809", "1" + "0" * 30, "9" * 5000],
    "not_json_number": ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"],
}
OTHER_VALUES: list[Any] = [None, True, 0, -1.5, "", "x", [], {}, [1, "a"], {"k": "v"}]
CONTENT = ["task", "ground_truth", "trajectory"]
BAD_UTF8 = [b"\xff", b"\xc3(", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80"]


def _random_path(record: dict[str, Any], rng: random.Random) -> tuple[Any, ...]:
    """A top-level field (task, ground_truth and trajectory, where the family's content lives, three
    times as often), then a random walk down that stops at each level with probability 1/4."""
    path: tuple[Any, ...] = (rng.choice([*record, *CONTENT * 2]),)
    value = record[path[0]]
    while isinstance(value, (dict, list)) and value and rng.random() < 0.75:
        key = rng.choice(list(value) if isinstance(value, dict) else range(len(value)))
        path += (key,)
        value = value[key]
    return path


def _with_bad_char(text: str, char: str, rng: random.Random) -> str:
    cut = rng.randint(0, len(text))
    return text[:cut] + char + text[cut:]


def _structural(record: dict[str, Any], rng: random.Random) -> tuple[str, bytes]:
    """(kind, line): one edit of a copy of ``record`` at a random path, then written as JSON. Most copies
    get an id of their own, so that those still of valid shape reach the verifiers and filters."""
    record = copy.deepcopy(record)
    if rng.random() < 0.8:
        record["id"] += f"~fuzz{rng.randrange(10**9)}"
    path = _random_path(record, rng)
    parent: Any = record
    for key in path[:-1]:
        parent = parent[key]
    key, value = path[-1], parent[path[-1]]
    kind = rng.choice(["delete", "change_type", "wrong_container", "nul", "lone_surrogate", *LITERALS])
    literal = None
    if kind == "delete":
        del parent[key]
    elif kind == "change_type":
        parent[key] = copy.deepcopy(rng.choice([v for v in OTHER_VALUES if type(v) is not type(value)]))
    elif kind == "wrong_container":
        parent[key] = (list(value.values()) if isinstance(value, dict)
                       else {str(i): v for i, v in enumerate(value)} if isinstance(value, list) else [value])
    elif kind in ("nul", "lone_surrogate"):
        char = "\x00" if kind == "nul" else rng.choice(["\ud800", "\udfff", "\udc00x"])
        if isinstance(key, str) and rng.random() < 0.3:
            parent[_with_bad_char(key, char, rng)] = parent.pop(key)
        else:
            parent[key] = _with_bad_char(value if isinstance(value, str) else "v", char, rng)
    else:
        parent[key] = MARK
        literal = rng.choice(LITERALS[kind])
    ascii_only = rng.random() < 0.7  # else raw UTF-8, where a lone surrogate becomes invalid UTF-8
    text = json.dumps(record, ensure_ascii=ascii_only)
    if literal is not None:
        text = text.replace(json.dumps(MARK), literal, 1)
    return kind, text.encode("utf-8", "surrogatepass")


def _garbled(record: dict[str, Any], rng: random.Random) -> tuple[str, bytes]:
    """(kind, line): the record's JSON line damaged byte by byte."""
    line = canonical_json(record).encode()
    kind = rng.choice(["truncate", "random_bytes", "invalid_utf8", "flip_byte"])
    at = rng.randrange(1, len(line))
    if kind == "truncate":
        out = line[:at]
    elif kind == "random_bytes":
        out = rng.randbytes(rng.randint(1, 300))
    elif kind == "invalid_utf8":
        out = line[:at] + rng.choice(BAD_UTF8) + line[at:]
    else:
        out = line[:at] + bytes([rng.randrange(256)]) + line[at + 1:]
    out = out.replace(b"\n", b"#")
    return kind, out if out.strip() else out + b"#"  # a blank line is no line at all


def _write_inbox(inbox: Path, family: str, lines: list[tuple[str, bytes]], rng: random.Random) -> dict[str, str]:
    """Deal the lines over two files (BOM on the first, some CRLF endings); file:line -> kind."""
    folder = inbox / family
    folder.mkdir(parents=True)
    dealt: dict[Path, list[tuple[str, bytes]]] = {folder / "a.jsonl": [], folder / "b.jsonl": []}
    for item in lines:
        dealt[rng.choice(list(dealt))].append(item)
    kinds = {}
    for path, items in dealt.items():
        data = b"\xef\xbb\xbf" if path.name == "a.jsonl" else b""
        for number, (kind, line) in enumerate(items, 1):
            data += line + rng.choice([b"\n", b"\r\n"])
            kinds[f"{path}:{number}"] = kind
        path.write_bytes(data)
    return kinds


def _store(con: duckdb.DuckDBPyConnection, family: str, raw: RawTasks) -> dict[str, list[dict[str, Any]]]:
    """What the assets write for one family: raw rows, rejected lines and curation decisions."""
    written = {"raw_tasks": raw.rows, "ingest_rejections": raw.rejections, "curated_tasks": curated_rows(raw.rows)}
    for table, rows in written.items():
        warehouse.replace_rows(con, table, rows, family=family)
    return written


def _snapshot(con: duckdb.DuckDBPyConnection, family: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every other family's rows, every column as stored (JSON as its text)."""
    return {table: con.execute(f"SELECT * FROM {table} WHERE family <> ? ORDER BY ALL", [family]).fetchall()
            for table in ("raw_tasks", "ingest_rejections", "curated_tasks")}


def _assert_round_trip(con: duckdb.DuckDBPyConnection, family: str, written: dict[str, list[dict[str, Any]]]) -> None:
    keys: dict[str, Callable[[dict[str, Any]], Any]] = {
        "raw_tasks": lambda r: r["task_id"], "curated_tasks": lambda r: r["task_id"],
        "ingest_rejections": lambda r: (r["file_path"], r["line_number"]),
    }
    for table, rows in written.items():
        stored = {keys[table](r): r for r in warehouse.query(con, f"SELECT * FROM {table} WHERE family = ?", [family])}
        assert len(stored) == len(rows), table
        json_columns = {name for name, dtype, _ in warehouse.TABLES[table].columns if dtype == "JSON"}
        for row in rows:
            back = stored[keys[table](row)]
            for column, value in row.items():
                got = json.loads(back[column]) if column in json_columns else back[column]
                assert got == value, (table, keys[table](row), column)


def _curate_alone(family: str, records: list[dict[str, Any]], inbox: Path) -> dict[str, dict[str, Any]]:
    """task id -> (record, decision) for these records ingested and curated by themselves."""
    (inbox / family).mkdir(parents=True)
    (inbox / family / "alone.jsonl").write_text("".join(canonical_json(r) + "\n" for r in records))
    raw = raw_tasks(family, n=0, seed=0, params=None, inbox=inbox)
    return {row["task_id"]: {"record": row["record"], **decision} for row, decision in zip(raw.rows, curated_rows(raw.rows))}


def _fuzz_family(name: str, rng: random.Random, root: Path, con: duckdb.DuckDBPyConnection) -> Counter[str]:
    family = get_family(name)
    valid, bases = list(family.generate(4, VALID_SEED)), list(family.generate(6, BASE_SEED))
    # precondition: a mutant that stays valid must not be a structural duplicate of a valid record
    assert not {family.structural_signature(r) for r in valid} & {family.structural_signature(r) for r in bases}
    lines = [("valid", canonical_json(r).encode()) for r in valid]
    for _ in range(MUTANTS_PER_FAMILY):
        mutate = _structural if rng.random() < 0.7 else _garbled
        lines.append(mutate(rng.choice(bases), rng))
    rng.shuffle(lines)
    kinds = _write_inbox(root / name / "inbox", name, lines, rng)

    raw = raw_tasks(name, n=0, seed=0, params=None, inbox=root / name / "inbox")

    # every line is either rejected with a reason or held by exactly one row
    rejected = {f"{r['file_path']}:{r['line_number']}": r["reason"] for r in raw.rejections}
    held = [location for row in raw.rows for location in row["locations"]]
    assert len(held) == len(set(held)) and not set(held) & set(rejected)
    assert set(held) | set(rejected) == set(kinds)
    assert all(isinstance(reason, str) and reason for reason in rejected.values())
    assert not any(kinds[where] == "valid" for where in rejected), [(w, r) for w, r in rejected.items() if kinds[w] == "valid"]

    snapshot = _snapshot(con, name)
    written = _store(con, name, raw)
    assert _snapshot(con, name) == snapshot  # nothing else in the warehouse changes
    _assert_round_trip(con, name, written)

    # every row that made it has a decision with a reason; the valid ones exactly as when alone
    decisions = {row["task_id"]: row for row in written["curated_tasks"]}
    assert len(decisions) == len(raw.rows) and {d["reason"] for d in decisions.values()} <= set(REASONS)
    alone = _curate_alone(name, valid, root / name / "alone")
    assert all(d["kept"] for d in alone.values())
    mixed = {row["task_id"]: {"record": row["record"], **decisions[row["task_id"]]} for row in raw.rows
             if row["task_id"] in alone}
    assert mixed == alone
    return Counter(kind if where in rejected else f"{kind} (curated)" for where, kind in kinds.items())


def test_malformed_lines_never_stop_ingestion_nor_touch_the_rest_of_the_warehouse(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    con = warehouse.connect(tmp_path / "warehouse.duckdb")
    try:
        for name in FAMILIES:  # the rest of the warehouse: every family's generated rows
            _store(con, name, raw_tasks(name, n=2, seed=7, params=None, inbox=tmp_path / "no-inbox"))
        outcome: Counter[str] = Counter()
        for name in FAMILIES:
            outcome += _fuzz_family(name, rng, tmp_path, con)
    finally:
        con.close()
    rejected = sum(n for kind, n in outcome.items() if "curated" not in kind)
    curated = sum(n for kind, n in outcome.items() if kind.endswith("(curated)") and not kind.startswith("valid"))
    assert rejected + curated == MUTANTS_PER_FAMILY * len(FAMILIES) >= 300
    # teeth: every kind of damage was made, most lines were rejected, some still reached curation
    made = {kind.removesuffix(" (curated)") for kind in outcome}
    assert made == {"valid", "delete", "change_type", "wrong_container", "nul", "lone_surrogate", *LITERALS,
                    "truncate", "random_bytes", "invalid_utf8", "flip_byte"}, outcome
    assert rejected > 200 and curated > 10, outcome
