"""The `server` fixture: a real `dagster dev` on the small settings, stopped after the test, with no
process of its group left behind."""

import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.e2e.harness import SMALL_SETTINGS, Server, group_alive, wait_for


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    server = Server(tmp_path, SMALL_SETTINGS)
    try:
        wait_for("the webserver to answer", server, server.answers, timeout=240)
        yield server
    finally:
        server.stop()
    deadline = time.monotonic() + 60  # the webserver, daemon and code servers wind down after the parent
    while group_alive(server.process.pid) and time.monotonic() < deadline:
        time.sleep(1)
    assert not group_alive(server.process.pid), "dagster dev left processes behind"
