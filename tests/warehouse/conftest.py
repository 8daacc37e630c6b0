"""Starting the other processes of tests/warehouse/other_process.py: a lock holder, an unprivileged
opener, and runs inside a private mount namespace with a small or read-only tmpfs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHILD = [sys.executable, "-m", "tests.warehouse.other_process"]


@pytest.fixture
def run_child() -> Callable[..., dict[str, Any]]:
    """run_child(scenario, *args, prefix=()) runs a scenario in another process and returns its report."""

    def run(*args: str, prefix: Sequence[str] = ()) -> dict[str, Any]:
        done = subprocess.run([*prefix, *CHILD, *args], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.splitlines()[-1])

    return run


@pytest.fixture
def lock_held() -> Callable[[Path, float], AbstractContextManager[None]]:
    """with lock_held(db, seconds): another process holds db read-write from the start of the block
    for seconds, or until the block ends."""

    @contextmanager
    def held(db: Path, seconds: float) -> Iterator[None]:
        holder = subprocess.Popen([*CHILD, "hold", str(db), str(seconds)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
            yield
        finally:
            holder.terminate()
            try:  # under heavy disk load a process can take seconds to be torn down
                holder.wait(timeout=60)
            except subprocess.TimeoutExpired:
                holder.kill()
                holder.wait()

    return held


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A folder every user may enter (pytest's tmp_path is under a 0700 folder that 'nobody' cannot)."""
    folder = Path(tempfile.mkdtemp(prefix="planfusion-warehouse-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def tmpfs_prefix() -> Callable[[Path, str], tuple[str, ...]]:
    """A command prefix that runs its command with a private tmpfs of the given size mounted on a folder.

    An unprivileged user namespace needs no root and leaves nothing mounted behind; skip where the
    kernel or the container forbids it."""
    probe = ["unshare", "--user", "--map-root-user", "--mount", "true"]
    if shutil.which("unshare") is None or subprocess.run(probe, capture_output=True).returncode != 0:
        pytest.skip("no unshare --user --mount here: cannot mount a private tmpfs")

    def prefix(folder: Path, options: str) -> tuple[str, ...]:
        mount = 'mount -t tmpfs -o "$1" tmpfs "$2" && shift 2 && exec "$@"'
        return ("unshare", "--user", "--map-root-user", "--mount", "sh", "-c", mount, "sh", options, str(folder))

    return prefix
