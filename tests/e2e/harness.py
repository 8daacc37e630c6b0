"""What the end-to-end tests share: the environment of the project's real processes, a real `dagster dev`
driven over GraphQL, and polling with deadlines that fail with the process's log tail."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import pytest
import requests
import yaml

from orchestration.instance import prepare_home

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FAMILIES = ("decomposition", "scheduling", "tool_execution")
LOCATION = {"repositoryLocationName": "orchestration.definitions", "repositoryName": "__repository__"}
# Small enough for CI, large enough that every stage has real work (k below each pool, budgets below it).
SMALL_SETTINGS = {"generation": {"n": 30}, "density": {"k": 5}, "selection": {"budget": 10}, "fusion": {"budget": 20}}


def project_env(root: Path, settings: dict[str, Any]) -> dict[str, str]:
    """Environment for the project's processes: their own warehouse, inbox, exports and planfusion.yaml
    under root. PYTHONPATH=ROOT because a console script (planfusion) puts its bin folder first on
    sys.path, and the editable install then imports the checkout it was installed from, not this tree."""
    config = root / "planfusion.yaml"
    config.write_text(yaml.safe_dump(settings))
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
                PLANFUSION_DB=str(root / "warehouse.duckdb"), PLANFUSION_INBOX=str(root / "inbox"),
                PLANFUSION_EXPORTS=str(root / "exports"), PLANFUSION_CONFIG=str(config.resolve()))


class Watched(Protocol):
    process: subprocess.Popen

    def log_tail(self, lines: int = 60) -> str: ...


def wait_for(what: str | Callable[[], str], watched: Watched, probe: Callable[[], Any], timeout: float,
             every: float = 3.0) -> Any:
    """Poll until probe returns something truthy; fail with the process's log tail at the deadline or
    when the process exits first. A callable `what` describes the state at the failure."""
    def describe() -> str:
        return what() if callable(what) else what

    deadline = time.monotonic() + timeout
    while True:
        assert watched.process.poll() is None, f"the process exited while waiting for {describe()}:\n{watched.log_tail()}"
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {describe()}\n{watched.log_tail()}")
        time.sleep(every)


def finished(server: Server, runs: list[dict[str, Any]], expected: int) -> list[dict[str, Any]] | None:
    """The successful runs once there are `expected` of them; fails at once, with each failed run's step
    errors, if any of the runs failed or was canceled."""
    failed = {r["runId"]: (r["tags"].get("dagster/partition"), r["status"], server.errors(r["runId"]))
              for r in runs if r["status"] in ("FAILURE", "CANCELED")}
    assert not failed, f"runs failed: {failed}"
    done = [r for r in runs if r["status"] == "SUCCESS"]
    return done if len(done) >= expected else None


def tail(path: Path, lines: int) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def group_alive(group: int) -> bool:
    return subprocess.run(["pgrep", "-g", str(group)], capture_output=True, check=False).returncode == 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One `dagster dev` in its own process group, with its own DAGSTER_HOME (the project's dagster.yaml
    written in for the storage, as `planfusion up` does: with DAGSTER_HOME set, the working directory's is
    ignored), warehouse, inbox and settings; `env` adds variables (DAGSTER_PG_URL for postgres storage)."""

    def __init__(self, root: Path, settings: dict[str, Any], storage: str = "sqlite",
                 env: dict[str, str] | None = None) -> None:
        self.root, self.port = root, _free_port()
        home = root / "dagster_home"
        home.mkdir()
        prepare_home(home, storage, source=ROOT / "dagster.yaml")
        self.env = project_env(root, settings) | {"DAGSTER_HOME": str(home)} | (env or {})
        self.log = root / "dagster_dev.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [str(BIN / "dagster"), "dev", "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(self.port)],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def db(self) -> Path:
        return Path(self.env["PLANFUSION_DB"])

    @property
    def settings_file(self) -> Path:
        return Path(self.env["PLANFUSION_CONFIG"])

    def answers(self) -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{self.port}/server_info", timeout=5).ok
        except requests.RequestException:
            return False

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        response = requests.post(f"http://127.0.0.1:{self.port}/graphql", json={"query": query, "variables": variables},
                                 timeout=60)
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def runs(self) -> list[dict[str, Any]]:
        data = self.graphql("""{ runsOrError { ... on Runs { results { runId jobName status
                               tags { key value } assetSelection { path } } } } }""")
        return [dict(run, tags={t["key"]: t["value"] for t in run["tags"]}) for run in data["runsOrError"]["results"]]

    def run(self, run_id: str) -> dict[str, Any]:
        """Status and per-step status of one run."""
        data = self.graphql("""query($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status
                               stepStats { stepKey status } } } }""", id=run_id)
        return data["runOrError"]

    def claimed_slots(self, pool: str = "duckdb") -> list[tuple[str, str]]:
        """(run id, step key) of every claimed slot of the pool."""
        data = self.graphql("""query($pool: String) { instance { concurrencyLimit(concurrencyKey: $pool) {
                               claimedSlots { runId stepKey } } } }""", pool=pool)
        return [(s["runId"], s["stepKey"]) for s in data["instance"]["concurrencyLimit"]["claimedSlots"]]

    def worker_pid(self, run_id: str) -> int | None:
        """The run worker's pid, from the run's own "Started process for run (pid: N)" event. The default
        run launcher starts the worker as a multiprocessing child of the code server, so its command line
        does not name the run."""
        data = self.graphql("""query($id: ID!) { logsForRun(runId: $id) { ... on EventConnection {
                               events { ... on MessageEvent { message } } } } }""", id=run_id)
        for event in data["logsForRun"]["events"]:
            found = re.fullmatch(r"Started process for run \(pid: (\d+)\)\.", event.get("message") or "")
            if found:
                return int(found.group(1))
        return None

    def errors(self, run_id: str) -> list[str]:
        """Each failed step and the exception at the root of its error (Dagster wraps the user's)."""
        data = self.graphql("""query($id: ID!) { logsForRun(runId: $id) { ... on EventConnection { events {
                               ... on ExecutionStepFailureEvent { stepKey error { message causes { message } } }
                               } } } }""", id=run_id)
        return [f"{e['stepKey']}: {([e['error']] + e['error']['causes'])[-1]['message'].strip().splitlines()[-1]}"
                for e in data["logsForRun"]["events"] if e.get("error")]

    def launch_run(self, job: str, partition: str) -> str:
        data = self.graphql(
            """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) { __typename
                 ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }""",
            p={"selector": LOCATION | {"jobName": job},
               "executionMetadata": {"tags": [{"key": "dagster/partition", "value": partition}]}})
        result = data["launchRun"]
        assert result["__typename"] == "LaunchRunSuccess", result
        return result["run"]["runId"]

    def launch_backfill(self, partitions: tuple[str, ...] = FAMILIES) -> str:
        """A backfill with no run config: every run reads planfusion.yaml."""
        data = self.graphql(
            """mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) { __typename
                 ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }""",
            p={"selector": {"partitionSetName": "family_pipeline_partition_set", "repositorySelector": LOCATION},
               "partitionNames": list(partitions)})
        result = data["launchPartitionBackfill"]
        assert result["__typename"] == "LaunchBackfillSuccess", result
        return result["backfillId"]

    def backfill_families(self, timeout: float = 900) -> list[dict[str, Any]]:
        """Backfill every family partition and wait for its runs to finish (one per family)."""
        backfill = self.launch_backfill()
        runs = wait_for("the backfill's three runs", self,
                        lambda: finished(self, [r for r in self.runs() if r["tags"].get("dagster/backfill") == backfill],
                                         len(FAMILIES)), timeout=timeout)
        assert sorted(r["tags"]["dagster/partition"] for r in runs) == sorted(FAMILIES)
        return runs

    def generated_tasks(self, family: str, n: int, seed: int, out: Path) -> str:
        """What `planfusion generate` writes for the family: the lines of a task file a user would drop."""
        subprocess.run([str(BIN / "planfusion"), "generate", "--family", family, "--n", str(n), "--seed", str(seed),
                        "--out", str(out)], check=True, cwd=ROOT, env=self.env, timeout=120)
        return out.read_text()

    def latest_fusion_run(self) -> str | None:
        data = self.graphql("""{ assetOrError(assetKey: {path: ["fused_training_set"]}) {
                               ... on Asset { assetMaterializations(limit: 1) { runId } } } }""")
        found = data["assetOrError"].get("assetMaterializations") or []
        return found[0]["runId"] if found else None

    def stop(self) -> None:
        """SIGINT to the whole group, as Ctrl-C would; KILL only if it does not shut down in time."""
        group = self.process.pid
        try:
            os.killpg(group, signal.SIGINT)
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(group, signal.SIGKILL)
            self.process.wait(timeout=30)
        except ProcessLookupError:
            pass

    def log_tail(self, lines: int = 60) -> str:
        return tail(self.log, lines)


@contextmanager
def running(server: Server) -> Iterator[Server]:
    """The server once its webserver answers; stopped afterwards, with no process of its group left behind."""
    try:
        wait_for("the webserver to answer", server, server.answers, timeout=240)
        yield server
    finally:
        server.stop()
    deadline = time.monotonic() + 60  # the webserver, daemon and code servers wind down after the parent
    while group_alive(server.process.pid) and time.monotonic() < deadline:
        time.sleep(1)
    assert not group_alive(server.process.pid), "dagster dev left processes behind"


def postgres_bindir() -> Path | None:
    """The folder of the PostgreSQL server binaries (initdb, postgres): `pg_config --bindir`, else the newest
    /usr/lib/postgresql/*/bin (Debian's layout), else initdb on PATH."""
    candidates = []
    if pg_config := shutil.which("pg_config"):
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if found.returncode == 0:
            candidates.append(Path(found.stdout.strip()))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name)
                         if p.parent.name.isdigit() else 0, reverse=True)
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).resolve().parent)
    return next((c for c in candidates if (c / "initdb").is_file() and (c / "postgres").is_file()), None)


class Postgres:
    """A throwaway PostgreSQL server: a new cluster (initdb) in a fresh folder under the system temp dir,
    listening on 127.0.0.1 at a free port (its unix socket in that folder), fsync off, trust authentication,
    with an empty database for Dagster. initdb refuses to run as root, so as root (CI) the cluster belongs to
    and runs as the `postgres` system user; the folder is outside pytest's tmp dirs, which only root can
    enter. stop() shuts it down (fast: SIGINT, KILL after a timeout) and removes the folder."""

    def __init__(self, bindir: Path, log: Path, database: str = "dagster") -> None:
        self.bindir, self.log, self.database = bindir, log, database
        self.port = _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="planfusion-pg-"))
        self.as_user: list[str] = []
        self.process: subprocess.Popen | None = None
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail("running as root, and initdb refuses root, but there is no `postgres` system user "
                            "(Debian's postgresql package creates it)")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        # the driver named: SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3; dagster-postgres brings psycopg2
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{self.database}"

    def start(self) -> None:
        data = self.dir / "data"
        made = subprocess.run([*self.as_user, str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres",
                               "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
                              capture_output=True, text=True, timeout=120, check=False)
        assert made.returncode == 0, f"initdb failed:\n{made.stdout}\n{made.stderr}"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [*self.as_user, str(self.bindir / "postgres"), "-D", str(data), "-h", "127.0.0.1",
                 "-p", str(self.port), "-k", str(self.dir), "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(f"PostgreSQL to accept connections on port {self.port}", self, self._accepts, timeout=60, every=0.5)
        self.execute(f"CREATE DATABASE {self.database}", database="postgres")

    def _accepts(self) -> bool:
        import psycopg2

        try:
            psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                             connect_timeout=5).close()
            return True
        except psycopg2.OperationalError:
            return False

    def execute(self, sql: str, *params: Any, database: str | None = None) -> list[tuple]:
        """Rows of one statement, run in autocommit on the server (the Dagster database by default)."""
        import psycopg2

        con = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=database or self.database)
        try:
            con.autocommit = True
            with con.cursor() as cursor:
                cursor.execute(sql, params or None)
                return cursor.fetchall() if cursor.description else []
        finally:
            con.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGINT)  # postgres: fast shutdown
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, lines: int = 60) -> str:
        return tail(self.log, lines)
