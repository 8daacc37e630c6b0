"""Under faults the warehouse converges to the truth: failed runs are requested again, removed files
leave, an empty family is a clear state, a partial run is visible as stale and never fused, and every
run reads the one persisted settings file. Real DuckDB files, the real model, in-process Dagster runs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml
from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
from dagster._core.loader import LoadingContextForTest

from assets import ALL_ASSETS, FAMILY_ASSETS
from assets.spec import code_version
from orchestration.definitions import defs
from orchestration.sensors import inbox_sensor
from planfusion import tables
from planfusion.lineage import task_lineage
from planfusion.tasks import FAMILIES
from tests.pipeline.harness import SETTINGS, Warehouse, failure as _failure

def _tick(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch, cursor: str | None) -> dg.SensorResult:
    monkeypatch.setenv("PLANFUSION_INBOX", str(warehouse.inbox))
    context = dg.build_sensor_context(instance=warehouse.instance, cursor=cursor, definitions=defs)
    return inbox_sensor(context)


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """Every family and the fusion, materialized with no run config: everything from the settings file."""
    warehouse = Warehouse(tmp_path_factory.mktemp("filled"))
    for family in FAMILIES:
        assert warehouse.family(family).success
    assert warehouse.fusion().success
    return warehouse


def test_runs_without_run_config_use_the_persisted_settings_and_lineage_says_so(filled: Warehouse) -> None:
    assert {f: filled.count("raw_tasks", f) for f in FAMILIES} == {f: 14 for f in FAMILIES}
    assert {f: filled.count("family_selection", f) for f in FAMILIES} == {f: 5 for f in FAMILIES}
    assert filled.rows("SELECT count(*) FROM fused_training_set") == [(9,)]
    (params,) = filled.rows("SELECT DISTINCT params FROM raw_tasks WHERE family = 'scheduling'")[0]
    params = json.loads(params)
    assert (params["n"], params["overrides"], params["settings_file"]) == (14, {}, str(filled.settings_file))


def test_a_launchpad_override_is_for_that_run_only_and_recorded(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    result = warehouse.family("scheduling", assets=FAMILY_ASSETS[:1],
                              run_config={"ops": {"raw_tasks": {"config": {"n": 6}}}})
    assert result.success
    (params,) = warehouse.rows("SELECT DISTINCT params FROM raw_tasks")[0]
    assert json.loads(params)["overrides"] == {"n": 6} and warehouse.count("raw_tasks", "scheduling") == 6
    assert warehouse.family("scheduling", assets=FAMILY_ASSETS[:1]).success  # e.g. a sensor run: the file again
    assert warehouse.count("raw_tasks", "scheduling") == 14


def test_the_embedding_engine_comes_from_the_settings_file_and_lineage_records_what_ran(tmp_path: Path) -> None:
    """The engine was resource config, so `planfusion up` and sensors always ran "auto": now it is the
    embedding section of planfusion.yaml, a launchpad run may override it, and the cache keeps the
    vectors of each apart."""
    warehouse = Warehouse(tmp_path, SETTINGS | {"embedding": {"precision": "fp32"}})
    embeddings = FAMILY_ASSETS[:3]

    def run(run_config: dict | None = None) -> tuple[str, dict]:
        assert warehouse.family("scheduling", assets=embeddings, run_config=run_config).success
        (scheme, params), = warehouse.rows("SELECT DISTINCT embedding_scheme, params FROM task_embeddings")
        return scheme, json.loads(params)

    scheme, params = run()
    assert scheme.endswith("-fp32") and params["precision"] == "fp32" and params["overrides"] == {}
    assert params["backend"] in ("openvino", "torch") and params["batch_size"] >= 1  # "auto" resolved
    scheme, params = run({"ops": {"task_embeddings": {"config": {"precision": "bf16"}}}})
    assert scheme.endswith("-bf16") and params["overrides"] == {"precision": "bf16"}
    scheme, params = run()  # e.g. a sensor's run: the file again, its vectors from the cache
    assert scheme.endswith("-fp32") and params["overrides"] == {}
    assert warehouse.rows("SELECT count(*) FROM task_embeddings WHERE from_cache") == [(14,)]
    assert warehouse.rows("SELECT count(DISTINCT embedding_scheme) FROM embedding_cache") == [(2,)]


def test_selection_rows_record_the_k_their_density_was_made_with(filled: Warehouse) -> None:
    ks = filled.rows("SELECT DISTINCT s.k, json_extract(s.params, '$.k')::INT, d.k FROM family_selection s "
                     "JOIN density_factors d USING (family, task_id)")
    assert ks == [(3, 3, 3)]


def test_config_errors_fail_at_once_and_are_never_retried(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    start = time.perf_counter()
    result = warehouse.family("scheduling", run_config={"ops": {"family_selection": {"config": {"budget": 0}}}})
    assert not result.success and time.perf_counter() - start < 60
    assert "greater than or equal to 1" in _failure(result)
    restarts = [e for e in result.all_events if e.event_type_value in ("STEP_RESTARTED", "STEP_UP_FOR_RETRY")]
    assert restarts == []
    with pytest.raises(dg.DagsterInvalidConfigError, match="variant"):
        warehouse.family("scheduling", run_config={"ops": {"family_selection": {"config": {"variant": "foo"}}}})
    warehouse.settings_file.write_text(yaml.safe_dump({"selection": {"kappa2": -1}}))
    result = warehouse.family("decomposition", assets=FAMILY_ASSETS[:1])
    assert not result.success and "selection.kappa2" in _failure(result) and str(warehouse.settings_file) in _failure(result)
    assert not warehouse.db.exists()  # nothing written


def test_an_empty_family_empties_its_stages_and_fusion_goes_on_without_it(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    for family in FAMILIES:
        assert warehouse.family(family).success
    assert warehouse.fusion().success
    warehouse.settings_file.write_text(yaml.safe_dump(SETTINGS | {"generation": {"n": 0}}))
    result = warehouse.family("tool_execution")
    assert result.success, _failure(result)
    counts = {t: warehouse.count(t, "tool_execution") for t in tables.FAMILY_TABLES}
    assert set(counts.values()) == {0}, counts
    assert warehouse.fusion().success
    fused = warehouse.rows("SELECT task_id, family FROM fused_training_set")
    assert fused and {f for _, f in fused} == {"decomposition", "scheduling"}
    with duckdb.connect(str(warehouse.db), read_only=True) as con:
        for task_id, _ in fused:
            (chain,) = task_lineage(con, task_id)
            assert chain["fusion"] is not None


def test_a_partial_run_is_shown_stale_and_never_fused(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    for family in FAMILIES:
        assert warehouse.family(family).success
    assert warehouse.fusion().success
    fused_before = warehouse.rows("SELECT * FROM fused_training_set ORDER BY fusion_step")
    warehouse.drop_file("scheduling", "new.jsonl", seed=9090)
    assert warehouse.family("scheduling", assets=FAMILY_ASSETS[:1]).success  # the run died after raw_tasks

    resolver = CachingStaleStatusResolver(warehouse.instance, defs.resolve_asset_graph(),
                                          LoadingContextForTest(warehouse.instance))  # what the UI asks
    # Dagster marks the first stage behind its input stale (it does not propagate further down)
    assert resolver.get_status(dg.AssetKey("curated_tasks"), "scheduling") == StaleStatus.STALE
    for asset in ("raw_tasks", "curated_tasks", "task_embeddings", "density_factors", "family_selection"):
        assert resolver.get_status(dg.AssetKey(asset), "decomposition") == StaleStatus.FRESH, asset

    result = warehouse.fusion()
    assert not result.success
    assert "scheduling: curated_tasks disagrees with raw_tasks on 4 tasks" in _failure(result)
    assert warehouse.rows("SELECT * FROM fused_training_set ORDER BY fusion_step") == fused_before

    assert warehouse.family("scheduling").success  # the rest of the family catches up
    resolver = CachingStaleStatusResolver(warehouse.instance, defs.resolve_asset_graph(),
                                          LoadingContextForTest(warehouse.instance))
    assert resolver.get_status(dg.AssetKey("curated_tasks"), "scheduling") == StaleStatus.FRESH
    assert warehouse.fusion().success


def test_the_sensor_requests_failed_content_again_and_converges_to_the_inbox(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse = Warehouse(tmp_path)
    for family in FAMILIES:
        assert warehouse.family(family).success
    first_ids = warehouse.drop_file("scheduling", "mine.jsonl", seed=4242)
    tick = _tick(warehouse, monkeypatch, None)
    (request,) = tick.run_requests
    assert request.partition_key == "scheduling"

    # the run fails (here: its warehouse path is not writable); the content must be requested again
    broken = warehouse.resources_for(tmp_path / "not_a_dir" / "w.duckdb")
    (tmp_path / "not_a_dir").write_text("a file where a folder should be")
    assert not warehouse.family("scheduling", tags=request.tags, resources=broken).success
    retry_tick = _tick(warehouse, monkeypatch, tick.cursor)
    (retry,) = retry_tick.run_requests
    assert retry.partition_key == "scheduling" and retry.run_key != request.run_key
    assert warehouse.family("scheduling", tags=retry.tags).success
    assert _tick(warehouse, monkeypatch, retry_tick.cursor).run_requests == []  # succeeded: nothing more
    assert warehouse.count("raw_tasks", "scheduling") == 14 + 4

    # a second copy of the same content keeps the first file's tasks, no "already taken" rejections
    (warehouse.inbox / "scheduling" / "a_copy.jsonl").write_text((warehouse.inbox / "scheduling" / "mine.jsonl").read_text())
    copy_tick = _tick(warehouse, monkeypatch, retry_tick.cursor)
    (copy_request,) = copy_tick.run_requests
    assert warehouse.family("scheduling", tags=copy_request.tags).success
    assert warehouse.count("raw_tasks", "scheduling") == 14 + 4
    assert warehouse.count("ingest_rejections", "scheduling") == 0

    # removing the files removes their rows at the next run, down to the selection
    for path in (warehouse.inbox / "scheduling").iterdir():
        path.unlink()
    gone_tick = _tick(warehouse, monkeypatch, copy_tick.cursor)
    (gone,) = gone_tick.run_requests
    assert warehouse.family("scheduling", tags=gone.tags).success
    assert warehouse.count("raw_tasks", "scheduling") == 14
    leftover = warehouse.rows("SELECT count(*) FROM family_selection WHERE task_id IN (SELECT unnest(?::VARCHAR[]))",
                              [first_ids])
    assert leftover == [(0,)]

    # back to an earlier set of files: a new request, not deduplicated against the earlier run key
    warehouse.drop_file("scheduling", "mine.jsonl", seed=4242)
    back = _tick(warehouse, monkeypatch, gone_tick.cursor)
    (again,) = back.run_requests
    assert again.run_key not in {request.run_key, retry.run_key, copy_request.run_key, gone.run_key}


def test_the_sensor_gives_up_after_repeated_failures_until_the_content_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse = Warehouse(tmp_path)
    warehouse.drop_file("decomposition", "x.jsonl", seed=1)
    (tmp_path / "not_a_dir").write_text("")
    broken = warehouse.resources_for(tmp_path / "not_a_dir" / "w.duckdb")
    cursor, keys = None, []
    for _ in range(3):
        tick = _tick(warehouse, monkeypatch, cursor)
        (request,) = tick.run_requests
        keys.append(request.run_key)
        assert not warehouse.family("decomposition", assets=FAMILY_ASSETS[:1], tags=request.tags, resources=broken).success
        cursor = tick.cursor
    assert len(set(keys)) == 3
    assert _tick(warehouse, monkeypatch, cursor).run_requests == []
    warehouse.drop_file("decomposition", "x.jsonl", seed=2)
    assert len(_tick(warehouse, monkeypatch, cursor).run_requests) == 1


def test_code_versions_hash_the_sources_that_make_the_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    versions = {a.key.path[-1]: a.code_versions_by_key[a.key] for a in ALL_ASSETS}
    assert len(set(versions.values())) == len(versions) and "1" not in versions.values()
    package = tmp_path / "stage_probe"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "logic.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    before = code_version(["stage_probe"])
    (package / "logic.py").write_text("X = 2\n")
    assert code_version(["stage_probe"]) != before


def test_an_unwritable_warehouse_fails_at_once_with_the_path_and_the_os_error(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    (tmp_path / "not_a_dir").write_text("a file where the warehouse folder should be")
    start = time.perf_counter()
    result = warehouse.family("scheduling", assets=FAMILY_ASSETS[:1],
                              resources=warehouse.resources_for(tmp_path / "not_a_dir" / "w.duckdb"))
    assert not result.success and time.perf_counter() - start < 30  # was ~100 s a try, 4 tries
    message = _failure(result)
    assert f"cannot create the folder {tmp_path / 'not_a_dir'} (File exists)" in message
    assert [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"] == []


def test_another_writer_is_waited_for_not_failed(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('held', flush=True); time.sleep(4)", str(warehouse.db)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"held"
        result = warehouse.family("scheduling", assets=FAMILY_ASSETS[:1])
    finally:
        holder.wait(timeout=30)
    assert result.success, _failure(result)
    assert warehouse.count("raw_tasks", "scheduling") == 14
