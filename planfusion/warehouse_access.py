"""Opening the warehouse file so that a run never waits forever and never retries what cannot succeed.

A folder that cannot be written fails at once, naming the path and the OS error (DuckDBResource
retries every I/O error of its connect for about 100 s, and the retry policy repeats that).
Another process's lock is waited for with a short backoff, for a bounded time, then reported as
WarehouseBusy, which is transient: the caller may retry the whole step later.
"""

from __future__ import annotations

import errno
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import duckdb

from planfusion import warehouse
from planfusion.warehouse_errors import WarehouseBusy, WarehouseError, WarehouseUnwritable, is_lock_conflict

LOCK_TIMEOUT_S = 30.0
FIRST_DELAY_S = 0.05
MAX_DELAY_S = 1.0


def check_writable(path: Path) -> None:
    """Create the folder, then prove a file can be made in it: a real probe, as os.access cannot see
    every refusal. The database file itself is only asked about (os.access) and never opened here,
    since closing any descriptor of it would drop a lock this process may hold through DuckDB."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WarehouseUnwritable(path, f"cannot create the folder {folder} ({exc.strerror})") from exc
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".write-probe-"):
            pass
    except OSError as exc:
        raise WarehouseUnwritable(path, f"cannot create files in {folder} ({exc.strerror})") from exc
    if path.exists() and not os.access(path, os.W_OK):
        raise WarehouseUnwritable(path, f"the file is not writable ({os.strerror(errno.EACCES)})")


def open_warehouse(
    path: str | Path,
    *,
    read_only: bool = False,
    lock_timeout_s: float = LOCK_TIMEOUT_S,
    on_busy: Callable[[], None] | None = None,
) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse (use it in ``with``); read-write ones have every table in place.

    Raises FileNotFoundError (read-only, no file yet), WarehouseUnwritable (at once), WarehouseBusy
    after lock_timeout_s of another process holding the file (on_busy is called once, when the wait
    starts), and DuckDB's own error for anything else, e.g. a file that is not a database.
    """
    path = Path(path)
    if read_only and not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}: materialize the pipeline first")
    if not read_only:
        check_writable(path)
    deadline = time.monotonic() + lock_timeout_s
    for attempt in itertools.count():
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            warehouse.limit_memory(con)
            break
        except duckdb.Error as exc:
            if not is_lock_conflict(exc):
                raise
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WarehouseBusy(path, lock_timeout_s) from exc
            if attempt == 0 and on_busy is not None:
                on_busy()
            time.sleep(min(FIRST_DELAY_S * 2**attempt, MAX_DELAY_S, remaining))
    if not read_only:
        try:
            warehouse.ensure_schema(con)
        except BaseException:
            con.close()
            raise
    return con


class CommandError(Exception):
    """A command's user-facing failure: one line on stderr, exit status 2."""


def open_for_command(command: str, path: str | Path, wait_s: float) -> duckdb.DuckDBPyConnection:
    """The warehouse read-only for a CLI command: says once on stderr that it waits for a writing run,
    then waits up to ``wait_s``; any failure is one CommandError line naming the path."""

    def busy() -> None:
        print(f"planfusion {command}: warehouse busy (a run is writing it), waiting up to {wait_s:g} s ...",
              file=sys.stderr, flush=True)

    try:
        return open_warehouse(path, read_only=True, lock_timeout_s=wait_s, on_busy=busy)
    except (FileNotFoundError, WarehouseError, duckdb.Error) as exc:
        raise CommandError(f"planfusion {command}: cannot read {path}: {exc}") from None
