"""``planfusion generate`` / ``planfusion verify``: the installed script end to end, and clear errors."""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from planfusion.tasks import commands
from planfusion.tasks.record import FAMILIES

SCRIPT = Path(sys.executable).with_name("planfusion")


def _run_inprocess(*argv: str) -> int:
    """Only this module's sub-commands, so these tests do not depend on the other CLI modules."""
    parser = argparse.ArgumentParser(prog="planfusion")
    commands.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.run(args)


def _cli(*argv: str) -> subprocess.CompletedProcess[str]:
    if not SCRIPT.exists():
        pytest.skip(f"{SCRIPT} missing: run pip install -e . --no-deps")
    try:
        importlib.import_module("planfusion.novelsum.explain")
    except ModuleNotFoundError as exc:
        pytest.skip(f"planfusion.cli imports planfusion.novelsum.explain, not landed yet: {exc}")
    return subprocess.run([str(SCRIPT), *argv], capture_output=True, text=True, timeout=120)


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


@pytest.mark.parametrize("name", FAMILIES)
def test_generate_verify_round_trip(name: str, tmp_path: Path, family_or_skip: Callable[[str], Any]) -> None:
    family_or_skip(name)
    clean, mixed = tmp_path / "clean.jsonl", tmp_path / "mixed.jsonl"
    done = _cli("generate", "--family", name, "--n", "12", "--seed", "3", "--out", str(clean))
    assert done.returncode == 0, done.stderr
    assert f"wrote 12 {name} records and 0 negatives" in done.stderr
    again = tmp_path / "again.jsonl"
    _cli("generate", "--family", name, "--n", "12", "--seed", "3", "--out", str(again))
    assert again.read_bytes() == clean.read_bytes()

    done = _cli("verify", "--strict", str(clean))
    assert done.returncode == 0, done.stdout + done.stderr
    row = next(l for l in done.stdout.splitlines() if l.startswith(name)).split()
    assert row == [name, "12", "12", "0", "12"]

    done = _cli("generate", "--family", name, "--n", "12", "--seed", "3", "--negatives", "--out", str(mixed))
    assert done.returncode == 0, done.stderr
    decisions = tmp_path / "decisions.jsonl"
    done = _cli("verify", str(mixed), "--decisions", str(decisions))
    assert done.returncode == 0, done.stderr
    rows = [json.loads(l) for l in decisions.read_text().splitlines()]
    negatives = [r for r in (json.loads(l) for l in mixed.read_text().splitlines()) if r["lineage"]["parent_id"]]
    assert negatives and len(rows) == 12 + len(negatives)
    assert sum(r["kept"] for r in rows) == 12
    assert {r["line"] for r in rows} == set(range(1, len(rows) + 1))
    assert _cli("verify", "--strict", str(mixed)).returncode == 1
