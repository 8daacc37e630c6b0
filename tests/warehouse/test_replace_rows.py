"""replace_rows when the write fails: the user reads the real cause with the table and family, and
nothing stored is lost. The disk really fills: a 2 MB tmpfs in a private mount namespace."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from planfusion import warehouse
from planfusion.warehouse_errors import WarehouseWriteFailed

BEFORE = [["a", "before", 10], ["b", "before", 10]]


@pytest.mark.parametrize("rows, checkpoint", [
    pytest.param(30_000, "default", id="commit-cannot-write-the-wal"),
    pytest.param(130_000, "default", id="insert-cannot-write-the-database-file"),
    pytest.param(30_000, "each-commit", id="checkpoint-at-commit-cannot-write"),
])
def test_a_full_disk_is_named_and_loses_nothing(tmp_path: Path, run_child: Callable, tmpfs_prefix: Callable,
                                                rows: int, checkpoint: str) -> None:
    report = run_child("fill-disk", str(tmp_path), str(rows), checkpoint, prefix=tmpfs_prefix(tmp_path, "size=2m"))
    error = report["error"]
    assert "No space left on device" in error["message"]
    assert "cannot rollback" not in error["message"]
    assert error["type"] == "WarehouseWriteFailed" and error["transient"] is False
    assert error["message"].startswith("writing ingest_rejections (family a) failed, the previous rows are kept: ")
    assert report["rows_after_reopen"] == BEFORE  # family a's old rows, family b's rows, file opens


def test_a_value_that_does_not_convert_rolls_back_the_delete(tmp_path: Path) -> None:
    with warehouse.connect(tmp_path / "planfusion.duckdb") as con:
        old = [{"family": "a", "line_number": 1, "reason": "old", "run_id": "before"}]
        warehouse.replace_rows(con, "ingest_rejections", old, family="a")
        bad = [{"family": "a", "line_number": "first", "reason": "new", "run_id": "after"}]
        with pytest.raises(WarehouseWriteFailed) as caught:
            warehouse.replace_rows(con, "ingest_rejections", bad, family="a")
        assert caught.value.transient is False
        assert str(caught.value).startswith("writing ingest_rejections (family a) failed, the previous rows are kept: ")
        assert "Could not convert string 'first' to INT64" in str(caught.value)
        assert con.execute("SELECT reason, run_id FROM ingest_rejections").fetchall() == [("old", "before")]


def test_batches_replace_the_rows_at_once_whatever_fails_between_them(tmp_path: Path) -> None:
    """A stage writes its rows as it makes them: until the last batch readers see the old rows; a failure
    after some batches, in DuckDB or in the code making them, leaves the previous rows and no staging
    table; ``finish`` runs in the swap."""
    with warehouse.connect(tmp_path / "planfusion.duckdb") as con:
        old = [{"family": "a", "line_number": 1, "reason": "old", "run_id": "before"}]
        warehouse.replace_rows(con, "ingest_rejections", old, family="a")

        def batches(fail: Exception):
            yield [{"family": "a", "line_number": 2, "reason": "new"}]
            raise fail

        with pytest.raises(RuntimeError, match="generator broke"):
            warehouse.replace_in_batches(con, "ingest_rejections", batches(RuntimeError("generator broke")), family="a")
        bad = [[{"family": "a", "line_number": 2, "reason": "new"}], [{"family": "a", "line_number": "x"}]]
        with pytest.raises(WarehouseWriteFailed):
            warehouse.replace_in_batches(con, "ingest_rejections", bad, family="a")
        assert con.execute("SELECT reason, run_id FROM ingest_rejections").fetchall() == [("old", "before")]
        assert _tables(con) == sorted(warehouse.TABLES)

        reader = con.cursor()
        seen = []

        def good():
            for i in range(3):
                seen.append(reader.execute("SELECT reason FROM ingest_rejections").fetchall())
                yield [{"family": "a", "line_number": i, "reason": "new"}]

        con.execute("CREATE TABLE staging__ingest_rejections__a AS SELECT 'left by a killed run' AS x")
        finish = lambda c: c.execute("UPDATE ingest_rejections SET field = 'set by finish' WHERE line_number = 0")
        assert warehouse.replace_in_batches(con, "ingest_rejections", good(), family="a", finish=finish) == 3
        assert seen == [[("old",)]] * 3
        assert con.execute("SELECT line_number, field FROM ingest_rejections ORDER BY 1").fetchall() == [
            (0, "set by finish"), (1, None), (2, None)]
        assert _tables(con) == sorted(warehouse.TABLES)


def _tables(con) -> list[str]:
    return sorted(name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall())


def test_writing_a_family_takes_memory_that_does_not_grow_with_its_rows(tmp_path: Path, run_child: Callable) -> None:
    """At 100k tasks per family the raw stage held every uncommitted row in memory (4.5 GiB): rows now go
    to a staging table committed batch by batch, and only the swap into place is one transaction.
    Before: 320 MiB more for 150 MB of rows, 800 MiB more for 600 MB."""
    grew = {}
    for megabytes in (150, 600):
        folder = tmp_path / str(megabytes)
        folder.mkdir()
        report = run_child("write-large", str(folder), str(megabytes), "64MB")
        assert report["written"] == megabytes * 1024 // 8 // 500 * 500
        assert report["tables"] == sorted(warehouse.TABLES)  # no staging table is left behind
        grew[megabytes] = report["grew_mib"]
    assert grew[600] - grew[150] < 64, grew  # four times the rows, the same memory
