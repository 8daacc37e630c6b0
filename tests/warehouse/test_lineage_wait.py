"""``planfusion lineage`` while a run holds the warehouse: it waits for the run, or says the file is
still locked and exits 2 (DuckDB lets no reader in while a writer holds the file)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from planfusion import warehouse

TASK = {"family": "scheduling", "task_id": "sch-lineage-wait", "subtype": "jobs", "source": "generator",
        "generator": "scheduling", "generator_version": "1", "master_seed": 7, "sample_index": 0, "sample_seed": 11,
        "content_hash": "0" * 64, "text": "a task", "record": {}, "run_id": "r1", "code_version": "v", "params": {}}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "planfusion.duckdb"
    with warehouse.connect(path) as con:
        warehouse.replace_rows(con, "raw_tasks", [TASK], family=TASK["family"])
    return path


def lineage(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "planfusion.cli", "lineage", TASK["task_id"], *args],
                          capture_output=True, text=True, timeout=60)


def test_waits_for_the_run_to_release_the_file(db: Path, lock_held: Callable) -> None:
    with lock_held(db, 3):
        done = lineage("--db", str(db))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{TASK['task_id']}  family scheduling")
    assert done.stderr.splitlines() == ["planfusion lineage: warehouse busy (a run is writing it), waiting up to 30 s ..."]


def test_exits_2_naming_the_file_when_still_locked(db: Path, lock_held: Callable) -> None:
    with lock_held(db, 30):
        started = time.monotonic()
        done = lineage("--db", str(db), "--wait", "1")
        elapsed = time.monotonic() - started
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "planfusion lineage: warehouse busy (a run is writing it), waiting up to 1 s ...",
        f"planfusion lineage: cannot read {db}: the warehouse {db} is still locked by another process "
        "(a run is writing it) after waiting 1 s; try again when that run ends",
    ]
    assert elapsed < 10
