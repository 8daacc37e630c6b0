"""Each metric of the selection report against a small example computed by hand."""

import math

import numpy as np
import pytest

from planfusion.novelsum import embedding_density, novelsum
from planfusion.novelsum.synthetic import clustered_embeddings
from planfusion.report import metrics
from planfusion.report.compare import selection_report
from planfusion.report.geometry import coverage_distances, pool_geometry


def circle(*degrees: float) -> np.ndarray:
    angles = np.radians(degrees)
    return np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)


# Four points at 0, 60, 90 and 180 degrees: cosine distances
#          p0     p60    p90    p180
#   p0     0      0.5    1      2
#   p60    0.5    0      0.134  1.5
#   p90    1      0.134  0      1
#   p180   2      1.5    1      0
POINTS = circle(0, 60, 90, 180)
D30 = 1 - math.cos(math.radians(30))  # 0.133975


def test_pool_geometry_by_hand():
    g = pool_geometry(POINTS, r_neighbour=2, isolation_neighbours=2, sparse_fraction=0.2)
    # nearest two others: p0 (0.5, 1), p60 (0.134, 0.5), p90 (0.134, 1), p180 (1, 1.5)
    assert g.neighbour_distances == pytest.approx(np.array([[0.5, 1], [D30, 0.5], [D30, 1], [1, 1.5]]), abs=1e-6)
    assert g.r == pytest.approx(1.0)  # median of the 2nd-neighbour distances 1, 0.5, 1, 1.5
    # 5th percentile of the NN distances 0.134, 0.134, 0.5, 1 (linear interpolation)
    assert g.duplicate_distance == pytest.approx(D30, abs=1e-6)
    # mean distance to the 2 nearest: 0.75, 0.317, 0.567, 1.25: the sparsest (ceil(0.2 * 4) = 1) is p180
    assert g.sparse.tolist() == [False, False, False, True]
    # facility location's first gains: sum of max(cos, 0) = 1.5, 1 + 0.5 + 0.866, 1 + 0.866, 1
    assert g.similarity_sums == pytest.approx([1.5, 1.5 + math.sqrt(3) / 2, 1 + math.sqrt(3) / 2, 1.0], abs=1e-6)


def test_duplicates_are_neighbours_at_distance_zero():
    g = pool_geometry(circle(0, 0, 90, 180), r_neighbour=1, isolation_neighbours=2)
    assert g.neighbour_distances[:2, 0] == pytest.approx([0.0, 0.0], abs=1e-6)


def test_pool_geometry_needs_more_items_than_neighbours():
    with pytest.raises(ValueError, match="more than 10 items"):
        pool_geometry(POINTS)


def test_coverage_by_hand():
    nearest = coverage_distances(POINTS, np.array([3, 0]), (1, 2))
    assert nearest[0] == pytest.approx([2, 1.5, 1, 0], abs=1e-6)  # to p180 only
    assert nearest[1] == pytest.approx([0, 0.5, 1, 0], abs=1e-6)  # to p180 and p0
    summary = metrics.coverage_summary(nearest[1], r=0.5)
    assert summary["coverage_mean"] == pytest.approx(0.375, abs=1e-6)
    assert summary["coverage_p95"] == pytest.approx(0.925, abs=1e-6)  # 0.5 + 0.85 * (1 - 0.5)
    assert summary["coverage_within_r"] == pytest.approx(0.75)


def test_coverage_blocks_of_picks_agree_with_brute_force(monkeypatch):
    monkeypatch.setattr("planfusion.report.geometry.ROWS_PER_BLOCK", 7)
    x = clustered_embeddings(60, 16, random_state=3)
    order = np.random.default_rng(0).permutation(60)[:25]
    budgets = (3, 7, 8, 20, 25)
    nearest = coverage_distances(x, order, budgets)
    for row, b in zip(nearest, budgets):
        brute = np.clip(1 - x.astype(np.float64) @ x[order[:b]].T.astype(np.float64), 0, 2).min(axis=1)
        assert row == pytest.approx(brute, abs=1e-5)


def test_vendi_of_identical_items_is_one_and_of_orthogonal_items_is_their_number():
    assert metrics.vendi_score(np.tile([[0.6, 0.8, 0.0]], (7, 1))) == pytest.approx(1.0)
    assert metrics.vendi_score(np.eye(5)) == pytest.approx(5.0)
    # more items (6) than dimensions (3): two copies of three orthogonal items count as 3
    assert metrics.vendi_score(np.vstack([np.eye(3), np.eye(3)])) == pytest.approx(3.0)


def test_vendi_by_hand():
    # two items with cos 0.5: K/B has eigenvalues 0.75 and 0.25
    expected = math.exp(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25)))
    assert metrics.vendi_score(circle(0, 60)) == pytest.approx(expected)  # 1.7548


def test_near_duplicate_pairs_by_hand():
    # pairs closer than 0.2: (p60, p90) only; closer than 0.6 also (p0, p60)
    assert metrics.near_duplicate_pairs(POINTS, 0.2) == 1
    assert metrics.near_duplicate_pairs(POINTS, 0.6) == 2


def test_cells_shares_and_sparse_share_by_hand():
    cells = np.array([0, 0, 1, 2, 2, 3])
    assert metrics.cell_coverage(cells, np.array([0, 3])) == 0.5  # cells 0 and 2 of 4
    labels = np.array(["a", "a", "a", "b"])
    assert metrics.shares(labels, np.array([3])) == {"a": (0.0, 0.75), "b": (1.0, 0.25)}
    assert metrics.share_distance(labels, np.array([3])) == pytest.approx(0.75)
    assert metrics.share_distance(labels, np.array([0, 1, 2, 3])) == 0.0
    sparse = np.array([True, False, False, True, False])
    assert metrics.sparse_share(sparse, np.array([0, 1, 2, 4])) == 0.25


def test_report_scores_novelsum_with_the_pools_sigma():
    x = clustered_embeddings(80, 16, random_state=1)
    sigma = embedding_density(x, 5).sigma
    picks = np.arange(0, 80, 4)
    report = selection_report(x, sigma, picks, kappa1=1.0, kappa2=0.5, budgets=[10])
    assert report.values["novelselect"]["novelsum"][-1] == pytest.approx(novelsum(x[picks], sigma[picks]))
    assert report.values["novelselect"]["novelsum"][0] == pytest.approx(novelsum(x[picks[:10]], sigma[picks[:10]]))
    assert report.budgets == (10, 20)
