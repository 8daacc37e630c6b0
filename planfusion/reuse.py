"""Stage inputs: a stage whose inputs are the ones its current rows were made from keeps those rows instead
of redoing its work, so a rerun with nothing new costs a few reads, not generation, verification or
embedding.

A stage's fingerprint hashes everything its rows depend on: its code version, its effective parameters
(the lineage its rows record) and its inputs (upstream data versions, inbox file contents). It is stored
in ``stage_inputs`` with the data version of the rows once they are committed, and cleared before they
are rewritten, so a run that dies mid-write never leaves a fingerprint vouching for rows it did not write.
Rows are reused only when the stored fingerprint matches and the table still holds rows of the stored
data version; anything else (a changed setting, file or line of code) makes the stage run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Callable

import duckdb


@dataclass(frozen=True)
class Stored:
    """What a stage's current rows were made from, and what its checks said about them."""

    fingerprint: str
    data_version: str
    checks: list[dict[str, Any]]
    run_id: str


def fingerprint(**inputs: Any) -> str:
    """sha256 of the inputs as canonical JSON (values that JSON cannot hold are taken as str)."""
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()


def stored(con: duckdb.DuckDBPyConnection, stage: str, family: str) -> Stored | None:
    row = con.execute("""SELECT fingerprint, data_version, checks, run_id FROM stage_inputs
                         WHERE stage = ? AND family = ?""", [stage, family]).fetchone()
    return None if row is None else Stored(row[0], row[1], json.loads(row[2]) if row[2] else [], row[3])


def reusable(con: duckdb.DuckDBPyConnection, stage: str, family: str, fingerprint: str,
             data_version: Callable[[], str]) -> Stored | None:
    """The stored inputs when they match ``fingerprint`` and the rows are still those (their data version,
    computed only then); else None, and the stored fingerprint is cleared: the stage is about to run."""
    found = stored(con, stage, family)
    if found is not None and found.fingerprint == fingerprint and data_version() == found.data_version:
        return found
    forget(con, stage, family)
    return None


def forget(con: duckdb.DuckDBPyConnection, stage: str, family: str) -> None:
    con.execute("DELETE FROM stage_inputs WHERE stage = ? AND family = ?", [stage, family])


def remember(con: duckdb.DuckDBPyConnection, stage: str, family: str, fingerprint: str, data_version: str,
             checks: list[dict[str, Any]], run_id: str) -> None:
    """Record what the rows just committed were made from (call after the commit: a failure between the
    two leaves no fingerprint, and the next run redoes the stage)."""
    forget(con, stage, family)
    con.execute("""INSERT INTO stage_inputs (stage, family, fingerprint, data_version, checks, run_id)
                   VALUES (?, ?, ?, ?, ?, ?)""",
                [stage, family, fingerprint, data_version, json.dumps(checks, sort_keys=True), run_id])
