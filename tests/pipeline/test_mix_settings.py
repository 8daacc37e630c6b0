"""The mix controls from planfusion.yaml reach the runs: fusion shares, the outlier guard with its reasons
in lineage, quality weights recorded per pick, and the selection report in the metadata."""

from __future__ import annotations

import json
from collections import Counter

import duckdb
import pytest

from planfusion.lineage import render, task_lineage
from planfusion.tasks import FAMILIES
from tests.pipeline.harness import Warehouse, failure

MIX = {"generation": {"n": 16, "negatives_every": 0}, "density": {"k": 3},
       "selection": {"budget": 8, "exclude_sparsest": 0.2, "quality_weighting": True},
       "fusion": {"budget": 12, "k": 3, "shares": "equal", "exclude_sparsest": 0.1}}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, dict]:
    warehouse = Warehouse(tmp_path_factory.mktemp("mix"), settings=MIX)
    results = {family: warehouse.family(family) for family in FAMILIES}
    assert all(r.success for r in results.values()), [failure(r) for r in results.values()]
    results["fusion"] = warehouse.fusion()
    assert results["fusion"].success, failure(results["fusion"])
    return warehouse, results


def _metadata(result, asset: str) -> dict:
    event = next(e for e in result.get_asset_materialization_events() if e.asset_key.path[-1] == asset)
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_fusion_shares_follow_the_setting(mixed) -> None:
    warehouse, _ = mixed
    counts = Counter(f for (f,) in warehouse.rows("SELECT family FROM fused_training_set"))
    assert counts == {family: 4 for family in FAMILIES}


def test_the_outlier_guard_excludes_the_sparsest_and_lineage_says_why(mixed) -> None:
    warehouse, _ = mixed
    for family in FAMILIES:
        excluded = warehouse.rows("SELECT task_id, sigma, reason FROM selection_exclusions WHERE family = ?", [family])
        assert len(excluded) == 3  # floor(0.2 * 16)
        lowest = warehouse.rows("SELECT max(sigma) FROM selection_exclusions WHERE family = ?", [family])[0][0]
        kept_min = warehouse.rows("""SELECT min(d.sigma) FROM density_factors d WHERE d.family = ? AND d.task_id NOT IN
                                     (SELECT task_id FROM selection_exclusions WHERE family = ?)""", [family, family])[0][0]
        assert lowest <= kept_min
        picked = {t for (t,) in warehouse.rows("SELECT task_id FROM family_selection WHERE family = ?", [family])}
        assert not picked & {t for t, _, _ in excluded}
    task_id, _, reason = warehouse.rows("SELECT task_id, sigma, reason FROM selection_exclusions LIMIT 1")[0]
    assert "outlier guard" in reason
    with duckdb.connect(str(warehouse.db), read_only=True) as con:
        (chain,) = task_lineage(con, task_id)
    assert f"family selection: excluded: {reason}" in render(chain)
    assert warehouse.rows("SELECT count(*) FROM fusion_exclusions")[0][0] == 2  # floor(0.1 * 24)


def test_quality_weights_are_recorded_with_each_pick(mixed) -> None:
    warehouse, _ = mixed
    rows = warehouse.rows("SELECT quality_weight, novelty, weighted_novelty FROM family_selection")
    assert rows and all(0 < w <= 1 and abs(w * v - wv) < 1e-9 for w, v, wv in rows)
    (params,) = warehouse.rows("SELECT DISTINCT params FROM family_selection WHERE family = 'scheduling'")[0]
    assert json.loads(params)["quality_weighting"] is True


def test_every_selection_carries_its_report(mixed) -> None:
    _, results = mixed
    for name, asset in [*((f, "family_selection") for f in FAMILIES), ("fusion", "fused_training_set")]:
        md = _metadata(results[name], asset)
        assert "data:image/png;base64," in md["report"] and "random" in md["report"]
        assert md["report/vendi"] > 0 and "report/vendi_random_mean" in md
