"""Ingestion of user JSONL files: good lines survive any mix of bad ones, each bad line is reported once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import traceback
from pathlib import Path
from typing import Any

import pytest

from planfusion.tasks.ingest import MAX_DEPTH, file_fingerprint, read_task_file
from planfusion.tasks.record import build_record, content_hash, restamp

ROOT = Path(__file__).resolve().parents[2]


def _record(index: int, family: str = "scheduling") -> dict:
    return build_record(
        family=family, subtype="calendar_meeting",
        task={"instruction": f"Schedule meeting {index}."}, ground_truth={"slot": index},
        trajectory=[{"role": "user", "content": "go"}, {"role": "assistant", "content": f"slot {index}"}],
        answer=f"slot {index}", difficulty={"level": 1, "knobs": {}},
        quality={"n_steps": 1, "n_tool_calls": 0, "n_errors_recovered": 0, "has_reflection": False,
                 "format_ok": True, "answer_correct": True, "flags": []},
        generator="test", version="1", master_seed=0, index=index, seed=index, params={}, text=f"slot {index}",
    )


def _write(path: Path, lines: list[str | bytes]) -> Path:
    path.write_bytes(b"".join((l if isinstance(l, bytes) else l.encode()) + b"\n" for l in lines))
    return path


def test_good_lines_survive_every_kind_of_bad_line(tmp_path: Path) -> None:
    good = [_record(i) for i in range(3)]
    missing = _record(9)
    del missing["task"]
    wrong_type = _record(9)
    wrong_type["trajectory"] = "not a list"
    unknown = _record(9)
    unknown["family"] = "poetry"
    other = _record(9, family="decomposition")
    lines: list[str | bytes] = [
        json.dumps(good[0]),            # 1
        "",                             # 2 blank: skipped silently
        "{not json",                    # 3
        "[1, 2, 3]",                    # 4 not an object
        json.dumps(missing),            # 5
        json.dumps(good[1]),            # 6
        json.dumps(wrong_type),         # 7
        json.dumps(unknown),            # 8
        json.dumps(other),              # 9 family not matching the inbox
        b'{"id": "\xff\xfe"}',          # 10 not UTF-8
        "x" * 5000,                     # 11 oversize
        "   ",                          # 12 blank
        json.dumps(good[2]),            # 13
    ]
    path = _write(tmp_path / "tasks.jsonl", lines)
    records, rejections = read_task_file(path, expected_family="scheduling", max_line_bytes=4000)

    assert [(r.source.line, r.record["id"]) for r in records] == [(1, good[0]["id"]), (6, good[1]["id"]), (13, good[2]["id"])]
    assert all(r.record == g for r, g in zip(records, good))
    assert {r.source.sha256 for r in records} == {file_fingerprint(path)}
    by_line = {r.line: r for r in rejections}
    assert sorted(by_line) == [3, 4, 5, 7, 8, 9, 10, 11] and len(rejections) == 8
    assert "invalid JSON" in by_line[3].reason
    assert "not a JSON object but array" in by_line[4].reason
    assert (by_line[5].field, by_line[5].reason) == ("task", "missing required field")
    assert by_line[7].field == "trajectory" and "expected array, got string" in by_line[7].reason
    assert by_line[8].field == "family" and "unknown family 'poetry'" in by_line[8].reason
    assert by_line[9].field == "family" and "does not match" in by_line[9].reason
    assert "UTF-8" in by_line[10].reason
    assert "5000 bytes" in by_line[11].reason
    assert str(by_line[5]) == f"{path}:5: task: missing required field"


def test_oversize_limit_is_exact_and_crlf_is_not_a_new_line(tmp_path: Path) -> None:
    record = json.dumps(_record(0)).encode()
    limit = len(record)
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(record + b"\r\n" + record + b" \r\n" + record)  # fits, one byte over, fits (no final newline)
    records, rejections = read_task_file(path, max_line_bytes=limit)
    assert [r.source.line for r in records] == [1, 3]
    assert [(r.line, r.reason) for r in rejections] == [(2, f"line is {limit + 1} bytes, over the limit of {limit}")]


def test_outside_records_get_bookkeeping_filled_and_hash_recomputed(tmp_path: Path) -> None:
    bare = {"family": "tool_execution", "subtype": "files", "task": {"instruction": "Tidy up."},
            "trajectory": [{"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "name": "ls", "arguments": {}}]},
                           {"role": "tool", "tool_call_id": "c1", "content": "[]"},
                           {"role": "assistant", "content": "done"}],
            "answer": "done"}
    given = dict(_record(1), id="user-42")
    given["lineage"] = {"content_hash": "forged", "generator": "theirs"}
    records, rejections = read_task_file(_write(tmp_path / "in.jsonl", [json.dumps(bare), json.dumps(given), json.dumps(bare)]))
    assert rejections == []
    filled, kept = records[0].record, records[1].record
    assert filled["ground_truth"] == {} and filled["text"] == "Tidy up.\ndone"
    assert filled["quality"]["n_tool_calls"] == 1 and filled["quality"]["flags"] == []
    assert filled["lineage"]["generator"] == "external" and filled["lineage"]["parent_id"] is None
    assert filled["lineage"]["content_hash"] == content_hash(filled)
    assert filled["id"] == "tool-" + content_hash(filled)[:16]
    assert kept["id"] == "user-42" and kept["lineage"]["generator"] == "theirs"
    assert kept["lineage"]["content_hash"] == content_hash(kept) != "forged"
    assert filled["quality"]["flags"] is not records[2].record["quality"]["flags"]  # no shared defaults


def test_bad_arguments_are_clear(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.jsonl", [])
    with pytest.raises(ValueError, match="expected_family 'cooking'"):
        read_task_file(path, expected_family="cooking")
    with pytest.raises(ValueError, match="max_line_bytes"):
        read_task_file(path, max_line_bytes=0)
    assert read_task_file(path) == ([], [])


# ---------------------------------------------------------------- one line never stops a file (issue #11)


def _nested(depth: int) -> str:
    """A record line ``depth`` levels deep in all: its task holds {"a": {"a": ... 1}}."""
    chain = '{"a": ' * (depth - 2) + "1" + "}" * (depth - 2)  # the record and the task are two levels
    return json.dumps(_record(7)).replace('"task": {', f'"task": {{"a": {chain}, ', 1)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100, 5000])
def test_a_deeply_nested_line_is_rejected_with_its_path_and_the_rest_ingested(tmp_path: Path, depth: int) -> None:
    """5,000 levels overflow Python's parser, 100 do not: both get the same rejection."""
    path = _write(tmp_path / "deep.jsonl", [json.dumps(_record(0)), _nested(depth), json.dumps(_record(1))])
    records, rejections = read_task_file(path)
    assert [r.source.line for r in records] == [1, 3]
    assert [(r.line, r.field, r.reason) for r in rejections] == [
        (2, "task" + ".a" * (MAX_DEPTH - 1), f"nested deeper than {MAX_DEPTH} levels")]


def test_nesting_up_to_the_limit_is_accepted(tmp_path: Path) -> None:
    records, rejections = read_task_file(_write(tmp_path / "ok.jsonl", [_nested(MAX_DEPTH)]))
    assert rejections == [] and len(records) == 1


def _parent(record: dict, path: str) -> tuple[Any, Any]:
    """The container holding a dotted path like "trajectory.1.role" (numbers index arrays), and the last key."""
    *keys, last = path.split(".")
    for key in keys:
        record = record[int(key)] if isinstance(record, list) else record[key]
    return record, int(last) if isinstance(record, list) else last


def _set(record: dict, path: str, value: Any) -> dict:
    parent, key = _parent(record, path)
    parent[key] = value
    return record


def _delete(record: dict, path: str) -> dict:
    parent, key = _parent(record, path)
    del parent[key]
    return record


def _tool_record() -> dict:
    record = _record(5)
    record["trajectory"].insert(1, {"role": "assistant", "content": "", "think": None,
                                    "tool_calls": [{"id": "c1", "name": "ls", "arguments": {"path": "/"}}]})
    record["trajectory"].insert(2, {"role": "tool", "tool_call_id": "c1", "content": "[]"})
    return restamp(record)


ENVELOPE_CASES = [  # (edit, field, reason) -- every edit leaves valid JSON of the wrong shape
    (lambda r: _set(r, "trajectory.1", "hello"), "trajectory[1]", "wrong type: expected object, got string"),
    (lambda r: _set(r, "trajectory.0.role", 1), "trajectory[0].role", "wrong type: expected string, got integer"),
    (lambda r: _delete(r, "trajectory.3.content"), "trajectory[3].content", "missing required field"),
    (lambda r: _set(r, "trajectory.0.content", None), "trajectory[0].content", "wrong type: expected string, got null"),
    (lambda r: _set(r, "trajectory.1.think", ["x"]), "trajectory[1].think", "wrong type: expected string or null, got array"),
    (lambda r: _set(r, "trajectory.2.tool_call_id", 1), "trajectory[2].tool_call_id", "wrong type: expected string, got integer"),
    (lambda r: _set(r, "trajectory.1.tool_calls", {}), "trajectory[1].tool_calls", "wrong type: expected array, got object"),
    (lambda r: _set(r, "trajectory.1.tool_calls.0", []), "trajectory[1].tool_calls[0]", "wrong type: expected object, got array"),
    (lambda r: _set(r, "trajectory.1.tool_calls.0.id", 3), "trajectory[1].tool_calls[0].id", "wrong type: expected string, got integer"),
    (lambda r: _delete(r, "trajectory.1.tool_calls.0.name"), "trajectory[1].tool_calls[0].name", "missing required field"),
    (lambda r: _set(r, "trajectory.1.tool_calls.0.arguments", "{}"), "trajectory[1].tool_calls[0].arguments",
     "wrong type: expected object, got string"),
    (lambda r: _set(r, "task.instruction", 3), "task.instruction", "wrong type: expected string, got integer"),
    (lambda r: _set(r, "lineage.master_seed", "5"), "lineage.master_seed", "wrong type: expected integer or null, got string"),
    (lambda r: _set(r, "lineage.index", True), "lineage.index", "wrong type: expected integer or null, got boolean"),
    (lambda r: _set(r, "lineage.seed", 1.5), "lineage.seed", "wrong type: expected integer or null, got number"),
    (lambda r: _set(r, "lineage.generator", 7), "lineage.generator", "wrong type: expected string or null, got integer"),
    (lambda r: _set(r, "lineage.params", []), "lineage.params", "wrong type: expected object, got array"),
    (lambda r: _set(r, "lineage.parent_id", {}), "lineage.parent_id", "wrong type: expected string or null, got object"),
    (lambda r: _set(r, "difficulty.level", "hard"), "difficulty.level", "wrong type: expected integer or null, got string"),
    (lambda r: _set(r, "difficulty.knobs", None), "difficulty.knobs", "wrong type: expected object, got null"),
    (lambda r: _set(r, "quality.flags", "reflection"), "quality.flags", "wrong type: expected array, got string"),
    (lambda r: _set(r, "quality.flags", ["ok", 3]), "quality.flags[1]", "wrong type: expected string, got integer"),
    (lambda r: _set(r, "quality.has_reflection", "yes"), "quality.has_reflection", "wrong type: expected boolean, got string"),
    (lambda r: _set(r, "quality.n_tool_calls", "1"), "quality.n_tool_calls", "wrong type: expected integer or null, got string"),
    (lambda r: _set(r, "quality.answer_correct", 1), "quality.answer_correct", "wrong type: expected boolean or null, got integer"),
]


@pytest.mark.parametrize(("edit", "field", "reason"), ENVELOPE_CASES, ids=[c[1] for c in ENVELOPE_CASES])
def test_the_envelope_is_checked_at_every_level(tmp_path: Path, edit: Any, field: str, reason: str) -> None:
    good = _tool_record()
    path = _write(tmp_path / "t.jsonl", [json.dumps(edit(_tool_record())), json.dumps(good)])
    records, rejections = read_task_file(path)
    assert [(r.line, r.field, r.reason) for r in rejections] == [(1, field, reason)]
    assert [r.record for r in records] == [good]


VALUE_CASES = [  # (JSON members put first into "task", field, reason)
    ('"x": NaN', "task.x", "NaN is not JSON"),
    ('"x": [1, -Infinity]', "task.x[1]", "-Infinity is not JSON"),
    ('"x": 1e400', "task.x", "number 1e400 is out of range"),
    ('"x": 9223372036854775808', "task.x", "integer 9223372036854775808 does not fit in 64 bits"),
    ('"x": -9223372036854775809', "task.x", "integer -9223372036854775809 does not fit in 64 bits"),
    ('"x": ' + "9" * 5000, "task.x", "integer 99999999999999999999... does not fit in 64 bits"),
    ('"x": "a\\u0000b"', "task.x", "contains a NUL character"),
    ('"x": "\\ud800"', "task.x", "contains a lone surrogate (\\ud800): not Unicode text"),
    ('"x": ["ok", "\\udc00z"]', "task.x[1]", "contains a lone surrogate (\\udc00): not Unicode text"),
    ('"bad\\ud800key": 1', 'task["bad\\ud800key"]', "key contains a lone surrogate (\\ud800): not Unicode text"),
    ('"a b": {"\\u0000": 1}', 'task["a b"]["\\u0000"]', "key contains a NUL character"),
]


@pytest.mark.parametrize(("members", "field", "reason"), VALUE_CASES, ids=[c[2][:40] for c in VALUE_CASES])
def test_values_the_warehouse_cannot_hold_are_rejected_with_their_path(
    tmp_path: Path, members: str, field: str, reason: str
) -> None:
    line = json.dumps(_record(3)).replace('"task": {', '"task": {' + members + ", ", 1)
    path = _write(tmp_path / "v.jsonl", [line, json.dumps(_record(4))])
    records, rejections = read_task_file(path)
    assert [(r.line, r.field, r.reason) for r in rejections] == [(1, field, reason)]
    assert [r.source.line for r in records] == [2]


def test_numbers_and_text_at_the_edges_of_what_is_storable_are_accepted(tmp_path: Path) -> None:
    record = _record(2)
    record["task"].update(big=2**63 - 1, small=-(2**63), tiny=5e-324, huge=1.7e308, text="\U0001f600 caf\u00e9")
    restamp(record)
    line = json.dumps(record)
    assert "\\ud83d\\ude00" in line  # the emoji travels as a surrogate *pair*: valid
    records, rejections = read_task_file(_write(tmp_path / "edge.jsonl", [line]))
    assert rejections == [] and records[0].record == record


def test_bom_and_crlf_are_just_encodings_of_valid_lines(tmp_path: Path) -> None:
    lines = [json.dumps(_record(i), ensure_ascii=False).encode() for i in range(3)]
    path = tmp_path / "windows.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(lines) + b"\r\n")
    records, rejections = read_task_file(path)
    assert rejections == [] and [r.record for r in records] == [_record(i) for i in range(3)]


@pytest.mark.parametrize(("raw", "column"), [
    (b'{"family": "scheduling", "task": {"x"  1}}\n', 40),       # Expecting ':' delimiter
    (b'{"family": "scheduling", "task": {"x": 1\n', 41),        # truncated: just past the end of the line
    (b'{"family": "scheduling", "task": {"x": 1\r\n', 41),      # ... whatever the line ending
    (b'\xef\xbb\xbf{"family": "scheduling", "task": {"x": 1\n', 41),  # a BOM is not a column
    ('{"instruction": "caf\u00e9 \u2615", oops}\n'.encode(), 27),  # characters, not bytes
])
def test_invalid_json_points_at_the_users_line_and_column(tmp_path: Path, raw: bytes, column: int) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_bytes(raw)
    _, rejections = read_task_file(path)
    assert len(rejections) == 1 and (rejections[0].line, rejections[0].field) == (1, None)
    assert rejections[0].reason.startswith("invalid JSON: ") and rejections[0].reason.endswith(f" at column {column}")


def test_invalid_utf8_points_at_the_column_of_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"instruction": "caf\u00e9 '.encode() + b'\xe9t\xe9"}\n')
    _, rejections = read_task_file(path)
    assert [(r.line, r.reason) for r in rejections] == [(1, "not valid UTF-8: invalid continuation byte at column 23")]


def test_a_line_too_large_for_memory_is_rejected_and_the_rest_ingested(tmp_path: Path) -> None:
    """A real MemoryError: parse a 9 MB line of empty arrays (about 200 MB of objects) under a 120 MB cap."""
    script = textwrap.dedent(f"""
        import json, resource
        from planfusion.tasks.ingest import read_task_file
        path = {str(tmp_path / "big.jsonl")!r}
        good = json.dumps({{"family": "scheduling", "subtype": "s", "task": {{}}, "trajectory": [], "answer": "x"}})
        with open(path, "w") as handle:
            handle.write(good + "\\n[" + "[]," * 3_000_000 + "[]]\\n" + good + "\\n")
        size = int(next(l for l in open("/proc/self/status") if l.startswith("VmSize")).split()[1]) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size + 120 * 2**20, resource.RLIM_INFINITY))
        records, rejections = read_task_file(path, max_line_bytes=10_000_000)
        print(json.dumps([[r.source.line for r in records], [[r.line, r.field, r.reason] for r in rejections]]))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [[1, 3], [[2, None, "too large to process in memory"]]]


def test_a_parser_out_of_stack_below_the_depth_limit_rejects_only_that_line(tmp_path: Path) -> None:
    """Called with little stack left (deep inside a caller), a line of legal depth can still overflow the
    parser: it is rejected as such, and a shallow line next to it is read as usual."""
    path = _write(tmp_path / "t.jsonl", [_nested(MAX_DEPTH), json.dumps(_record(1))])
    depth = len(traceback.extract_stack())

    def dive(frames: int) -> tuple[list, list]:
        return read_task_file(path) if frames == 0 else dive(frames - 1)

    records, rejections = dive(sys.getrecursionlimit() - depth - MAX_DEPTH // 2)
    assert [(r.line, r.field, r.reason) for r in rejections] == [(1, None, "nested too deeply for the parser here")]
    assert [r.source.line for r in records] == [2]
