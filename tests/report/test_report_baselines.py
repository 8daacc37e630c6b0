"""The baselines are what they claim: k-center and facility location equal a float64 brute-force
greedy, random is seeded, and the report's random row is the mean and sd over its seeds."""

import numpy as np
import pytest

from planfusion.novelsum import embedding_density
from planfusion.novelsum.synthetic import clustered_embeddings
from planfusion.report import baselines, metrics
from planfusion.report.compare import selection_report
from planfusion.report.geometry import pool_geometry


def k_center_scores(x: np.ndarray, chosen: list[int]) -> np.ndarray:
    """float64 brute force: each item's distance to its nearest chosen item (chosen: -inf)."""
    nearest = np.clip(1 - x @ x[chosen].T, 0, 2).min(axis=1)
    nearest[chosen] = -np.inf
    return nearest


def facility_location_scores(x: np.ndarray, chosen: list[int]) -> np.ndarray:
    """float64 brute force: each item's gain sum_x max(sim(x, c) - max_{s in chosen} sim(x, s), 0)."""
    sim = np.maximum(x @ x.T, 0)
    best = sim[:, chosen].max(axis=1) if chosen else np.zeros(len(x))
    gains = np.maximum(sim - best, 0).sum(axis=1)
    gains[chosen] = -np.inf
    return gains


def brute_greedy(x: np.ndarray, budget: int, scores, first: int | None = None) -> list[int]:
    order = [] if first is None else [first]
    while len(order) < budget:
        order.append(int(np.argmax(scores(x, order))))
    return order


def teacher_forced_problems(x: np.ndarray, order: np.ndarray, scores, start: int) -> list[str]:
    """Steps whose pick scores below that step's brute-force maximum (1e-6 relative, as for NovelSelect)."""
    problems = []
    for step in range(start, len(order)):
        s = scores(x, order[:step].tolist())
        if s[order[step]] < s.max() - 1e-6 * abs(s.max()):
            problems.append(f"step {step}: {s[order[step]]} < {s.max()}")
    return problems


def gaussian(seed: int) -> np.ndarray:
    """Unit vectors without near ties, so greedy orders can be compared pick for pick."""
    x = np.random.default_rng(seed).standard_normal((70, 12))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("seed", range(3))
def test_k_center_is_farthest_point_greedy(seed):
    x = gaussian(seed)
    order = baselines.k_center_greedy(x, 25, first=seed * 7)
    assert order.tolist() == brute_greedy(x.astype(np.float64), 25, k_center_scores, first=seed * 7)
    clustered = clustered_embeddings(70, 12, n_clusters=6, random_state=seed)
    order = baselines.k_center_greedy(clustered, 30, first=0)
    assert teacher_forced_problems(clustered.astype(np.float64), order, k_center_scores, 1) == []


@pytest.mark.parametrize("seed", range(3))
def test_facility_location_is_exact_greedy(seed):
    # Teacher-forced, as for NovelSelect: gains tie structurally (two uncovered items that are each
    # other's best improvement gain the same), so float rounding may break a tie the other way.
    for x in (gaussian(seed), clustered_embeddings(70, 12, n_clusters=6, random_state=seed)):
        order = baselines.facility_location_greedy(x, 30, first_gains=pool_geometry(x).similarity_sums)
        assert teacher_forced_problems(x.astype(np.float64), order, facility_location_scores, 0) == []
        assert len(set(order.tolist())) == 30


def test_facility_location_first_picks_match_brute_force():
    x = gaussian(4)
    order = baselines.facility_location_greedy(x, 10, first_gains=pool_geometry(x).similarity_sums)
    assert order.tolist() == brute_greedy(x.astype(np.float64), 10, facility_location_scores)


def test_facility_location_stays_exact_when_the_row_cache_is_tiny(monkeypatch):
    x = gaussian(5)
    monkeypatch.setattr(baselines, "CACHE_BYTES", 3 * 4 * 70)  # three similarity rows
    order = baselines.facility_location_greedy(x, 30, first_gains=pool_geometry(x).similarity_sums)
    assert teacher_forced_problems(x.astype(np.float64), order, facility_location_scores, 0) == []


def test_greedy_baselines_can_take_the_whole_pool():
    x = np.vstack([gaussian(6)[:15]] * 2)  # duplicates: the last picks gain nothing, as picked items would
    assert sorted(baselines.k_center_greedy(x, 30, first=3).tolist()) == list(range(30))
    order = baselines.facility_location_greedy(x, 30, first_gains=pool_geometry(x, isolation_neighbours=5).similarity_sums)
    assert sorted(order.tolist()) == list(range(30))


def test_random_orders_are_seeded_permutation_prefixes():
    orders = baselines.random_orders(50, 10, 5, random_state=3)
    assert orders.shape == (5, 10)
    assert all(len(set(row)) == 10 and row.min() >= 0 and row.max() < 50 for row in orders)
    assert len({tuple(row) for row in orders}) == 5
    assert (baselines.random_orders(50, 10, 5, random_state=3) == orders).all()


def test_report_random_row_is_mean_and_sd_over_seeds():
    x = clustered_embeddings(120, 16, random_state=2)
    sigma = embedding_density(x, 10).sigma
    report = selection_report(x, sigma, np.arange(20), n_seeds=6, random_state=9, budgets=[10])
    seeds = baselines.random_orders(120, 20, 6, random_state=9)
    for b_index, b in enumerate(report.budgets):
        vendi = [metrics.vendi_score(x[s[:b]]) for s in seeds]
        sparse = [metrics.sparse_share(pool_geometry(x).sparse, s[:b]) for s in seeds]
        assert report.values["random"]["vendi"][b_index] == pytest.approx(np.mean(vendi))
        assert report.random_sd["vendi"][b_index] == pytest.approx(np.std(vendi, ddof=1))
        assert report.values["random"]["sparse_share"][b_index] == pytest.approx(np.mean(sparse))
    assert report.orders["k_center"][0] == 0  # the same first pick as NovelSelect
