"""is_transient against the errors DuckDB and the OS really raise: only another process's lock and I/O
that would block are worth a retry."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import duckdb
import pytest

from planfusion import warehouse
from planfusion.warehouse_errors import is_transient


def _error(action: Callable[[], Any]) -> BaseException:
    with pytest.raises(BaseException) as caught:
        action()
    return caught.value


def test_another_process_holding_the_file_is_transient(tmp_path: Path, lock_held: Callable) -> None:
    db = tmp_path / "planfusion.duckdb"
    with lock_held(db, 30):
        for read_only in (False, True):
            exc = _error(lambda: duckdb.connect(str(db), read_only=read_only))
            assert isinstance(exc, duckdb.IOException) and "Could not set lock on file" in str(exc)
            assert is_transient(exc)


def test_io_that_would_block_is_transient() -> None:
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    try:
        exc = _error(lambda: os.read(read_end, 1))
    finally:
        os.close(read_end)
        os.close(write_end)
    assert isinstance(exc, BlockingIOError) and is_transient(exc)


def test_permission_denied_is_permanent(open_folder: Path, run_child: Callable) -> None:
    locked = open_folder / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    report = run_child("open", str(locked / "planfusion.duckdb"), "read-write", "nobody")
    assert report["duckdb"]["message"].endswith("Permission denied")
    assert report["duckdb"]["transient"] is False


def test_read_only_file_system_is_permanent(tmp_path: Path, run_child: Callable, tmpfs_prefix: Callable) -> None:
    report = run_child("open", str(tmp_path / "planfusion.duckdb"), "read-write", "root",
                       prefix=tmpfs_prefix(tmp_path, "ro,size=1m"))
    assert report["duckdb"]["message"].endswith("Read-only file system")
    assert report["duckdb"]["transient"] is False


def test_a_folder_that_is_a_file_is_permanent(tmp_path: Path) -> None:
    (tmp_path / "not_a_folder").write_text("")
    db = tmp_path / "not_a_folder" / "planfusion.duckdb"
    exc = _error(lambda: duckdb.connect(str(db)))
    assert str(exc).endswith("Not a directory") and not is_transient(exc)
    exc = _error(lambda: db.parent.mkdir(parents=True, exist_ok=True))
    assert isinstance(exc, OSError) and not is_transient(exc)


@pytest.mark.parametrize("sql, error", [
    ("SELECT * FROM no_such_table", duckdb.CatalogException),
    ("SELECT no_such_column FROM raw_tasks", duckdb.BinderException),
    ("INSERT INTO keyed VALUES (1), (1)", duckdb.ConstraintException),
    ("SELECT 'twelve'::INTEGER", duckdb.ConversionException),
])
def test_database_errors_are_permanent(sql: str, error: type[duckdb.Error]) -> None:
    with duckdb.connect() as con:
        warehouse.ensure_schema(con)
        con.execute("CREATE TABLE keyed (k INTEGER PRIMARY KEY)")
        exc = _error(lambda: con.execute(sql))
    assert isinstance(exc, error) and not is_transient(exc)


def test_a_caller_bug_is_permanent() -> None:
    with duckdb.connect() as con:
        exc = _error(lambda: warehouse.replace_rows(con, "raw_tasks", []))
    assert isinstance(exc, ValueError) and not is_transient(exc)
