"""The code location loads, the inbox sensor requests one run per new content, and the fusion's eager
condition asks for a run once every family partition has updated, evaluated with Dagster's test tools."""

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import numpy as np
import pytest

from assets.selection_report import report_metadata
from orchestration.definitions import defs
from orchestration.sensors import inbox_sensor

ROOT = Path(__file__).resolve().parents[2]


def test_definitions_validate_with_the_dagster_cli() -> None:
    dagster = Path(sys.executable).with_name("dagster")
    done = subprocess.run([str(dagster), "definitions", "validate", "-m", "orchestration.definitions"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_stage_is_an_asset_with_checks_and_the_sensors_run_by_default() -> None:
    graph = defs.resolve_asset_graph()
    assert {key.path[-1] for key in graph.get_all_asset_keys()} == {
        "raw_tasks", "curated_tasks", "task_embeddings", "density_factors", "family_selection", "fused_training_set"}
    checks = {key.name for key in graph.asset_check_keys}
    assert checks == {"task_ids_unique", "kept_tasks_verified", "selection_is_exact", "covers_every_family"}
    for name in ("inbox_sensor", "planfusion_automation"):
        assert defs.resolve_sensor_def(name).default_status == dg.DefaultSensorStatus.RUNNING


def _tick(monkeypatch: pytest.MonkeyPatch, inbox: Path, cursor: str | None) -> dg.SensorResult:
    monkeypatch.setenv("PLANFUSION_INBOX", str(inbox))
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
        return inbox_sensor(context)


def test_inbox_sensor_requests_one_run_per_new_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _tick(monkeypatch, tmp_path, None).run_requests == []

    (tmp_path / "scheduling").mkdir()
    (tmp_path / "scheduling" / "a.jsonl").write_text('{"id": "x"}\n')
    first = _tick(monkeypatch, tmp_path, None)
    assert [(r.partition_key, r.run_key.split(":")[0]) for r in first.run_requests] == [("scheduling", "scheduling")]

    assert _tick(monkeypatch, tmp_path, first.cursor).run_requests == []  # same content: nothing

    (tmp_path / "scheduling" / "a.jsonl").write_text('{"id": "y"}\n')
    (tmp_path / "tool_execution").mkdir()
    (tmp_path / "tool_execution" / "b.jsonl").write_text('{"id": "z"}\n')
    changed = _tick(monkeypatch, tmp_path, first.cursor)
    assert sorted(r.partition_key for r in changed.run_requests) == ["scheduling", "tool_execution"]
    scheduling = next(r for r in changed.run_requests if r.partition_key == "scheduling")
    assert scheduling.run_key != first.run_requests[0].run_key
    assert inbox_sensor.job_name == "family_pipeline"


def _report(instance: dg.DagsterInstance, family: str) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization("family_selection", partition=family))


def test_fusion_runs_when_every_family_selection_exists_and_again_after_an_update() -> None:
    fused = dg.AssetKey("fused_training_set")
    assets = defs.resolve_all_asset_specs()
    with dg.instance_for_test() as instance:
        result = dg.evaluate_automation_conditions(defs=assets, instance=instance)
        assert result.get_num_requested(fused) == 0
        for family in ("decomposition", "scheduling"):
            _report(instance, family)
        result = dg.evaluate_automation_conditions(defs=assets, instance=instance, cursor=result.cursor)
        assert result.get_num_requested(fused) == 0  # tool_execution still missing

        _report(instance, "tool_execution")
        result = dg.evaluate_automation_conditions(defs=assets, instance=instance, cursor=result.cursor)
        assert result.get_num_requested(fused) == 1
        instance.report_runless_asset_event(dg.AssetMaterialization("fused_training_set"))
        result = dg.evaluate_automation_conditions(defs=assets, instance=instance, cursor=result.cursor)
        assert result.get_num_requested(fused) == 0

        _report(instance, "scheduling")  # e.g. the inbox sensor's run
        result = dg.evaluate_automation_conditions(defs=assets, instance=instance, cursor=result.cursor)
        assert result.get_num_requested(fused) == 1


def test_inbox_sensor_skips_entries_that_are_not_regular_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A directory or a FIFO named *.jsonl used to fail (or block) every tick; now only real files count."""
    folder = tmp_path / "scheduling"
    folder.mkdir()
    (folder / "x.jsonl").mkdir()
    os.mkfifo(folder / "y.jsonl")
    assert _tick(monkeypatch, tmp_path, None).run_requests == []
    (folder / "a.jsonl").write_text('{"id": "x"}\n')
    assert [r.partition_key for r in _tick(monkeypatch, tmp_path, None).run_requests] == ["scheduling"]


def test_the_inbox_sensor_names_its_folder_and_up_creates_the_family_folders(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestration.up import pin_paths
    from planfusion.tasks import FAMILIES

    assert "<family>/*.jsonl" in inbox_sensor.description and "inbox" in inbox_sensor.description
    for variable, value in (("PLANFUSION_DB", "w/p.duckdb"), ("PLANFUSION_INBOX", "inbox"),
                            ("PLANFUSION_EXPORTS", "exports"), ("PLANFUSION_CONFIG", "planfusion.yaml")):
        monkeypatch.setenv(variable, str(tmp_path / value))
    pin_paths()
    assert sorted(p.name for p in (tmp_path / "inbox").iterdir()) == sorted(FAMILIES)


def test_a_pool_too_large_for_the_report_gets_a_note_pointing_to_the_command() -> None:
    inputs = SimpleNamespace(name="scheduling", embeddings=np.zeros((40, 4), dtype=np.float32))
    note = report_metadata(None, inputs, max_pool=30)["report"].value
    assert "40 tasks, more than 30" in note and "planfusion report --family scheduling" in note
