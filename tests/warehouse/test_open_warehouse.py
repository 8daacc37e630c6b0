"""open_warehouse: an unwritable warehouse fails at once with the path and the OS error; another
process's lock is waited for, boundedly, then reported as WarehouseBusy (transient)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import duckdb
import pytest

from planfusion import warehouse
from planfusion.warehouse_access import open_warehouse
from planfusion.warehouse_errors import WarehouseBusy, WarehouseUnwritable

# DuckDBResource retries a failing connect for about 100 s; failing fast means well under a second.
FAST_S = 1.0


def test_creates_the_folder_and_every_table(tmp_path: Path) -> None:
    db = tmp_path / "new" / "warehouse" / "planfusion.duckdb"
    with open_warehouse(db) as con:
        tables = {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert tables == set(warehouse.TABLES)
    assert [p.name for p in db.parent.iterdir()] == ["planfusion.duckdb"]  # the write probe is gone


def test_a_folder_without_write_permission_fails_at_once(open_folder: Path, run_child: Callable) -> None:
    locked, free = open_folder / "locked", open_folder / "free"
    locked.mkdir()
    locked.chmod(0o555)
    free.mkdir()
    free.chmod(0o777)
    assert run_child("open", str(free / "planfusion.duckdb"), "read-write", "nobody")["open_warehouse"] is None

    db = locked / "planfusion.duckdb"
    report = run_child("open", str(db), "read-write", "nobody")
    failure = report["open_warehouse"]
    assert failure["type"] == "WarehouseUnwritable" and failure["transient"] is False
    assert str(db) in failure["message"] and "Permission denied" in failure["message"]
    assert report["elapsed_s"] < FAST_S


def test_a_database_file_without_write_permission_fails_at_once(open_folder: Path, run_child: Callable) -> None:
    open_folder.chmod(0o777)
    db = open_folder / "planfusion.duckdb"
    warehouse.connect(db).close()
    db.chmod(0o444)
    report = run_child("open", str(db), "read-write", "nobody")
    failure = report["open_warehouse"]
    assert failure["type"] == "WarehouseUnwritable" and failure["transient"] is False
    assert str(db) in failure["message"] and "the file is not writable (Permission denied)" in failure["message"]
    assert report["elapsed_s"] < FAST_S
    assert run_child("open", str(db), "read-only", "nobody")["open_warehouse"] is None  # reading still works


def test_a_read_only_file_system_fails_at_once(tmp_path: Path, run_child: Callable, tmpfs_prefix: Callable) -> None:
    db = tmp_path / "planfusion.duckdb"
    report = run_child("open", str(db), "read-write", "root", prefix=tmpfs_prefix(tmp_path, "ro,size=1m"))
    failure = report["open_warehouse"]
    assert failure["type"] == "WarehouseUnwritable" and failure["transient"] is False
    assert str(db) in failure["message"] and "Read-only file system" in failure["message"]
    assert report["elapsed_s"] < FAST_S


def test_a_folder_that_cannot_be_created_fails_at_once(tmp_path: Path) -> None:
    (tmp_path / "a_file").write_text("")
    db = tmp_path / "a_file" / "warehouse" / "planfusion.duckdb"
    with pytest.raises(WarehouseUnwritable) as caught:
        open_warehouse(db)
    assert str(db) in str(caught.value) and "Not a directory" in str(caught.value)
    assert caught.value.transient is False


def test_waits_while_another_process_holds_the_file(tmp_path: Path, lock_held: Callable) -> None:
    db = tmp_path / "planfusion.duckdb"
    waits: list[None] = []
    with lock_held(db, 1.5):
        started = time.monotonic()
        with open_warehouse(db, lock_timeout_s=20, on_busy=lambda: waits.append(None)) as con:
            assert con.execute("SELECT count(*) FROM raw_tasks").fetchone() == (0,)
    assert waits == [None]  # told once, however many attempts
    assert 0.5 < time.monotonic() - started < 10


def test_gives_up_after_the_lock_timeout(tmp_path: Path, lock_held: Callable) -> None:
    db = tmp_path / "planfusion.duckdb"
    with lock_held(db, 30):
        for read_only in (False, True):
            started = time.monotonic()
            with pytest.raises(WarehouseBusy) as caught:
                open_warehouse(db, read_only=read_only, lock_timeout_s=0.5)
            assert 0.5 <= time.monotonic() - started < 0.5 + FAST_S
            assert caught.value.transient is True
            assert str(db) in str(caught.value) and "0.5 s" in str(caught.value)
            assert isinstance(caught.value.__cause__, duckdb.IOException)
