"""dagster.yaml has one source for both storages: the PostgreSQL form is the shipped file with its commented
block uncommented, nothing else, so the pool and run monitoring cannot drift between them, and Dagster accepts
both. tests/e2e/test_postgres.py runs a real server on the PostgreSQL form."""

import sys
from pathlib import Path

import pytest
import yaml
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config
from dagster._core.storage.config import pg_config

from orchestration.cli import main
from orchestration.instance import (
    BEGIN,
    END,
    PG_URL_VARIABLE,
    STORAGE_VARIABLE,
    InstanceConfigError,
    check_postgres_ready,
    instance_yaml,
    prepare_home,
)

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = (ROOT / "dagster.yaml").read_text()
POSTGRES_STORAGE = {"postgres": {"postgres_url": {"env": PG_URL_VARIABLE}}}


def test_sqlite_is_the_shipped_file_and_postgres_adds_only_the_storage_block() -> None:
    assert instance_yaml("sqlite", SHIPPED) == SHIPPED
    shipped = yaml.safe_load(SHIPPED)
    assert "storage" not in shipped  # the default: SQLite files in DAGSTER_HOME, no server needed
    assert shipped["concurrency"]["pools"] == {"default_limit": 1}
    assert shipped["run_monitoring"]["enabled"] is True
    assert yaml.safe_load(instance_yaml("postgres", SHIPPED)) == shipped | {"storage": POSTGRES_STORAGE}


def test_dagster_accepts_both_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PG_URL_VARIABLE, "postgresql://user:secret@db.example:5432/dagster")
    for storage in ("sqlite", "postgres"):
        home = prepare_home(tmp_path / storage, storage, source=ROOT / "dagster.yaml")
        config, _ = dagster_instance_config(str(home))
        assert config["concurrency"]["pools"]["default_limit"] == 1
        assert config["run_monitoring"]["free_slots_after_run_end_seconds"] == 15
        if storage == "postgres":
            # what DagsterPostgresStorage receives: the URL read from the environment when the instance loads
            storage_config = process_config(pg_config(), config["storage"]["postgres"])
            assert storage_config.success, storage_config.errors
            assert storage_config.value["postgres_url"] == "postgresql://user:secret@db.example:5432/dagster"
        else:
            assert "storage" not in config


@pytest.mark.parametrize("text", [
    SHIPPED.replace(BEGIN, "# storage"),                      # no start marker
    SHIPPED + f"{BEGIN}\n# storage:\n{END}\n",                # two blocks
    SHIPPED.replace("# storage:\n", "storage:\n"),            # a block line that is not commented
])
def test_a_broken_block_is_an_error(text: str) -> None:
    with pytest.raises(InstanceConfigError):
        instance_yaml("postgres", text)


def test_an_unknown_storage_is_an_error() -> None:
    with pytest.raises(InstanceConfigError, match="expected one of sqlite, postgres"):
        instance_yaml("mysql", SHIPPED)


def test_up_with_postgres_and_no_url_fails_before_touching_the_home(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PG_URL_VARIABLE, raising=False)
    monkeypatch.setenv(STORAGE_VARIABLE, "postgres")  # the variable is the flag's default
    with pytest.raises(SystemExit, match=f"storage postgres needs {PG_URL_VARIABLE}=postgresql\\+psycopg2://"):
        main(["up", "--no-serve", "--home", str(tmp_path / "home")])
    assert not (tmp_path / "home").exists()


def test_up_with_a_url_whose_driver_is_missing_says_which_url_works(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3; dagster-postgres installs psycopg2."""
    monkeypatch.setitem(sys.modules, "psycopg", None)  # psycopg 3 absent, as with the postgres extra alone
    monkeypatch.setenv(PG_URL_VARIABLE, "postgresql://user:secret@db.example:5432/dagster")
    with pytest.raises(SystemExit, match=r"postgresql:// needs a driver .*postgresql\+psycopg2://") as failed:
        main(["up", "--no-serve", "--storage", "postgres", "--home", str(tmp_path / "home")])
    assert "secret" not in str(failed.value)
    assert not (tmp_path / "home").exists()
    monkeypatch.setenv(PG_URL_VARIABLE, "postgresql+psycopg2://user:secret@db.example:5432/dagster")
    check_postgres_ready()
