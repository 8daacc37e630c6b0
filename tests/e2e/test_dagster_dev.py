"""End to end against a real `dagster dev` (webserver and daemon): a backfill of every family partition
launched over GraphQL, the fusion by automation, then a task file dropped into the inbox, the sensor's run,
the fusion's update, and the new tasks with their lineage in the DuckDB warehouse."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import duckdb
import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FAMILIES = ("decomposition", "scheduling", "tool_execution")
SMALL = {"ops": {"raw_tasks": {"config": {"n": 30}}, "family_selection": {"config": {"budget": 10}}}}

pytestmark = pytest.mark.slow


class Server:
    """One `dagster dev` in its own process group, with its own DAGSTER_HOME, warehouse and inbox."""

    def __init__(self, root: Path) -> None:
        self.root, self.port = root, _free_port()
        home = root / "dagster_home"
        home.mkdir()
        shutil.copyfile(ROOT / "dagster.yaml", home / "dagster.yaml")
        self.env = dict(os.environ, DAGSTER_HOME=str(home), PLANFUSION_DB=str(root / "warehouse.duckdb"),
                        PLANFUSION_INBOX=str(root / "inbox"), PLANFUSION_EXPORTS=str(root / "exports"))
        self.log = root / "dagster_dev.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [str(BIN / "dagster"), "dev", "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(self.port)],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def db(self) -> Path:
        return Path(self.env["PLANFUSION_DB"])

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
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(what: str, server: Server, probe: Callable[[], Any], timeout: float, every: float = 3.0) -> Any:
    """Poll until probe returns something truthy; fail with the server's log tail at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.process.poll() is None, f"dagster dev exited while waiting for {what}:\n{server.log_tail()}"
        value = probe()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{server.log_tail()}")


def _answers(server: Server) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{server.port}/server_info", timeout=5).ok
    except requests.RequestException:
        return False


def _finished(runs: list[dict[str, Any]], expected: int) -> list[dict[str, Any]] | None:
    failed = [r for r in runs if r["status"] in ("FAILURE", "CANCELED")]
    assert not failed, f"runs failed: {failed}"
    done = [r for r in runs if r["status"] == "SUCCESS"]
    return done if len(done) >= expected else None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    server = Server(tmp_path)
    try:
        wait_for("the webserver to answer", server, lambda: _answers(server), timeout=240)
        yield server
    finally:
        server.stop()
    deadline = time.monotonic() + 60  # the webserver, daemon and code servers wind down after the parent
    while _group_alive(server.process.pid) and time.monotonic() < deadline:
        time.sleep(1)
    assert not _group_alive(server.process.pid), "dagster dev left processes behind"


def _group_alive(group: int) -> bool:
    return subprocess.run(["pgrep", "-g", str(group)], capture_output=True).returncode == 0


def launch_backfill(server: Server) -> str:
    data = server.graphql(
        """mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) { __typename
             ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }""",
        p={"selector": {"partitionSetName": "family_pipeline_partition_set",
                        "repositorySelector": {"repositoryLocationName": "orchestration.definitions",
                                               "repositoryName": "__repository__"}},
           "partitionNames": list(FAMILIES), "runConfigData": SMALL})
    result = data["launchPartitionBackfill"]
    assert result["__typename"] == "LaunchBackfillSuccess", result
    return result["backfillId"]


def test_backfill_sensor_and_automation_keep_the_training_set_current(server: Server, tmp_path: Path) -> None:
    backfill = launch_backfill(server)
    family_runs = wait_for(
        "the backfill's three runs", server,
        lambda: _finished([r for r in server.runs() if r["tags"].get("dagster/backfill") == backfill], 3), timeout=900)
    assert sorted(r["tags"]["dagster/partition"] for r in family_runs) == sorted(FAMILIES)
    assert "Could not set lock" not in server.log.read_text(errors="replace")
    # eager(): once every family partition exists the automation sensor materializes the fusion by itself
    first_fusion = wait_for("the fusion after the backfill", server, server.latest_fusion_run, timeout=300)

    task_file = server.root / "inbox" / "scheduling" / "from_user.jsonl"
    task_file.parent.mkdir(parents=True)
    generated = tmp_path / "generated.jsonl"
    subprocess.run([str(BIN / "planfusion"), "generate", "--family", "scheduling", "--n", "5", "--seed", "777",
                    "--out", str(generated)], check=True, cwd=ROOT, timeout=120)
    new_ids = [json.loads(line)["id"] for line in generated.read_text().splitlines()]
    task_file.write_text(generated.read_text() + "{not json\n")

    sensor_runs = wait_for(
        "the inbox sensor's run", server,
        lambda: _finished([r for r in server.runs() if r["tags"].get("planfusion/trigger") == "inbox"], 1), timeout=900)
    assert [r["tags"]["dagster/partition"] for r in sensor_runs] == ["scheduling"]
    second_fusion = wait_for("the fusion's update after the sensor's run", server,
                             lambda: (run := server.latest_fusion_run()) != first_fusion and run, timeout=600)

    with duckdb.connect(str(server.db), read_only=True) as con:
        rows = con.execute("SELECT task_id, file_path, line_number, run_id FROM raw_tasks WHERE source = 'file' "
                           "ORDER BY line_number").fetchall()
        rejected = con.execute("SELECT file_path, line_number FROM ingest_rejections").fetchall()
        curated = con.execute("SELECT count(*) FROM curated_tasks WHERE task_id IN (SELECT unnest(?::VARCHAR[]))",
                              [new_ids]).fetchone()[0]
        fused_runs = {r[0] for r in con.execute("SELECT DISTINCT run_id FROM fused_training_set").fetchall()}
    assert [(t, Path(f), line) for t, f, line, _ in rows] == [(t, task_file, n + 1) for n, t in enumerate(new_ids)]
    assert {run for *_, run in rows} == {sensor_runs[0]["runId"]}
    assert rejected == [(str(task_file), 6)]
    assert curated == 5
    assert fused_runs == {second_fusion}

    lineage = subprocess.run([str(BIN / "planfusion"), "lineage", new_ids[0], "--json", "--db", str(server.db)],
                             capture_output=True, text=True, check=True, timeout=120)
    (chain,) = json.loads(lineage.stdout)
    assert chain["source"]["file_path"] == str(task_file) and chain["source"]["line_number"] == 1
    assert chain["curation"] is not None and chain["source"]["run_id"] == sensor_runs[0]["runId"]
