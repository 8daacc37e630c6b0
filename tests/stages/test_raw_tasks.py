"""Stage 1 over a real inbox folder: which entries are read, and how copies of a task are merged."""

from __future__ import annotations

import logging
import os
import signal
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


import duckdb
import pytest

from planfusion import warehouse
from planfusion.cli import main
from planfusion.lineage import task_lineage
from planfusion.stages import raw as stage
from planfusion.tasks import get_family
from planfusion.tasks.record import canonical_json


@contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    """Fail instead of hanging: opening a FIFO with no writer blocks forever."""

    def fail(*_: object) -> None:
        raise TimeoutError(f"blocked for {seconds} s: something opened a FIFO")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def odd_inbox(tmp_path: Path) -> Path:
    """inbox/scheduling/ with two real task files (one by a link) and every kind of entry that is not one."""
    inbox = tmp_path / "inbox"
    folder = inbox / "scheduling"
    folder.mkdir(parents=True)
    first, second = get_family("scheduling").generate(2, 0)
    (folder / "a.jsonl").write_text(canonical_json(first) + "\n")
    (folder / "data.txt").write_text(canonical_json(second) + "\n")  # not *.jsonl: read only through the link
    (folder / "x.jsonl").mkdir()
    os.mkfifo(folder / "y.jsonl")
    (tmp_path / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (folder / "passwd.jsonl").symlink_to(tmp_path / "passwd")
    (folder / "dangling.jsonl").symlink_to(tmp_path / "gone.jsonl")
    (folder / "loop.jsonl").symlink_to(folder / "loop.jsonl")
    (folder / "to_dir.jsonl").symlink_to(folder / "x.jsonl")
    (folder / "z_link.jsonl").symlink_to("data.txt")  # relative, inside the inbox folder, a regular file
    (folder / os.fsdecode(b"caf\xe9.jsonl")).write_text(canonical_json(first) + "\n")  # a Latin-1 name
    return inbox


def _skipped(inbox: Path) -> list[tuple[Path, str]]:
    """What each odd entry of the fixture is, in listing order."""
    folder = inbox / "scheduling"
    outside = Path(os.path.realpath(inbox.parent / "passwd"))
    return [
        (folder / os.fsdecode(b"caf\xe9.jsonl"), "a name that is not UTF-8: its path could not be stored"),
        (folder / "dangling.jsonl", "a dangling symbolic link"),
        (folder / "loop.jsonl", "a symbolic link that cannot be resolved (Too many levels of symbolic links)"),
        (folder / "passwd.jsonl", f"a symbolic link to {outside}, outside the inbox folder"),
        (folder / "to_dir.jsonl", "a symbolic link to a directory, not a regular file"),
        (folder / "x.jsonl", "a directory, not a regular file"),
        (folder / "y.jsonl", "a FIFO (named pipe), not a regular file"),
    ]


def test_only_regular_files_inside_the_inbox_folder_are_task_files(odd_inbox: Path) -> None:
    folder = odd_inbox / "scheduling"
    with _deadline(10):
        assert stage.inbox_files(odd_inbox, "scheduling") == [folder / "a.jsonl", folder / "z_link.jsonl"]
    assert stage.inbox_files(odd_inbox, "decomposition") == []  # no folder


def test_skipped_entries_say_what_they_are_and_are_logged(odd_inbox: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="planfusion.inbox"), _deadline(10):
        files, skipped = stage.inbox_entries(odd_inbox, "scheduling")
    assert skipped == _skipped(odd_inbox)
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        ("planfusion.inbox", logging.WARNING, f"skipping {path}: {why}") for path, why in skipped]
    assert files == stage.inbox_files(odd_inbox, "scheduling")


def test_raw_tasks_reads_the_task_files_and_skips_the_rest(odd_inbox: Path, tmp_path: Path) -> None:
    """Before: the directory made file_fingerprint fail the run, the FIFO blocked it forever, and the
    Latin-1 file name failed the warehouse insert."""
    with _deadline(20):
        raw = stage.raw_tasks("scheduling", n=0, seed=0, params=None, inbox=odd_inbox)
    folder = odd_inbox / "scheduling"
    assert raw.files == [str(folder / "a.jsonl"), str(folder / "z_link.jsonl")]
    assert [(row["file_path"], row["line_number"]) for row in raw.rows] == [(f, 1) for f in raw.files]
    assert raw.rejections == []
    assert raw.skipped == [(str(path), why) for path, why in _skipped(odd_inbox)]
    assert raw.counts()["skipped_entries"] == 7
    con = warehouse.connect(tmp_path / "warehouse.duckdb")
    try:
        warehouse.replace_rows(con, "raw_tasks", raw.rows, family="scheduling")
    finally:
        con.close()


# ---------------------------------------------------------------- the same task in several places


def _write_lines(path: Path, records: list[dict]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(canonical_json(r) + "\n" for r in records))
    return str(path)


def test_a_copy_of_a_file_does_not_take_its_tasks_away(tmp_path: Path) -> None:
    """a_copy.jsonl sorts before mine.jsonl: it used to turn every line of mine.jsonl into 'already taken'."""
    records = list(get_family("scheduling").generate(3, 11))
    mine = _write_lines(tmp_path / "inbox" / "scheduling" / "mine.jsonl", records)
    copy = _write_lines(tmp_path / "inbox" / "scheduling" / "a_copy.jsonl", records[1:] + records[:1])
    raw = stage.raw_tasks("scheduling", n=0, seed=0, params=None, inbox=tmp_path / "inbox")
    assert raw.rejections == []
    assert [(row["task_id"], row["file_path"], row["line_number"], row["locations"]) for row in raw.rows] == [
        (records[1]["id"], copy, 1, [f"{copy}:1", f"{mine}:2"]),
        (records[2]["id"], copy, 2, [f"{copy}:2", f"{mine}:3"]),
        (records[0]["id"], copy, 3, [f"{copy}:3", f"{mine}:1"]),
    ]


def test_one_task_everywhere_is_one_row_with_every_location(tmp_path: Path) -> None:
    """Generator first, then files by path, then lines: the first place is the row's source."""
    family = get_family("scheduling")
    generated = list(family.generate(2, 5))
    inbox = tmp_path / "inbox"
    edited = dict(generated[1], answer="SOLUTION: somewhere else")  # same id, other content
    a = _write_lines(inbox / "scheduling" / "a.jsonl", [generated[0], generated[0], edited])
    b = _write_lines(inbox / "scheduling" / "b.jsonl", [generated[1]])
    raw = stage.raw_tasks("scheduling", n=2, seed=5, params=None, inbox=inbox)
    assert [(row["task_id"], row["source"], row["file_path"], row["locations"]) for row in raw.rows] == [
        (generated[0]["id"], "generator", None, [f"{a}:1", f"{a}:2"]),
        (generated[1]["id"], "generator", None, [f"{b}:1"]),
    ]
    assert [(r["file_path"], r["line_number"], r["field"], r["reason"]) for r in raw.rejections] == [
        (a, 3, "id", f"task id {generated[1]['id']} is already taken by generator seed 5 index 1 "
                     "with different content")]
    assert raw.counts()["from_files"] == 0


def test_a_warehouse_from_before_locations_gets_the_column(tmp_path: Path) -> None:
    """CREATE TABLE IF NOT EXISTS leaves an existing table alone: the new column must be added to it."""
    path = tmp_path / "old.duckdb"
    table = warehouse.TABLES["raw_tasks"]
    old = warehouse.Table(table.name, table.doc, [c for c in table.columns if c[0] != "locations"])
    with duckdb.connect(str(path)) as con:
        con.execute(old.ddl())
        con.execute("INSERT INTO raw_tasks (family, task_id) VALUES ('decomposition', 'dec-old')")
    raw = stage.raw_tasks("scheduling", n=2, seed=0, params=None, inbox=tmp_path / "inbox")
    con = warehouse.connect(path)
    try:
        warehouse.replace_rows(con, "raw_tasks", raw.rows, family="scheduling")
        assert warehouse.query(con, "SELECT task_id, locations FROM raw_tasks ORDER BY family, task_id") == [
            {"task_id": "dec-old", "locations": None}, *({"task_id": r["task_id"], "locations": []} for r in
                                                         sorted(raw.rows, key=lambda r: r["task_id"]))]
    finally:
        con.close()


def test_lineage_names_every_place_a_task_was_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    family = get_family("scheduling")
    generated, other = family.generate(2, 5)
    inbox = tmp_path / "inbox"
    a = _write_lines(inbox / "scheduling" / "a.jsonl", [other, generated])
    b = _write_lines(inbox / "scheduling" / "b.jsonl", [other])
    db = tmp_path / "warehouse.duckdb"
    con = warehouse.connect(db)
    try:
        raw = stage.raw_tasks("scheduling", n=1, seed=5, params=None, inbox=inbox)
        warehouse.replace_rows(con, "raw_tasks", raw.rows, family="scheduling")
        (chain,) = task_lineage(con, other["id"])
        assert chain["source"]["locations"] == [f"{a}:1", f"{b}:1"]
    finally:
        con.close()
    assert main(["lineage", other["id"], generated["id"], "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert f"source: file {a} line 1 (sha256 " in out and f"; also in {b}:1   run" in out
    assert f"sample seed {generated['lineage']['seed']}; also in {a}:2   run" in out
