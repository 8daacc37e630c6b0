"""The `server` fixture: a real `dagster dev` on the small settings, stopped after the test, with no
process of its group left behind; `postgres`, a throwaway PostgreSQL server, and `postgres_server`, the same
`dagster dev` on an instance stored in it (dagster.yaml's PostgreSQL block)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestration.instance import PG_URL_VARIABLE
from tests.e2e.harness import SMALL_SETTINGS, Postgres, Server, postgres_bindir, running


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with running(Server(tmp_path, SMALL_SETTINGS)) as started:
        yield started


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[Postgres]:
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, postgres) not found: apt-get install postgresql "
                    "(.ci/run installs it when missing)")
    database = Postgres(bindir, tmp_path / "postgres.log")
    try:
        database.start()
        yield database
    finally:
        database.stop()


@pytest.fixture
def postgres_server(tmp_path: Path, postgres: Postgres) -> Iterator[Server]:
    """Stopped before `postgres` (it depends on it), so the server never loses its database while running."""
    with running(Server(tmp_path, SMALL_SETTINGS, storage="postgres", env={PG_URL_VARIABLE: postgres.url})) as started:
        yield started
