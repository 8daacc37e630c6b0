"""The Dagster instance on a real PostgreSQL server (dagster.yaml's commented block, switched on as
`planfusion up --storage postgres` does), with a real `dagster dev` on it: a backfill of the three family
partitions (one run each), the fusion by the automation sensor, a task file picked up by the inbox sensor and
its family's run, and the UI's GraphQL answering from the same database. Then PostgreSQL itself is asked:
runs, event logs, backfill, sensor ticks and the `duckdb` pool are stored there, and DAGSTER_HOME holds no
SQLite file. And `planfusion up --storage postgres`, the documented command, records its runs there too."""

import itertools
import json
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from orchestration.instance import PG_URL_VARIABLE, instance_yaml
from tests.e2e.harness import (
    BIN,
    FAMILIES,
    ROOT,
    SMALL_SETTINGS,
    Postgres,
    Server,
    finished,
    project_env,
    tail,
    wait_for,
)

pytestmark = pytest.mark.slow

FAMILY_ASSETS = ("raw_tasks", "curated_tasks", "task_embeddings", "density_factors", "family_selection")


def _ticks(postgres: Postgres, sensor: str) -> list[dict[str, Any]]:
    """The sensor's ticks as stored in the schedule storage's job_ticks table (tick_body is Dagster's JSON
    of TickData; the sensor's name is stored as job_name)."""
    bodies = [json.loads(body) for (body,) in postgres.execute("SELECT tick_body FROM job_ticks ORDER BY id")]
    return [b for b in bodies if b.get("job_name") == sensor]


def _step_windows(postgres: Postgres) -> list[tuple[datetime, datetime, str, str]]:
    """(start, end, run, step) of every step of every run, from the event log in PostgreSQL."""
    rows = postgres.execute("""SELECT run_id, step_key, dagster_event_type, timestamp FROM event_logs
                               WHERE dagster_event_type IN ('STEP_START', 'STEP_SUCCESS', 'STEP_FAILURE')""")
    starts = {(run, step): ts for run, step, kind, ts in rows if kind == "STEP_START"}
    ends = {(run, step): ts for run, step, kind, ts in rows if kind != "STEP_START"}
    assert starts.keys() == ends.keys(), (starts.keys(), ends.keys())
    return sorted((starts[key], ends[key], *key) for key in starts)


def test_pipeline_sensors_and_ui_on_a_postgres_instance(postgres_server: Server, postgres: Postgres,
                                                       tmp_path: Path) -> None:
    server = postgres_server
    home = Path(server.env["DAGSTER_HOME"])
    # the instance the webserver serves is stored in PostgreSQL, with the pool and run monitoring of dagster.yaml
    info = yaml.safe_load(server.graphql("{ instance { info } }")["instance"]["info"])
    assert [info["run_storage"], info["event_log_storage"], info["schedule_storage"]] == [
        "PostgresRunStorage", "PostgresEventLogStorage", "PostgresScheduleStorage"]
    assert info["concurrency"]["pools"] == {"default_limit": 1} and info["run_monitoring"]["enabled"] is True

    family_runs = server.backfill_families()
    first_fusion = wait_for("the fusion by the automation sensor", server, server.latest_fusion_run, timeout=300)

    task_file = server.root / "inbox" / "scheduling" / "from_user.jsonl"
    task_file.parent.mkdir(parents=True)
    task_file.write_text(server.generated_tasks("scheduling", 3, 777, tmp_path / "generated.jsonl"))
    (sensor_run,) = wait_for(
        "the inbox sensor's run", server,
        lambda: finished(server, [r for r in server.runs() if r["tags"].get("planfusion/trigger") == "inbox"], 1), timeout=600)
    assert sensor_run["tags"]["dagster/partition"] == "scheduling"
    second_fusion = wait_for("the fusion's update after the sensor's run", server,
                             lambda: (run := server.latest_fusion_run()) != first_fusion and run, timeout=600)
    def all_succeeded() -> list[dict[str, Any]] | None:
        runs = server.runs()
        return finished(server, runs, len(runs))

    ui_runs = wait_for("every run to finish", server, all_succeeded, timeout=300)
    assert "Could not set lock" not in server.log.read_text(errors="replace")

    # PostgreSQL holds the runs the UI lists, with their partitions and the backfill
    stored = {run: (job, status) for run, job, status in postgres.execute("SELECT run_id, pipeline_name, status FROM runs")}
    assert stored == {r["runId"]: (r["jobName"], r["status"]) for r in ui_runs}
    assert len(stored) == 6  # three family runs, the sensor's run, two fusions
    partitions = dict(postgres.execute("SELECT run_id, value FROM run_tags WHERE key = 'dagster/partition'"))
    assert partitions == {r["runId"]: r["tags"]["dagster/partition"] for r in family_runs} | {sensor_run["runId"]: "scheduling"}
    assert postgres.execute("SELECT status FROM bulk_actions WHERE key = %s",
                            family_runs[0]["tags"]["dagster/backfill"]) == [("COMPLETED_SUCCESS",)]

    # ... their event logs: every stage's materializations, per family partition, by the runs above
    materialized = postgres.execute("""SELECT asset_key, partition, run_id FROM event_logs
                                       WHERE dagster_event_type = 'ASSET_MATERIALIZATION'""")
    by_asset: dict[tuple[str, str | None], set[str]] = {}
    for key, partition, run in materialized:
        by_asset.setdefault((json.loads(key)[-1], partition), set()).add(run)
    assert by_asset == {
        **{(asset, family): {partitions_run for partitions_run, p in partitions.items() if p == family}
           for asset in FAMILY_ASSETS for family in FAMILIES},
        ("fused_training_set", None): {first_fusion, second_fusion}}

    # ... the sensors' ticks: the inbox sensor's request of exactly that run, the automation's of both fusions
    inbox_ticks = _ticks(postgres, "inbox_sensor")
    assert len(inbox_ticks) >= 2, inbox_ticks  # it ticks every 15 s, with or without a file
    assert [t["run_ids"] for t in inbox_ticks if t["run_ids"]] == [[sensor_run["runId"]]]
    automation_runs = [run for t in _ticks(postgres, "planfusion_automation") for run in t["run_ids"]]
    assert automation_runs == [first_fusion, second_fusion]

    # ... and the `duckdb` pool: limit 1, no slot left claimed, and no two steps of any runs ever overlapped
    # (every step opens the DuckDB file, so every step is in the pool)
    assert postgres.execute('SELECT concurrency_key, "limit" FROM concurrency_limits') == [("duckdb", 1)]
    assert postgres.execute("SELECT count(*) FROM concurrency_slots WHERE run_id IS NOT NULL AND NOT deleted") == [(0,)]
    windows = _step_windows(postgres)
    assert {run for *_, run, _ in windows} == set(stored)
    overlaps = [(a, b) for a, b in itertools.pairwise(windows) if b[0] < a[1]]
    assert not overlaps, overlaps

    # nothing of the instance went to SQLite files in DAGSTER_HOME
    assert sorted(home.rglob("*.db")) == []

    # the warehouse rows name the runs that PostgreSQL recorded
    with duckdb.connect(str(server.db), read_only=True) as con:
        writers = {run for (run,) in con.execute("SELECT DISTINCT run_id FROM raw_tasks").fetchall()}
        fused = {run for (run,) in con.execute("SELECT DISTINCT run_id FROM fused_training_set").fetchall()}
        from_file = con.execute("SELECT count(*) FROM raw_tasks WHERE source = 'file'").fetchone()[0]
    assert writers == {r["runId"] for r in family_runs if r["tags"]["dagster/partition"] != "scheduling"} | {sensor_run["runId"]}
    assert fused == {second_fusion} and from_file == 3


def test_planfusion_up_with_postgres_storage_records_its_runs_there(postgres: Postgres, tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    env = project_env(tmp_path, SMALL_SETTINGS) | {"DAGSTER_HOME": str(home), PG_URL_VARIABLE: postgres.url}
    log = tmp_path / "up.log"
    with open(log, "wb") as out:
        up = subprocess.run([str(BIN / "planfusion"), "up", "--no-serve", "--storage", "postgres", "--home", str(home)],
                            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=900, check=False)
    assert up.returncode == 0, tail(log, 80)
    output = log.read_text(errors="replace")
    assert f"instance: {home} (postgres storage)" in output and "pipeline materialized" in output
    assert (home / "dagster.yaml").read_text() == instance_yaml("postgres", (ROOT / "dagster.yaml").read_text())

    runs = postgres.execute("""SELECT r.run_id, r.status, p.value FROM runs r
                               JOIN run_tags u ON u.run_id = r.run_id AND u.key = 'planfusion/up_pid'
                               LEFT JOIN run_tags p ON p.run_id = r.run_id AND p.key = 'dagster/partition'""")
    assert {status for _, status, _ in runs} == {"SUCCESS"}
    assert sorted(partition or "" for *_, partition in runs) == ["", *sorted(FAMILIES)]  # and the fusion
    events = dict(postgres.execute("SELECT run_id, count(*) FROM event_logs GROUP BY run_id"))
    assert set(events) == {run for run, *_ in runs}
    assert sorted(home.rglob("*.db")) == []
