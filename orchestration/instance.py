"""The Dagster instance's dagster.yaml in DAGSTER_HOME: the project's file as it is (SQLite storage in
DAGSTER_HOME), or the same file with its commented PostgreSQL storage block switched on. Both forms come from
the one file, so the concurrency pool and run monitoring cannot differ between them, and the block the file
documents is the block that runs (tests/e2e/test_postgres.py starts a real server on it)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

STORAGES = ("sqlite", "postgres")
STORAGE_VARIABLE = "PLANFUSION_STORAGE"
PG_URL_VARIABLE = "DAGSTER_PG_URL"
BEGIN, END = "# >>> storage: postgres", "# <<< storage: postgres"
CHECKOUT = Path(__file__).resolve().parents[1]


class InstanceConfigError(ValueError):
    """dagster.yaml or the storage asked for cannot make an instance config."""


def source_file() -> Path:
    """The working directory's dagster.yaml, else the planfusion checkout's."""
    found = next((p for p in (Path.cwd() / "dagster.yaml", CHECKOUT / "dagster.yaml") if p.is_file()), None)
    if found is None:
        raise FileNotFoundError("dagster.yaml not found in the working directory or the planfusion checkout")
    return found


def postgres_block(text: str) -> tuple[int, int]:
    """Line indices of the BEGIN and END markers around the commented storage block."""
    lines = [line.rstrip() for line in text.splitlines()]
    begins = [i for i, line in enumerate(lines) if line == BEGIN]
    ends = [i for i, line in enumerate(lines) if line == END]
    if len(begins) != 1 or len(ends) != 1 or begins[0] >= ends[0]:
        raise InstanceConfigError(f"dagster.yaml must hold one commented PostgreSQL block between {BEGIN!r} and {END!r}")
    return begins[0], ends[0]


def instance_yaml(storage: str, text: str) -> str:
    """dagster.yaml for the storage: the text unchanged for sqlite; for postgres, the same text with every
    line between the markers uncommented (its leading "# " removed)."""
    if storage not in STORAGES:
        raise InstanceConfigError(f"storage {storage!r}: expected one of {', '.join(STORAGES)}")
    begin, end = postgres_block(text)
    if storage == "sqlite":
        return text
    lines = text.splitlines(keepends=True)
    for i in range(begin + 1, end):
        if not lines[i].startswith("# "):
            raise InstanceConfigError(f"dagster.yaml line {i + 1}: every line of the PostgreSQL block starts with '# '")
        lines[i] = lines[i][2:]
    return "".join(lines)


URL_FORM = "postgresql+psycopg2://USER:PASSWORD@HOST:PORT/DATABASE"


def check_postgres_ready() -> None:
    """What the postgres storage needs in this process before Dagster tries to connect: dagster-postgres, the
    URL, and the URL's driver. SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3, while dagster-postgres
    installs psycopg2: the URL names it (postgresql+psycopg2://) unless psycopg 3 is installed too."""
    if importlib.util.find_spec("dagster_postgres") is None:
        raise InstanceConfigError("storage postgres needs dagster-postgres: pip install -e '.[postgres]'")
    url = os.environ.get(PG_URL_VARIABLE)
    if not url:
        raise InstanceConfigError(f"storage postgres needs {PG_URL_VARIABLE}={URL_FORM}")
    from sqlalchemy.engine import make_url  # comes with dagster
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(url).get_dialect().import_dbapi()
    except ImportError as exc:  # the message names the scheme, never the URL: it may hold a password
        raise InstanceConfigError(f"{PG_URL_VARIABLE}: {url.split('://')[0]}:// needs a driver that is not installed "
                                  f"({exc}); dagster-postgres comes with psycopg2: {URL_FORM}") from None
    except ArgumentError as exc:
        raise InstanceConfigError(f"{PG_URL_VARIABLE} is not a database URL ({type(exc).__name__}); expected {URL_FORM}") from None


def prepare_home(home: Path, storage: str = "sqlite", source: Path | None = None) -> Path:
    """DAGSTER_HOME with the project's dagster.yaml in it, for the storage (a dagster.yaml in the working
    directory is ignored once DAGSTER_HOME is set)."""
    text = instance_yaml(storage, (source or source_file()).read_text())
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(text)
    return home
