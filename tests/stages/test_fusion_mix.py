"""Control over the mix (#13) at the stage level: family shares and floors in the fusion, the outlier
guard, quality weights, their settings, and today's fusion when they are off."""

import duckdb
import numpy as np
import pytest

from planfusion import tables, warehouse
from planfusion.novelsum import embedding_density
from planfusion.novelsum.synthetic import clustered_embeddings
from planfusion.stages.fusion import fuse
from planfusion.stages.mix import apportion, family_mix, outlier_guard, quality_weights
from planfusion.stages.selection import SelectionParams, first_picks_are_argmax, select

N = 600
FAMILIES = ["decomposition"] * 330 + ["scheduling"] * 180 + ["tool_execution"] * 90
IDS = [f"t{i:04d}" for i in range(N)]


@pytest.fixture(scope="module")
def union() -> np.ndarray:
    return clustered_embeddings(N, 32, n_clusters=12, random_state=0)


def counts(rows) -> dict[str, int]:
    found: dict[str, int] = {}
    for row in rows:
        found[row["family"]] = found.get(row["family"], 0) + 1
    return dict(sorted(found.items()))


def test_defaults_are_todays_fusion(union):
    params = SelectionParams(budget=60)
    rows, report = fuse(IDS, FAMILIES, union, params)
    plain = select(union, params, embedding_density(union, params.k))
    assert [r["task_id"] for r in rows] == [IDS[i] for i in plain.order]
    assert [r["novelty"] for r in rows] == plain.scores.tolist() == [r["weighted_novelty"] for r in rows]
    assert report["quotas"] is None and report["floors"] is None and report["excluded"] == []
    assert report["shares"] == "free" and not report["quality_weighted"] and report["exactness_problems"] == []


@pytest.mark.parametrize("shares, expected", [
    ("pool", {"decomposition": 33, "scheduling": 18, "tool_execution": 9}),
    ("equal", {"decomposition": 20, "scheduling": 20, "tool_execution": 20}),
    ({"decomposition": 1, "scheduling": 1, "tool_execution": 2}, {"decomposition": 15, "scheduling": 15,
                                                                   "tool_execution": 30}),
    ({"decomposition": 0, "scheduling": 1, "tool_execution": 1}, {"scheduling": 30, "tool_execution": 30}),
])
def test_share_modes_give_their_counts(union, shares, expected):
    rows, report = fuse(IDS, FAMILIES, union, SelectionParams(budget=60), shares=shares)
    assert counts(rows) == expected == {f: q for f, q in report["quotas"].items() if q}
    assert report["exactness_problems"] == []


def test_floors_in_free_mode_raise_a_family_to_its_floor(union):
    free, _ = fuse(IDS, FAMILIES, union, SelectionParams(budget=60))
    shy = min(counts(free), key=counts(free).get)
    floor = counts(free)[shy] + 10
    rows, report = fuse(IDS, FAMILIES, union, SelectionParams(budget=60), floors={shy: floor})
    assert counts(rows)[shy] == floor and report["floors"][shy] == floor
    assert [r["task_id"] for r in rows[: 60 - floor]] == [r["task_id"] for r in free[: 60 - floor]]
    assert report["exactness_problems"] == []


def test_floors_bound_the_apportioned_counts(union):
    rows, report = fuse(IDS, FAMILIES, union, SelectionParams(budget=60), shares="pool", floors={"tool_execution": 20})
    assert report["quotas"]["tool_execution"] == 20 == counts(rows)["tool_execution"]
    assert sum(report["quotas"].values()) == 60


def test_outlier_guard_excludes_the_sparsest_with_a_reason(union):
    rows, report = fuse(IDS, FAMILIES, union, SelectionParams(budget=60), exclude_sparsest=0.05)
    sigma = embedding_density(union, 10).sigma
    excluded = {r["task_id"] for r in report["excluded"]}
    assert excluded == {IDS[i] for i in np.argsort(sigma, kind="stable")[:30]}
    assert not excluded & {r["task_id"] for r in rows}
    assert report["excluded"][0]["reason"].startswith("outlier guard: sigma in the sparsest 5% of the pool (30 of 600")
    assert report["exactness_problems"] == []


def test_budget_is_capped_at_the_selectable_tasks(union):
    params = SelectionParams(budget=100)
    assert params.for_pool(100, 95).budget == 95
    assert params.for_pool(100).budget == params.for_pool(300, 200).budget == 100
    rows, report = fuse(IDS, FAMILIES, union, SelectionParams(budget=N), shares="pool", exclude_sparsest=0.1)
    assert len(rows) == report["budget"] == N - 60 == sum(report["quotas"].values())


def test_quality_weights_steer_the_fusion(union):
    weights = np.where(np.arange(N) % 2 == 0, 1.0, 0.5)
    rows, report = fuse(IDS, FAMILIES, union, SelectionParams(budget=60), weights=weights)
    picked = [int(r["task_id"][1:]) for r in rows]
    assert np.mean(weights[picked]) > 0.8
    assert all(r["weighted_novelty"] == pytest.approx(r["novelty"] * r["quality_weight"]) for r in rows)
    assert report["quality_weighted"] and report["mean_quality_weight"]["pool"]["scheduling"] == 0.75
    assert report["exactness_problems"] == []


def test_exactness_check_sees_the_constraints(union):
    params = SelectionParams(budget=20)
    exclude = np.zeros(N, dtype=bool)
    exclude[::3] = True
    s = select(union, params, exclude=exclude)
    sigma = s.sigma
    assert first_picks_are_argmax(union, sigma, s.order, params, exclude=exclude) == []
    assert first_picks_are_argmax(union, sigma, s.order, params) != []  # without them: not the plain arg-max
    bad = [int(np.flatnonzero(exclude)[0])] + s.order[1:].tolist()
    assert "not eligible" in first_picks_are_argmax(union, sigma, bad, params, exclude=exclude)[0]


def test_apportion_largest_remainder_within_bounds():
    big = {"a": 1000, "b": 1000, "c": 1000}
    assert apportion(10, {"a": 1, "b": 1, "c": 1}, {}, big) == {"a": 4, "b": 3, "c": 3}  # ties: name order
    assert apportion(100, {"a": 0.5, "b": 0.3, "c": 0.2}, {}, {"a": 10, "b": 1000, "c": 1000}) == {
        "a": 10, "b": 54, "c": 36}  # a is full: b and c share the rest 3:2
    assert apportion(10, {"a": 1, "b": 0, "c": 1}, {"b": 2}, big) == {"a": 4, "b": 2, "c": 4}
    with pytest.raises(ValueError, match="at most 20 picks, fewer than the budget 30"):
        apportion(30, {"a": 1, "b": 1, "c": 0}, {}, {"a": 10, "b": 10, "c": 100})
    with pytest.raises(ValueError, match="floors add up to 12"):
        apportion(10, {"a": 1, "b": 1}, {"a": 6, "b": 6}, big)
    with pytest.raises(ValueError, match="positive total"):
        apportion(10, {"a": 0, "b": 0}, {}, big)


def test_family_mix_checks():
    with pytest.raises(ValueError, match="no share for tool_execution"):
        family_mix(FAMILIES, 60, {"decomposition": 1, "scheduling": 1})
    with pytest.raises(ValueError, match="unknown shares mode 'fair'"):
        family_mix(FAMILIES, 60, "fair")
    with pytest.raises(ValueError, match="floors add up to 70 picks, more than the budget 60"):
        family_mix(FAMILIES, 60, "free", {"decomposition": 40, "scheduling": 30})
    small = family_mix(FAMILIES, 100, "free", {"tool_execution": 500})  # capped at what the family has
    assert small.floors.tolist() == [0, 0, 90] and small.quotas is None
    assert family_mix(FAMILIES, 60).constraints() == {}
    absent_ignored = {"decomposition": 1, "scheduling": 1, "tool_execution": 1, "other": 5}
    assert family_mix(FAMILIES, 60, absent_ignored).quotas.tolist() == [20, 20, 20]


def test_outlier_guard_counts_and_checks():
    sigma = np.array([3.0, 1.0, 2.0, 1.0, 5.0, 4.0, 6.0, 7.0, 8.0, 9.0])
    guard = outlier_guard(sigma, 0.2)
    assert np.flatnonzero(guard.mask).tolist() == [1, 3] and guard.threshold == 1.0
    assert outlier_guard(sigma, 0.0).mask.sum() == 0 and outlier_guard(sigma, 0.29).mask.sum() == 2
    with pytest.raises(ValueError, match=r"exclude_sparsest must be a share in \[0, 0.5\)"):
        outlier_guard(sigma, 0.5)


def test_quality_weights_from_signals_and_records():
    signals = [
        {"verified": True, "tags": ["reflection"], "level": 3},
        {"verified": False, "tags": [], "level": 1},
        {"verified": True, "tags": ["unverified"], "level": None},
        {"quality": {"has_reflection": True}, "difficulty": {"level": 2}},  # a record
    ]
    np.testing.assert_allclose(quality_weights(signals), [1.0, 0.5 * 0.9 * 0.8, 0.5 * 0.9, 0.9])
    np.testing.assert_allclose(quality_weights(signals, unverified=1.0, without_reflection=1.0, levels={}), 1.0)
    with pytest.raises(ValueError, match=r"quality factor unverified must be in \(0, 1\]"):
        quality_weights(signals, unverified=0.0)


def test_quality_signals_from_the_warehouse():
    con = duckdb.connect()
    warehouse.ensure_schema(con)
    record = lambda level: {"difficulty": {"level": level}}  # noqa: E731
    warehouse.replace_rows(con, "raw_tasks", [{"family": "scheduling", "task_id": "a", "record": record(2)},
                                              {"family": "scheduling", "task_id": "b", "record": {}}],
                           family="scheduling")
    warehouse.replace_rows(con, "curated_tasks", [
        {"family": "scheduling", "task_id": "a", "kept": True, "verified": True, "tags": ["reflection"]},
        {"family": "scheduling", "task_id": "b", "kept": True, "verified": False, "tags": ["unverified"]}],
        family="scheduling")
    signals = tables.quality_signals(con, [("scheduling", "b"), ("scheduling", "a")])
    assert signals == [{"verified": False, "tags": ["unverified"], "level": None},
                       {"verified": True, "tags": ["reflection"], "level": 2}]
    np.testing.assert_allclose(quality_weights(signals), [0.5 * 0.9, 0.9])
    with pytest.raises(ValueError, match="no curated row for 1 tasks"):
        tables.quality_signals(con, [("scheduling", "zz")])
