"""In-process materialization of every family partition and the fusion, on small sizes, against a real
DuckDB file and the real embedding model: lineage columns, checks, bad inbox lines, reruns."""

import json
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from assets import FAMILY_ASSETS, fused_training_set
from assets.resources import EmbeddingModel, PipelinePaths
from assets.settings import PipelineSettingsResource
from planfusion.lineage import task_lineage
from planfusion.tasks import FAMILIES, get_family
from planfusion.tasks.record import canonical_json

N = 24
BUDGET = 8
FAMILY_CONFIG = {"ops": {"raw_tasks": {"config": {"n": N, "negatives_every": 6}},
                         "family_selection": {"config": {"budget": BUDGET}}}}
FUSION_CONFIG = {"ops": {"fused_training_set": {"config": {"budget": 12}}}}


def _inbox_file(inbox: Path) -> tuple[Path, list[str]]:
    """Three good scheduling records (another seed), a broken line, a record without ground truth."""
    family = get_family("scheduling")
    good = list(family.generate(3, seed=4242))
    no_truth = dict(next(family.generate(1, seed=5151)))
    del no_truth["ground_truth"]
    path = inbox / "scheduling" / "from_user.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join([canonical_json(good[0]), "{not json", canonical_json(good[1]),
                               canonical_json(no_truth), canonical_json(good[2])]) + "\n")
    return path, [r["id"] for r in good] + [no_truth["id"]]


class Pipeline:
    def __init__(self, root: Path) -> None:
        self.db = root / "warehouse" / "planfusion.duckdb"  # folder does not exist yet: the assets create it
        self.instance = dg.DagsterInstance.ephemeral()
        self.resources = {"duckdb": DuckDBResource(database=str(self.db)),
                          "paths": PipelinePaths(inbox=str(root / "inbox"), exports=str(root / "exports")),
                          "embedding_model": EmbeddingModel(),
                          "settings": PipelineSettingsResource(config_file=str(root / "planfusion.yaml"))}

    def family(self, family: str, run_config: dict[str, Any] = FAMILY_CONFIG) -> dg.ExecuteInProcessResult:
        return dg.materialize(FAMILY_ASSETS, partition_key=family, resources=self.resources,
                              instance=self.instance, run_config=run_config)

    def fusion(self) -> dg.ExecuteInProcessResult:
        return dg.materialize([fused_training_set], resources=self.resources, instance=self.instance,
                              run_config=FUSION_CONFIG)

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        with duckdb.connect(str(self.db), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, Any]:
    event = next(e for e in result.get_asset_materialization_events() if e.asset_key.path[-1] == asset)
    return {k: v.value for k, v in event.materialization.metadata.items()}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    root = tmp_path_factory.mktemp("pipeline")
    pipeline = Pipeline(root)
    pipeline.inbox_path, pipeline.inbox_ids = _inbox_file(root / "inbox")
    pipeline.first = {family: pipeline.family(family) for family in FAMILIES}
    pipeline.fused = pipeline.fusion()
    return pipeline


def test_every_partition_and_the_fusion_succeed_with_checks_passing(pipeline: Pipeline) -> None:
    for result in [*pipeline.first.values(), pipeline.fused]:
        assert result.success
        evaluations = result.get_asset_check_evaluations()
        assert evaluations and all(e.passed for e in evaluations), [(e.check_name, e.metadata) for e in evaluations]
    names = {e.check_name for r in pipeline.first.values() for e in r.get_asset_check_evaluations()}
    assert names == {"task_ids_unique", "kept_tasks_verified", "selection_is_exact"}
    assert [e.check_name for e in pipeline.fused.get_asset_check_evaluations()] == ["covers_every_family"]


def test_rows_carry_their_source_and_provenance(pipeline: Pipeline) -> None:
    counts = dict(pipeline.rows("SELECT family, count(*) FROM family_selection GROUP BY family"))
    assert counts == {family: BUDGET for family in FAMILIES}
    generated = pipeline.rows("""SELECT count(*), count(DISTINCT run_id), min(master_seed), max(sample_index)
                                 FROM raw_tasks WHERE family = 'decomposition' AND perturbation IS NULL""")
    assert generated == [(N, 1, 0, N - 1)]
    negatives = pipeline.rows("""SELECT c.kept, r.parent_id IS NOT NULL FROM raw_tasks r JOIN curated_tasks c
                                 USING (family, task_id) WHERE r.perturbation IS NOT NULL""")
    assert len(negatives) == 3 * (N // 6) and not any(kept for kept, _ in negatives) and all(p for _, p in negatives)
    files = pipeline.rows("SELECT task_id, file_path, line_number, file_sha256 FROM raw_tasks WHERE source = 'file'")
    assert sorted((t, line) for t, _, line, _ in files) == sorted(zip(pipeline.inbox_ids, [1, 3, 5, 4]))
    assert {Path(p) for _, p, _, _ in files} == {pipeline.inbox_path}
    run_ids = {table: {r[0] for r in pipeline.rows(f"SELECT DISTINCT run_id FROM {table}")}
               for table in ("raw_tasks", "curated_tasks", "task_embeddings", "density_factors", "family_selection")}
    assert all(ids == {r.run_id for r in pipeline.first.values()} for ids in run_ids.values()), run_ids
    (params,) = pipeline.rows("SELECT DISTINCT params FROM family_selection WHERE family = 'scheduling'")[0]
    assert json.loads(params)["budget"] == BUDGET


def test_bad_lines_and_missing_ground_truth_are_rejected_with_a_reason(pipeline: Pipeline) -> None:
    rejected = pipeline.rows("SELECT file_path, line_number, reason FROM ingest_rejections")
    assert [(Path(f), line) for f, line, _ in rejected] == [(pipeline.inbox_path, 2)]
    assert "JSON" in rejected[0][2] or "json" in rejected[0][2]
    verdict = pipeline.rows("SELECT kept, reason, verified FROM curated_tasks WHERE task_id = ?",
                            [pipeline.inbox_ids[3]])
    assert verdict == [(False, "no_ground_truth", False)]
    assert metadata(pipeline.first["scheduling"], "raw_tasks")["rejected_lines"] == 1


def test_allowing_unverified_admits_records_without_ground_truth_tagged(pipeline: Pipeline) -> None:
    db = pipeline.db.with_name("unverified.duckdb")
    other = Pipeline(pipeline.db.parents[1])
    other.db = db
    other.resources["duckdb"] = DuckDBResource(database=str(db))
    config = {"ops": {**FAMILY_CONFIG["ops"], "curated_tasks": {"config": {"allow_unverified": True}}}}
    assert other.family("scheduling", config).success
    kept, reason, verified, tags = other.rows(
        "SELECT kept, reason, verified, tags FROM curated_tasks WHERE task_id = ?", [pipeline.inbox_ids[3]])[0]
    assert (kept, verified) == (True, False) and "unverified" in tags, reason


def test_fusion_covers_every_family_and_beats_random(pipeline: Pipeline) -> None:
    md = metadata(pipeline.fused, "fused_training_set")
    assert set(md["family_counts"]) == set(FAMILIES) and sum(md["family_counts"].values()) == 12
    assert md["novelsum_fused"] > md["novelsum_random_same_size"]
    exported = [json.loads(line) for line in Path(md["jsonl"]).read_text().splitlines()]
    assert len(exported) == 12 and all(example["messages"] for example in exported)
    assert md["exported"] == 12 and pipeline.rows("SELECT DISTINCT exported FROM fused_training_set") == [(True,)]
    tool_examples = [e for e in exported if e["family"] == "tool_execution"]
    assert tool_examples and all(json.loads(e["tools"]) for e in tool_examples)
    assert Path(md["parquet"]).stat().st_size > 0


def test_lineage_of_a_chosen_file_task(pipeline: Pipeline) -> None:
    chosen = {r[0] for r in pipeline.rows("SELECT task_id FROM family_selection")}
    task_id = next((t for t in pipeline.inbox_ids[:3] if t in chosen), None) or sorted(chosen)[0]
    with duckdb.connect(str(pipeline.db), read_only=True) as con:
        (chain,) = task_lineage(con, task_id)
    assert chain["curation"]["kept"] and chain["embedding"]["model_revision"]
    assert len(chain["density"]["neighbours"]) == chain["density"]["k"]
    pick = chain["family_selection"]
    assert pick["step"] >= 1 and len(pick["top_contributors"]) == min(3, pick["step"] - 1)
    if chain["source"]["source"] == "file":
        assert chain["source"]["line_number"] in (1, 3, 5)


def test_rerun_with_nothing_new_embeds_nothing_and_selects_the_same(pipeline: Pipeline) -> None:
    before = pipeline.rows("SELECT family, task_id, pick_step, novelty FROM family_selection ORDER BY ALL")
    raw_before = pipeline.rows("SELECT count(*) FROM raw_tasks")
    again = pipeline.family("tool_execution")
    assert again.success
    assert metadata(again, "task_embeddings")["embedded_now"] == 0
    assert pipeline.rows("SELECT family, task_id, pick_step, novelty FROM family_selection ORDER BY ALL") == before
    assert pipeline.rows("SELECT count(*) FROM raw_tasks") == raw_before
    assert pipeline.rows("SELECT count(DISTINCT run_id) FROM raw_tasks WHERE family = 'tool_execution'") == [(1,)]


def test_lineage_command_prints_the_chain_and_names_unknown_ids(pipeline: Pipeline, capsys: pytest.CaptureFixture) -> None:
    from planfusion.cli import main

    (fused_id, step), = pipeline.rows("SELECT task_id, fusion_step FROM fused_training_set WHERE fusion_step = 2")
    assert main(["lineage", fused_id, "--db", str(pipeline.db)]) == 0
    text = capsys.readouterr().out
    assert text.startswith(fused_id) and "source: " in text and "curation: kept" in text
    assert f"fusion: step {step} " in text and "sigma" in text

    assert main(["lineage", fused_id, "no-such-task", "--json", "--db", str(pipeline.db)]) == 1
    out, err = capsys.readouterr()
    assert [chain["task_id"] for chain in json.loads(out)] == [fused_id]
    assert "no task 'no-such-task'" in err


def test_every_chosen_sample_is_in_a_lineage_table(pipeline: Pipeline) -> None:
    table = metadata(pipeline.fused, "fused_training_set")["chosen_samples"]
    assert len(table.records) == 12
    first = table.records[0].data
    assert first["fusion_step"] == 1 and first["family_step"] >= 1 and first["source"] and first["verdict"].startswith("kept")
    family = metadata(pipeline.first["scheduling"], "family_selection")["chosen_samples"]
    assert len(family.records) == BUDGET and all(r.data["family"] == "scheduling" for r in family.records)
    assert "(" in family.records[1].data["contributors"]  # contributor ids with their terms


def test_the_lineage_job_explains_ids_from_the_launchpad(pipeline: Pipeline) -> None:
    from assets.lineage_job import task_lineage_job

    (fused_id,), = pipeline.rows("SELECT task_id FROM fused_training_set WHERE fusion_step = 3")
    result = task_lineage_job.execute_in_process(
        run_config={"ops": {"explain_tasks": {"config": {"task_ids": [fused_id, "no-such-task"]}}}},
        resources={"duckdb": pipeline.resources["duckdb"]}, instance=pipeline.instance)
    assert result.success
    (event,) = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    chain = event.event_specific_data.metadata[fused_id].value
    assert "fusion: step 3" in chain and "source:" in chain and "curation: kept" in chain
