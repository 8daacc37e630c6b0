"""What the end-to-end tests share: the environment of the project's real processes, a real `dagster dev`
driven over GraphQL, and polling with deadlines that fail with the process's log tail."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Protocol

import pytest
import requests
import yaml

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
    return subprocess.run(["pgrep", "-g", str(group)], capture_output=True).returncode == 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One `dagster dev` in its own process group, with its own DAGSTER_HOME (the project's dagster.yaml
    copied in: with DAGSTER_HOME set, the working directory's is ignored), warehouse, inbox and settings."""

    def __init__(self, root: Path, settings: dict[str, Any]) -> None:
        self.root, self.port = root, _free_port()
        home = root / "dagster_home"
        home.mkdir()
        shutil.copyfile(ROOT / "dagster.yaml", home / "dagster.yaml")
        self.env = project_env(root, settings) | {"DAGSTER_HOME": str(home)}
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
