"""What goes wrong with the DuckDB warehouse, and whether trying again can help.

DuckDB lets one process write a file, or several read it, never both: a run or a reader that meets
another run's lock succeeds once that run ends, and so does I/O that was interrupted or would
block. Everything else (permission denied, read-only file system, disk full, a missing folder,
catalog, binder, constraint and conversion errors, bugs) fails the same way every time, so a retry
only delays the message. ``transient`` on every WarehouseError, and ``is_transient`` for any
exception, tell the orchestration layer which of the two it has.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import duckdb

# DuckDB's words when another process holds the file: 'IO Error: Could not set lock on file "...":
# Conflicting lock is held in <program> (PID n)'.
LOCK_MESSAGES = ("Could not set lock on file", "Conflicting lock")

# OS errors that a later attempt can get past: the call would block, was interrupted, or the
# resource is busy.
TRANSIENT_ERRNOS = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR, errno.EBUSY})

# DuckDB reports OS errors as text at the end of its message ('Cannot open file "...": Permission
# denied'); this maps the text back to the errno.
_ERRNO_BY_STRERROR = {os.strerror(code): code for code in errno.errorcode}


class WarehouseError(Exception):
    """A warehouse failure with a message fit for the user; transient says whether a retry can help."""

    transient = False

    def __init__(self, message: str, path: Path | str | None = None) -> None:
        super().__init__(message)
        self.path = path


class WarehouseUnwritable(WarehouseError):
    """The folder or file cannot be written (permissions, read-only file system, not a folder...)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"cannot write the warehouse {path}: {reason}", path)
        self.reason = reason


class WarehouseBusy(WarehouseError):
    """Another process still held the file's lock when the wait ran out."""

    transient = True

    def __init__(self, path: Path, waited_s: float) -> None:
        super().__init__(
            f"the warehouse {path} is still locked by another process (a run is writing it) after waiting "
            f"{waited_s:g} s; try again when that run ends",
            path,
        )
        self.waited_s = waited_s


class WarehouseWriteFailed(WarehouseError):
    """A replace of a table's rows failed; the transaction did not commit, so the previous rows stand."""

    def __init__(self, table: str, family: str | None, cause: BaseException) -> None:
        target = f"{table} (family {family})" if family is not None else table
        super().__init__(f"writing {target} failed, the previous rows are kept: {cause}")
        self.table, self.family = table, family
        self.transient = is_transient(cause)


def _os_errno(exc: BaseException) -> int | None:
    """The OS error behind exc: OSError.errno, or the strerror text at the end of a DuckDB message."""
    if isinstance(exc, OSError):
        return exc.errno
    if isinstance(exc, duckdb.Error):
        return _ERRNO_BY_STRERROR.get(str(exc).rsplit(": ", 1)[-1].strip())
    return None


def is_lock_conflict(exc: BaseException) -> bool:
    """Another process holds the DuckDB file (read-write, or read-only while we want to write)."""
    return isinstance(exc, duckdb.Error) and any(text in str(exc) for text in LOCK_MESSAGES)


def is_transient(exc: BaseException) -> bool:
    """Whether the same operation, tried again a little later, can succeed."""
    if isinstance(exc, WarehouseError):
        return exc.transient
    return is_lock_conflict(exc) or _os_errno(exc) in TRANSIENT_ERRNOS
