"""`planfusion up` after an earlier `up` was killed with SIGKILL in the middle of a run: the new `up` must
not wait behind the dead process's run and its `duckdb` pool slot, but release them and finish."""

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from tests.e2e.harness import BIN, ROOT, SMALL_SETTINGS, group_alive, project_env, tail, wait_for

pytestmark = pytest.mark.slow

KILL_STEP = "task_embeddings"  # loads the model and embeds while holding the pool slot: seconds to act in
SECOND_UP_SECONDS = 300


class Up:
    """`planfusion up --no-serve` in its own process group, its output in a log file."""

    def __init__(self, root: Path, env: dict[str, str], name: str) -> None:
        self.log = root / f"{name}.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [str(BIN / "planfusion"), "up", "--no-serve", "--home", env["DAGSTER_HOME"]],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def log_tail(self, lines: int = 60) -> str:
        return tail(self.log, lines)

    def kill(self) -> None:
        if group_alive(self.process.pid):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


def test_up_after_a_killed_up_releases_its_run_and_finishes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, record_property: Any) -> None:
    home = tmp_path / "dagster_home"
    env = project_env(tmp_path, SMALL_SETTINGS) | {"DAGSTER_HOME": str(home)}
    first = Up(tmp_path, env, "first_up")
    started = time.monotonic()
    try:
        # the instance exists once up says it is generating; only then open it here (SQLite: shared safely)
        wait_for("the first up's first family run", first,
                 lambda: "generating, curating, embedding" in first.log.read_text(errors="replace"), timeout=180, every=1)
    except BaseException:
        first.kill()
        raise
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        def claimed() -> list[tuple[str, str]]:
            return [(s.run_id, s.step_key) for s in instance.event_log_storage.get_concurrency_info("duckdb").claimed_slots]

        try:
            killed_run = wait_for(f"the first up's run to hold the duckdb slot in {KILL_STEP}", first,
                                  lambda: next((run for run, step in claimed() if step == KILL_STEP), None),
                                  timeout=300, every=0.25)
        finally:
            first.kill()
        killed_after = time.monotonic() - started
        assert first.process.returncode == -signal.SIGKILL
        killed = instance.get_run_by_id(killed_run)
        assert (killed.status, killed.tags["dagster/partition"]) == (dg.DagsterRunStatus.STARTED, "decomposition")
        assert claimed() == [(killed_run, KILL_STEP)], "the killed up gave its slot back before it died"

        second = Up(tmp_path, env, "second_up")
        started = time.monotonic()
        try:
            second.process.wait(timeout=SECOND_UP_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the second up did not finish within {SECOND_UP_SECONDS}s (claimed duckdb slots: {claimed()}; "
                        f"the killed run {killed_run} is {instance.get_run_by_id(killed_run).status}):\n"
                        f"{second.log_tail()}")
        finally:
            second.kill()
        second_seconds = time.monotonic() - started
        output = second.log.read_text(errors="replace")
        assert second.process.returncode == 0, output[-5000:]
        assert f"run {killed_run} of an earlier, killed `up`: marked failed, pool slots freed" in output, output[-5000:]
        assert "pipeline materialized" in output

        assert instance.get_run_by_id(killed_run).status == dg.DagsterRunStatus.FAILURE
        assert claimed() == []
        second_runs = instance.get_runs(dg.RunsFilter(tags={"planfusion/up_pid": str(second.process.pid)}))
        assert len(second_runs) == 4 and {r.status for r in second_runs} == {dg.DagsterRunStatus.SUCCESS}

    timings = {"first_up_start_to_kill_s": round(killed_after, 1), "second_up_s": round(second_seconds, 1)}
    print(f"planfusion up after a killed up: {timings}")
    for name, value in timings.items():
        record_property(name, value)
