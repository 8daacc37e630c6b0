"""Stage 1 over a real inbox folder: which entries are read, and how copies of a task are merged."""

from __future__ import annotations

import logging
import os
import signal
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


import pytest

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
    return inbox


def _skipped(inbox: Path) -> list[tuple[Path, str]]:
    """What each odd entry of the fixture is, in listing order."""
    folder = inbox / "scheduling"
    outside = Path(os.path.realpath(inbox.parent / "passwd"))
    return [
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


def test_raw_tasks_reads_the_task_files_and_skips_the_rest(odd_inbox: Path) -> None:
    """Before: the directory made file_fingerprint fail the run, and the FIFO blocked it forever."""
    with _deadline(20):
        raw = stage.raw_tasks("scheduling", n=0, seed=0, params=None, inbox=odd_inbox)
    folder = odd_inbox / "scheduling"
    assert raw.files == [str(folder / "a.jsonl"), str(folder / "z_link.jsonl")]
    assert [(row["file_path"], row["line_number"]) for row in raw.rows] == [(f, 1) for f in raw.files]
    assert raw.rejections == []
    assert raw.skipped == [(str(path), why) for path, why in _skipped(odd_inbox)]
    assert raw.counts()["skipped_entries"] == 6
