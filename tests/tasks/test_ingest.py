"""Ingestion of user JSONL files: good lines survive any mix of bad ones, each bad line is reported once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planfusion.tasks.ingest import file_fingerprint, read_task_file
from planfusion.tasks.record import build_record, content_hash


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
