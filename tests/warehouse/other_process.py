"""What the warehouse tests do in another process, where the conditions are real: a second process
holding the DuckDB lock, a user that root's permission bypass does not cover, and (started under
``unshare`` by the tests) a private tmpfs that is read-only or 2 MB small.

Run as ``python -m tests.warehouse.other_process <scenario> ...`` from the repository root; every
scenario but ``hold`` prints one JSON line that the test asserts on.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from typing import Any

import duckdb

from planfusion import warehouse
from planfusion.warehouse_access import open_warehouse
from planfusion.warehouse_errors import is_transient

NOBODY = 65534


def hold(db: str, seconds: str) -> None:
    """Keep the file open read-write (DuckDB's exclusive lock), say so, then let go."""
    con = duckdb.connect(db)
    print("ready", flush=True)
    time.sleep(float(seconds))
    con.close()


def _failure(exc: BaseException) -> dict[str, Any]:
    return {"type": type(exc).__name__, "message": str(exc), "transient": is_transient(exc)}


def open_file(path: str, mode: str, user: str) -> None:
    """Open path with DuckDB itself, then with open_warehouse, as user ('nobody' drops root first)."""
    if user == "nobody" and os.geteuid() == 0:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    read_only = mode == "read-only"
    report: dict[str, Any] = {}
    try:
        duckdb.connect(path, read_only=read_only).close()
        report["duckdb"] = None
    except duckdb.Error as exc:
        report["duckdb"] = _failure(exc)
    started = time.monotonic()
    try:
        open_warehouse(path, read_only=read_only, lock_timeout_s=5).close()
        report["open_warehouse"] = None
    except Exception as exc:
        report["open_warehouse"] = _failure(exc)
    report["elapsed_s"] = time.monotonic() - started
    print(json.dumps(report))


def _rejections(family: str, n: int, run_id: str) -> list[dict[str, Any]]:
    """n rows of ingest_rejections whose text does not compress (so they really take disk)."""
    return [{"family": family, "file_path": hashlib.sha256(f"{family}{i}".encode()).hexdigest(),
             "line_number": i, "reason": hashlib.sha256(f"{i}{family}".encode()).hexdigest() * 2, "run_id": run_id}
            for i in range(n)]


def fill_disk(folder: str, rows: str, checkpoint: str) -> None:
    """Families a and b stored, then a replace of family a too big for the disk. checkpoint='each-commit'
    makes every commit checkpoint, so the disk fills while the database file itself is rewritten."""
    db = os.path.join(folder, "planfusion.duckdb")
    con = warehouse.connect(db)
    warehouse.replace_rows(con, "ingest_rejections", _rejections("a", 10, "before"), family="a")
    warehouse.replace_rows(con, "ingest_rejections", _rejections("b", 10, "before"), family="b")
    con.execute("CHECKPOINT")
    if checkpoint == "each-commit":
        con.execute("SET checkpoint_threshold = '1KB'")
    report: dict[str, Any] = {}
    try:
        warehouse.replace_rows(con, "ingest_rejections", _rejections("a", int(rows), "after"), family="a")
        report["error"] = None
    except Exception as exc:
        report["error"] = {"type": type(exc).__name__, "message": str(exc), "transient": getattr(exc, "transient", None),
                           "cause": repr(exc.__cause__)}
    con.close()
    count = "SELECT family, run_id, count(*) FROM ingest_rejections GROUP BY ALL ORDER BY ALL"
    with duckdb.connect(db) as again:
        report["rows_after_reopen"] = again.execute(count).fetchall()
    print(json.dumps(report))


def write_large(folder: str, megabytes: str, memory_limit: str) -> None:
    """Replace a family's raw_tasks with about ``megabytes`` of rows in 500-row batches, DuckDB capped at
    memory_limit; report how much the process grew (its peak RSS over the peak before the write)."""
    import resource

    warehouse.MEMORY_LIMIT = memory_limit
    con = warehouse.connect(os.path.join(folder, "planfusion.duckdb"))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    text = "word " * 800  # 4 KB per row, twice (text and record)

    def batches():
        for b in range(int(megabytes) * 1024 // 8 // 500):
            yield [{"family": "a", "task_id": f"t{b}-{i}", "text": f"{text}{b}-{i}", "record": {"text": f"{text}{i}"}}
                   for i in range(500)]

    written = warehouse.replace_in_batches(con, "raw_tasks", batches(), family="a")
    grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(json.dumps({"written": written, "grew_mib": grew,
                      "tables": sorted(r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall())}))


if __name__ == "__main__":
    scenario, *args = sys.argv[1:]
    {"hold": hold, "open": open_file, "fill-disk": fill_disk, "write-large": write_large}[scenario](*args)
