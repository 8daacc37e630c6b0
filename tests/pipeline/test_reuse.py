"""A stage whose inputs are unchanged keeps its rows (#14), and never serves stale ones: a changed setting,
an added, changed or removed inbox file, or rows changed behind the stage's back make it run again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
import yaml

from assets import FAMILY_ASSETS
from tests.pipeline.harness import SETTINGS, Warehouse, failure

FAMILY = "scheduling"
STAGES = [a.key.path[-1] for a in FAMILY_ASSETS]


def materializations(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    return {e.asset_key.path[-1]: {k: v.value for k, v in e.materialization.metadata.items()}
            for e in result.get_asset_materialization_events()}


def data_versions(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    return {e.asset_key.path[-1]: e.materialization.tags["dagster/data_version"]
            for e in result.get_asset_materialization_events()}


def reused(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {stage: meta["reused"] for stage, meta in materializations(result).items()}


def run(house: Warehouse) -> dg.ExecuteInProcessResult:
    result = house.family(FAMILY)
    assert result.success, failure(result)
    return result


def set_settings(house: Warehouse, **sections: dict[str, Any]) -> None:
    settings = {k: dict(v) for k, v in SETTINGS.items()}
    for section, values in sections.items():
        settings.setdefault(section, {}).update(values)
    house.settings_file.write_text(yaml.safe_dump(settings))


@pytest.fixture(scope="module")
def house(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    house = Warehouse(tmp_path_factory.mktemp("reuse"))
    run(house)
    return house


def test_a_rerun_with_nothing_new_keeps_every_stage_and_says_so(house: Warehouse) -> None:
    first_run_ids = house.rows("SELECT DISTINCT run_id FROM curated_tasks WHERE family = ?", [FAMILY])
    before = house.rows("SELECT task_id, pick_step, novelty FROM family_selection ORDER BY ALL")
    again = run(house)
    assert reused(again) == dict.fromkeys(STAGES, True)
    meta = materializations(again)
    assert meta["task_embeddings"]["embedded_now"] == 0
    assert meta["raw_tasks"]["rows_of_run"] == first_run_ids[0][0]
    assert meta["curated_tasks"]["dagster/partition_row_count"] == house.count("curated_tasks", FAMILY)
    assert "report" in meta["family_selection"]  # the selection's report card is shown again
    assert house.rows("SELECT DISTINCT run_id FROM curated_tasks WHERE family = ?", [FAMILY]) == first_run_ids
    assert house.rows("SELECT task_id, pick_step, novelty FROM family_selection ORDER BY ALL") == before
    checks = {e.asset_check_key.name: e for e in again.get_asset_check_evaluations()}
    assert set(checks) == {"task_ids_unique", "kept_tasks_verified", "selection_is_exact"}
    assert all(c.passed and c.metadata["reused"].value for c in checks.values())
    assert data_versions(run(house)) == data_versions(again)


def test_a_changed_seed_regenerates_and_what_follows_runs_again(house: Warehouse) -> None:
    before = set(house.rows("SELECT task_id FROM raw_tasks WHERE family = ?", [FAMILY]))
    set_settings(house, generation={"seed": 7})
    try:
        changed = run(house)
        assert reused(changed) == dict.fromkeys(STAGES, False)
        after = set(house.rows("SELECT task_id FROM raw_tasks WHERE family = ?", [FAMILY]))
        assert after.isdisjoint(before)
        assert house.rows("SELECT DISTINCT json_extract(params, '$.seed') FROM raw_tasks WHERE family = ?",
                          [FAMILY]) == [("7",)]
    finally:
        set_settings(house)
    assert reused(run(house))["raw_tasks"] is False  # back to seed 0: regenerated, never the seed-7 rows
    assert set(house.rows("SELECT task_id FROM raw_tasks WHERE family = ?", [FAMILY])) == before


def test_a_changed_curation_setting_reruns_curation_and_keeps_the_raw_rows(house: Warehouse) -> None:
    run(house)
    set_settings(house, curation={"allow_unverified": True})
    try:
        changed = reused(run(house))
        assert changed["raw_tasks"] is True and changed["curated_tasks"] is False
        assert house.rows("SELECT DISTINCT json_extract(params, '$.allow_unverified') FROM curated_tasks "
                          "WHERE family = ?", [FAMILY]) == [("true",)]
    finally:
        set_settings(house)


def test_inbox_files_added_changed_and_removed_are_never_served_stale(house: Warehouse) -> None:
    run(house)
    ids = house.drop_file(FAMILY, "extra.jsonl", seed=4242)
    added = run(house)
    assert reused(added)["raw_tasks"] is False
    assert materializations(added)["task_embeddings"]["embedded_now"] == len(ids)
    present = lambda: {r[0] for r in house.rows("SELECT task_id FROM raw_tasks WHERE family = ?", [FAMILY])}
    assert set(ids) <= present()
    changed = house.drop_file(FAMILY, "extra.jsonl", seed=5151, n=2)  # same name, other content
    assert reused(run(house))["raw_tasks"] is False
    assert set(changed) <= present() and not set(ids) & present()
    (house.inbox / FAMILY / "extra.jsonl").unlink()
    removed = run(house)
    assert reused(removed)["raw_tasks"] is False
    assert not set(changed) & present()
    for table in ("curated_tasks", "task_embeddings", "density_factors"):
        assert not house.rows(f"SELECT task_id FROM {table} WHERE task_id IN (SELECT unnest(?::VARCHAR[]))",
                              [changed]), table


def test_rows_changed_behind_a_stage_are_rebuilt_not_trusted(house: Warehouse) -> None:
    run(house)
    with duckdb.connect(str(house.db)) as con:
        con.execute("""DELETE FROM curated_tasks WHERE family = ?1
                       AND task_id = (SELECT min(task_id) FROM curated_tasks WHERE family = ?1)""", [FAMILY])
    again = reused(run(house))
    assert again["raw_tasks"] is True and again["curated_tasks"] is False
    assert house.count("curated_tasks", FAMILY) == house.count("raw_tasks", FAMILY)


def test_another_code_version_runs_the_stage(house: Warehouse) -> None:
    run(house)
    with duckdb.connect(str(house.db)) as con:  # as if the rows were made by other code
        con.execute("UPDATE stage_inputs SET fingerprint = 'older code' WHERE stage = 'density_factors'")
    again = reused(run(house))
    assert again["task_embeddings"] is True and again["density_factors"] is False
    assert again["family_selection"] is True  # same density factors out, so the selection's inputs hold


def test_a_stage_that_fails_before_writing_leaves_no_fingerprint(tmp_path: Path) -> None:
    house = Warehouse(tmp_path)
    run(house)
    set_settings(house, density={"k": 500})  # more than the family has: fails before any write
    result = house.family(FAMILY)
    assert not result.success and "density.k=500" in failure(result)
    assert house.rows("SELECT count(*) FROM stage_inputs WHERE stage = 'density_factors'") == [(0,)]
    set_settings(house)
    assert reused(run(house))["density_factors"] is False


def test_the_fusion_keeps_its_rows_until_a_family_or_its_files_change(tmp_path: Path) -> None:
    house = Warehouse(tmp_path)
    for family in ("decomposition", FAMILY, "tool_execution"):
        assert house.family(family).success
    first = house.fusion()
    assert first.success, failure(first)
    assert reused(house.fusion()) == {"fused_training_set": True}
    (tmp_path / "exports" / "fused_training_set.jsonl").unlink()
    assert reused(house.fusion()) == {"fused_training_set": False}
    assert (tmp_path / "exports" / "fused_training_set.jsonl").is_file()
    set_settings(house, selection={"budget": 4})
    run(house)
    assert reused(house.fusion()) == {"fused_training_set": False}
