"""End to end against a real `dagster dev` (webserver, daemon, code server, run workers as processes):
a backfill of every family partition launched over GraphQL, the fusion by automation, a task file dropped
into the inbox and the sensor's run on the same persisted settings; and a run worker killed with SIGKILL
while it holds the DuckDB pool slot, after which a new run must still get through."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from tests.e2e.harness import BIN, FAMILIES, Server, finished, wait_for

pytestmark = pytest.mark.slow

# A line whose decoding recurses 5000 levels deep: it must be rejected like any malformed line.
DEEPLY_NESTED = '{"a":' * 5000 + "1" + "}" * 5000


def test_backfill_sensor_and_automation_keep_the_training_set_current(server: Server, tmp_path: Path) -> None:
    server.backfill_families()
    assert "Could not set lock" not in server.log.read_text(errors="replace")
    # eager(): once every family partition exists the automation sensor materializes the fusion by itself
    first_fusion = wait_for("the fusion after the backfill", server, server.latest_fusion_run, timeout=300)

    task_file = server.root / "inbox" / "scheduling" / "from_user.jsonl"
    task_file.parent.mkdir(parents=True)
    generated = server.generated_tasks("scheduling", 5, 777, tmp_path / "generated.jsonl")
    new_ids = [json.loads(line)["id"] for line in generated.splitlines()]
    task_file.write_text(generated + "{not json\n" + DEEPLY_NESTED + "\n")

    sensor_runs = wait_for(
        "the inbox sensor's run", server,
        lambda: finished(server, [r for r in server.runs() if r["tags"].get("planfusion/trigger") == "inbox"], 1), timeout=900)
    assert [r["tags"]["dagster/partition"] for r in sensor_runs] == ["scheduling"]
    sensor_run = sensor_runs[0]["runId"]
    second_fusion = wait_for("the fusion's update after the sensor's run", server,
                             lambda: (run := server.latest_fusion_run()) != first_fusion and run, timeout=600)

    with duckdb.connect(str(server.db), read_only=True) as con:
        rows = con.execute("SELECT task_id, file_path, line_number, run_id FROM raw_tasks WHERE source = 'file' "
                           "ORDER BY line_number").fetchall()
        rejected = con.execute("SELECT file_path, line_number FROM ingest_rejections ORDER BY line_number").fetchall()
        curated = con.execute("SELECT count(*) FROM curated_tasks WHERE task_id IN (SELECT unnest(?::VARCHAR[]))",
                              [new_ids]).fetchone()[0]
        fused_runs = {r[0] for r in con.execute("SELECT DISTINCT run_id FROM fused_training_set").fetchall()}
        generated_counts = dict(con.execute("SELECT family, count(*) FROM raw_tasks WHERE source = 'generator' "
                                            "AND perturbation IS NULL GROUP BY family").fetchall())
        raw_params = con.execute("SELECT DISTINCT run_id, params FROM raw_tasks WHERE family = 'scheduling'").fetchall()
        selections = dict(con.execute("SELECT family, count(*) FROM family_selection GROUP BY family").fetchall())
        scheduling_selection = con.execute("SELECT DISTINCT run_id, budget, params FROM family_selection "
                                           "WHERE family = 'scheduling'").fetchall()
        fused = con.execute("SELECT count(*) FROM fused_training_set").fetchone()[0]
    assert [(t, Path(f), line) for t, f, line, _ in rows] == [(t, task_file, n + 1) for n, t in enumerate(new_ids)]
    assert {run for *_, run in rows} == {sensor_run}
    assert rejected == [(str(task_file), 6), (str(task_file), 7)]  # `{not json` and the deeply nested line
    assert curated == 5
    assert fused_runs == {second_fusion} and fused == 20

    # the sensor's run read planfusion.yaml like the backfill (it once ran on the built-in defaults: 500, 100)
    assert generated_counts == {f: 30 for f in FAMILIES}
    assert selections == {f: 10 for f in FAMILIES}
    ((raw_run, params),) = raw_params
    params = json.loads(params)
    assert raw_run == sensor_run
    assert (params["n"], params["overrides"], params["settings_file"]) == (30, {}, str(server.settings_file))
    ((selection_run, budget, selection_params),) = scheduling_selection
    selection_params = json.loads(selection_params)
    assert (selection_run, budget) == (sensor_run, 10)
    assert (selection_params["overrides"], selection_params["settings_file"]) == ({}, str(server.settings_file))

    lineage = subprocess.run([str(BIN / "planfusion"), "lineage", new_ids[0], "--json", "--db", str(server.db)],
                             capture_output=True, text=True, check=True, env=server.env, timeout=120)
    (chain,) = json.loads(lineage.stdout)
    assert chain["source"]["file_path"] == str(task_file) and chain["source"]["line_number"] == 1
    assert chain["curation"] is not None and chain["source"]["run_id"] == sensor_run


KILL_STEP = "task_embeddings"  # loads the model and embeds while holding the pool slot: seconds to act in
RECOVERY_SECONDS = 180


def _process(pid: int) -> tuple[int, int, str] | None:
    """(parent pid, process group, command line) of a live process."""
    found = subprocess.run(["ps", "-o", "ppid=,pgid=,args=", "-p", str(pid)], capture_output=True, text=True)
    if found.returncode != 0:
        return None
    ppid, pgid, args = found.stdout.split(None, 2)
    return int(ppid), int(pgid), args.strip()


def test_a_killed_run_worker_is_failed_its_slot_freed_and_the_next_run_succeeds(
        server: Server, record_property: Any) -> None:
    """A run worker that dies by SIGKILL (as under the OOM killer) while it holds the one `duckdb` slot:
    the run must end FAILURE and its slot come back (run_monitoring's free_slots_after_run_end_seconds in
    dagster.yaml), or every later run that opens the warehouse waits behind a dead process forever."""
    # A new seed, so the victim's stages have work to do: with unchanged inputs every stage keeps its rows in
    # about a second and there would be no embedding step to kill.
    settings = yaml.safe_load(server.settings_file.read_text())
    settings["generation"]["seed"] = settings["generation"].get("seed", 0) + 1
    server.settings_file.write_text(yaml.safe_dump(settings))
    victim = server.launch_run("family_pipeline", "scheduling")
    wait_for(f"run {victim} to hold the duckdb slot in {KILL_STEP}", server,
             lambda: (victim, KILL_STEP) in server.claimed_slots(), timeout=300, every=0.25)
    pid = server.worker_pid(victim)
    assert pid is not None, f"no 'Started process for run' event for {victim}"
    ppid, pgid, _ = _process(pid) or pytest.fail(f"run worker {pid} of {victim} is not running")
    parent = _process(ppid)
    assert pgid == server.process.pid and parent and "dagster api grpc" in parent[2], (pid, ppid, pgid, parent)

    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    assert server.run(victim)["stepStats"], "the victim ran no step"
    assert (victim, KILL_STEP) in server.claimed_slots(), "the worker gave its slot back before it died"
    replacement = server.launch_run("family_pipeline", "scheduling")

    def left() -> float:
        return RECOVERY_SECONDS - (time.monotonic() - killed)

    def status_of(run_id: str) -> str:
        return server.run(run_id)["status"]

    wait_for(f"the killed run {victim} to be marked FAILURE", server,
             lambda: status_of(victim) == "FAILURE", timeout=min(60, left()), every=1)
    to_failure = time.monotonic() - killed
    wait_for(lambda: f"the duckdb slot of the killed run {victim} to be freed (claimed: {server.claimed_slots()}; "
                     f"the new run {replacement} is {status_of(replacement)})", server,
             lambda: victim not in {run for run, _ in server.claimed_slots()}, timeout=left(), every=1)
    to_freed = time.monotonic() - killed

    def replacement_done() -> bool:
        status = status_of(replacement)
        assert status not in ("FAILURE", "CANCELED"), f"the new run {replacement} ended {status}:\n{server.log_tail()}"
        return status == "SUCCESS"

    wait_for(f"the new run {replacement} to succeed within {RECOVERY_SECONDS}s of the kill", server,
             replacement_done, timeout=left(), every=1)
    to_success = time.monotonic() - killed
    timings = {"kill_to_failure_s": round(to_failure, 1), "kill_to_slot_freed_s": round(to_freed, 1),
               "kill_to_new_run_success_s": round(to_success, 1)}
    print(f"killed-worker recovery: {timings}")
    for name, value in timings.items():
        record_property(name, value)

    with duckdb.connect(str(server.db), read_only=True) as con:  # the killed step's rows: the replacement's
        writers = con.execute("SELECT DISTINCT run_id FROM task_embeddings WHERE family = 'scheduling'").fetchall()
    assert writers == [(replacement,)]
    assert server.claimed_slots() == []
