"""``planfusion generate`` / ``planfusion verify``: the installed script end to end, and clear errors."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

import planfusion
from planfusion.cli import main
from planfusion.tasks import commands
from planfusion.tasks.record import FAMILIES, canonical_json

SCRIPT = Path(sys.executable).with_name("planfusion")


def _run_inprocess(*argv: str) -> int:
    """Only this module's sub-commands, so these tests do not depend on the other CLI modules."""
    parser = argparse.ArgumentParser(prog="planfusion")
    commands.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.run(args)


def _cli(*argv: str) -> subprocess.CompletedProcess[str]:
    assert SCRIPT.exists(), f"{SCRIPT} missing: run pip install -e . --no-deps"
    # the script must run the same checkout these tests import (an editable install may point elsewhere)
    env = {**os.environ, "PYTHONPATH": str(Path(planfusion.__file__).resolve().parents[1])}
    return subprocess.run([str(SCRIPT), *argv], capture_output=True, text=True, timeout=120, env=env)


def test_parse_params() -> None:
    assert commands.parse_params(["n=8", "flag=true", "xs=[1,2]", "name=job_shop", "eq=a=b"]) == {
        "n": 8, "flag": True, "xs": [1, 2], "name": "job_shop", "eq": "a=b"}
    with pytest.raises(commands.CommandError, match="expected KEY=VALUE"):
        commands.parse_params(["novalue"])


def test_verify_reports_unreadable_lines_and_strict_exit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{oops\n\n"just a string"\n')
    assert _run_inprocess("verify", str(path)) == 0
    out = capsys.readouterr().out
    assert "(no records)" in out and "rejected lines: 2" in out
    assert f"{path}:1: invalid JSON" in out and f"{path}:3: not a JSON object but string" in out
    assert _run_inprocess("verify", "--strict", str(path)) == 1


def test_clear_errors_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run_inprocess("verify", str(tmp_path / "absent.jsonl")) == 2
    assert "planfusion verify: error:" in capsys.readouterr().err
    out = tmp_path / "x.jsonl"
    assert _run_inprocess("generate", "--family", "scheduling", "--n", "-1", "--seed", "0", "--out", str(out)) == 2
    assert "--n and --start must be >= 0" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        _run_inprocess("generate", "--family", "poetry", "--n", "1", "--seed", "0", "--out", str(out))
    assert exc.value.code == 2 and "invalid choice: 'poetry'" in capsys.readouterr().err


def test_inbox_path_sets_the_expected_family(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inbox = tmp_path / "inbox" / "scheduling"
    inbox.mkdir(parents=True)
    line = {"family": "decomposition", "subtype": "s", "task": {}, "trajectory": [], "answer": ""}
    (inbox / "t.jsonl").write_text(json.dumps(line) + "\n")
    assert _run_inprocess("verify", str(inbox / "t.jsonl")) == 0
    assert "family: family 'decomposition' does not match the expected 'scheduling'" in capsys.readouterr().out


def test_generate_verify_round_trip(tmp_path: Path, family_or_skip: Callable[[str], Any]) -> None:
    """generate (with negatives) per family, then verify all files at once: few processes, all families."""
    mixed_files, clean_files, records = [], [], []
    for name in FAMILIES:
        family = family_or_skip(name)
        mixed, clean = tmp_path / f"{name}.jsonl", tmp_path / f"{name}-clean.jsonl"
        done = _cli("generate", "--family", name, "--n", "8", "--seed", "3", "--negatives", "--out", str(mixed))
        assert done.returncode == 0, done.stderr
        lines = mixed.read_text().splitlines()
        mine = [json.loads(l) for l in lines]
        n_neg = sum(bool(r["lineage"]["parent_id"]) for r in mine)
        assert n_neg and f"wrote 8 {name} records and {n_neg} negatives to {mixed}" in done.stderr
        clean_lines = [l for l, r in zip(lines, mine) if not r["lineage"]["parent_id"]]
        # byte-identical to the same stream generated in this process
        assert clean_lines == [canonical_json(r) for r in family.generate(8, 3)]
        clean.write_text("\n".join(clean_lines) + "\n")
        mixed_files.append(str(mixed))
        clean_files.append(str(clean))
        records += mine

    done = _cli("verify", "--strict", *clean_files)
    assert done.returncode == 0, done.stdout + done.stderr
    for name in FAMILIES:
        row = next(l for l in done.stdout.splitlines() if l.startswith(name)).split()
        assert row == [name, "8", "8", "0", "8"]  # records, passed, failed, kept

    decisions = tmp_path / "decisions.jsonl"
    done = _cli("verify", "--strict", *mixed_files, "--decisions", str(decisions))
    assert done.returncode == 1, done.stdout + done.stderr  # strict: dropped records fail the run
    assert "failed_verification" in done.stdout and "rejected lines" not in done.stdout
    rows = [json.loads(l) for l in decisions.read_text().splitlines()]
    assert [r["record_id"] for r in rows] == [r["id"] for r in records]
    assert [r["record_id"] for r in rows if r["kept"]] == [r["id"] for r in records if not r["lineage"]["parent_id"]]
    assert rows[1]["file"] == mixed_files[0] and rows[1]["line"] == 2


def _deep_line(depth: int) -> str:
    return '{"family": "scheduling", "task": ' + '{"a": ' * depth + "1" + "}" * depth + "}"


def test_verify_reports_bad_data_without_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every kind of unreadable line, through the real entry point: each is one rejection line."""
    good = {"family": "scheduling", "subtype": "s", "task": {"instruction": "x"}, "trajectory": [], "answer": "y"}
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"\n".join([
        json.dumps(good).encode(),
        _deep_line(5000).encode(),
        json.dumps(dict(good, answer=float("nan"))).encode(),
        json.dumps(dict(good, answer="\ud800")).encode(),
        json.dumps(dict(good, trajectory=[{"role": "assistant", "content": "", "tool_calls": [{"id": 1}]}])).encode(),
        b'{"answer": "caf\xe9"}',
        json.dumps(dict(good, lineage={"seed": 2**64})).encode(),
    ]) + b"\n")
    assert main(["verify", "--allow-unverified", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and err == ""
    assert "rejected lines: 6" in out
    for where in [f"{path}:2: task.a.a", f"{path}:3: answer: NaN is not JSON",
                  f"{path}:4: answer: contains a lone surrogate", f"{path}:5: trajectory[0].tool_calls[0].id: wrong type",
                  f"{path}:6: not valid UTF-8", f"{path}:7: lineage.seed: integer 18446744073709551616 does not fit"]:
        assert where in out
    assert next(l for l in out.splitlines() if l.startswith("scheduling")).split() == ["scheduling", "1", "0", "0", "1"]


def test_verify_on_a_5000_deep_line_in_a_real_process(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text(_deep_line(5000) + "\n")
    done = _cli("verify", str(path))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert f"{path}:1: task{'.a' * 63}: nested deeper than 64 levels" in done.stdout
