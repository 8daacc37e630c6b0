"""Mix controls (quotas, floors, exclusion, weights): every pick is the arg-max of the weighted novelty
among the rows eligible at its step, checked against an independent float64 brute force written here
from the definition (full greedy on float64 distance matrices, teacher-forced on float32 embeddings);
with the controls off or trivial the picks are today's."""

import numpy as np
import pytest

from planfusion.novelsum import novel_select, precomputed_density
from planfusion.novelsum.synthetic import clustered_embeddings

VARIANTS = ["magicagent", "released"]


def distances(x: np.ndarray) -> np.ndarray:
    u = x.astype(np.float64) / np.linalg.norm(x, axis=1, keepdims=True)
    d = np.clip(1.0 - u @ u.T, 0.0, 2.0)
    d = (d + d.T) / 2
    np.fill_diagonal(d, 0.0)
    return d


def novelty(d: np.ndarray, chosen: list[int], sigma: np.ndarray, variant: str, k1=1.0, k2=0.5) -> np.ndarray:
    """v(x | S) of every row, float64, from novelsum.md (ties in the ranking: earlier pick first)."""
    dc, w, t = d[:, chosen], sigma**k2, len(chosen)
    harmonic = np.arange(1, t + 1, dtype=np.float64) ** -k1
    if variant == "magicagent":
        return np.take_along_axis(dc * w[chosen], np.argsort(dc, axis=1, kind="stable"), axis=1) @ harmonic
    terms = (w[:, None] + w[chosen][None, :]) * dc
    return np.sort(terms, axis=1, kind="stable") @ harmonic / t


def eligible(n, chosen, budget, groups=None, quotas=None, floors=None, exclude=None) -> np.ndarray:
    """Rows that may be picked next: not picked, not excluded, group under its quota, and, once the
    picks left are all owed to floors, group below its floor."""
    ok = np.ones(n, dtype=bool) if exclude is None else ~exclude
    ok[chosen] = False
    if groups is not None:
        g = len(quotas if quotas is not None else floors)
        count = np.bincount(groups[chosen], minlength=g)
        open_ = count < (np.asarray(quotas) if quotas is not None else np.full(g, budget))
        if floors is not None:
            owed = np.maximum(np.asarray(floors) - count, 0)
            if owed.sum() == budget - len(chosen):
                open_ &= owed > 0
        ok &= open_[groups]
    return ok


def brute_greedy(d, sigma, budget, variant, first, weights=None, **mix) -> list[int]:
    n = len(d)
    w = np.ones(n) if weights is None else weights
    chosen = [first]
    while len(chosen) < budget:
        scores = w * novelty(d, chosen, sigma, variant)
        scores[~eligible(n, chosen, budget, **mix)] = -np.inf
        chosen.append(int(np.flatnonzero(scores == scores.max()).min()))
    return chosen


def assert_teacher_forced(d, selection, variant, weights=None, **mix):
    """Every pick of ``selection`` is eligible and within 1e-6 of the best weighted score of its step."""
    n, budget = len(d), len(selection.order)
    w = np.ones(n) if weights is None else weights
    order = selection.order.tolist()
    assert eligible(n, [], budget, **mix)[order[0]]
    for step in range(1, budget):
        chosen = order[:step]
        v = novelty(d, chosen, selection.sigma, variant)
        scores = w * v
        scores[~eligible(n, chosen, budget, **mix)] = -np.inf
        pick, best = order[step], scores.max()
        assert scores[pick] >= best - 1e-6 * abs(best), f"step {step}: picked {pick} ({scores[pick]}) < max {best}"
        assert selection.scores[step] == pytest.approx(v[pick], rel=1e-3)
        assert selection.weighted_scores[step] == pytest.approx(scores[pick], rel=1e-3)


def pool(n=240, seed=0):
    x = clustered_embeddings(n, 16, n_clusters=8, random_state=seed)
    return x, distances(x)


def labels(n, n_groups, seed):
    return np.random.default_rng(seed).integers(n_groups, size=n)


def run(d, budget, variant, seed, **kwargs):
    return novel_select(d, budget, k=5, metric="precomputed", variant=variant, random_state=seed, **kwargs)


def check_full_greedy(d, budget, variant, seed, weights=None, **mix):
    s = run(d, budget, variant, seed, weights=weights, **mix)
    assert_teacher_forced(d, s, variant, weights, **mix)
    sigma = precomputed_density(d, 5).sigma
    assert s.order.tolist() == brute_greedy(d, sigma, budget, variant, int(s.order[0]), weights, **mix)
    return s


@pytest.mark.parametrize("variant", VARIANTS)
def test_all_ones_weights_and_slack_constraints_give_todays_picks(variant):
    x = clustered_embeddings(2000, 32, n_clusters=20, random_state=1)
    plain = novel_select(x, 120, variant=variant, random_state=3)
    groups = labels(2000, 4, 0)
    for kwargs in ({"weights": np.ones(2000)}, {"groups": groups, "quotas": [120] * 4},
                   {"groups": groups, "floors": [0] * 4}, {"exclude": np.zeros(2000, dtype=bool)}):
        s = novel_select(x, 120, variant=variant, random_state=3, **kwargs)
        np.testing.assert_array_equal(s.order, plain.order)
        np.testing.assert_array_equal(s.scores, plain.scores)
        np.testing.assert_array_equal(s.weighted_scores, plain.scores)
        np.testing.assert_array_equal(s.contributors, plain.contributors)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quotas(variant, seed):
    x, d = pool(seed=seed)
    groups = labels(len(d), 4, seed)
    plain = run(d, 40, variant, seed)
    favourite = np.bincount(groups[plain.order], minlength=4).argmax()
    quotas = np.array([20, 20, 20, 20])
    quotas[favourite] = 3  # fills early: the greedy wants this group most
    quotas[(favourite + 1) % 4] = 0  # never picked
    s = check_full_greedy(d, 40, variant, seed, groups=groups, quotas=quotas)
    counts = np.bincount(groups[s.order], minlength=4)
    assert (counts <= quotas).all() and counts[favourite] == 3 and counts[(favourite + 1) % 4] == 0


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("seed", [0, 3])
def test_quotas_summing_exactly_to_the_budget_give_those_counts(variant, seed):
    x, d = pool(seed=seed)
    groups = labels(len(d), 3, seed)
    quotas = np.array([5, 25, 10])
    s = check_full_greedy(d, 40, variant, seed, groups=groups, quotas=quotas)
    np.testing.assert_array_equal(np.bincount(groups[s.order], minlength=3), quotas)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("seed", [0, 4])
def test_floors_take_the_last_picks_when_owed(variant, seed):
    x, d = pool(seed=seed)
    groups = labels(len(d), 3, seed)
    plain = run(d, 30, variant, seed)
    shy = np.bincount(groups[plain.order], minlength=3).argmin()  # the group the greedy picks least
    floors = np.zeros(3, dtype=np.int64)
    floors[shy] = np.bincount(groups[plain.order], minlength=3)[shy] + 6
    s = check_full_greedy(d, 30, variant, seed, groups=groups, floors=floors)
    assert np.bincount(groups[s.order], minlength=3)[shy] == floors[shy]
    # the floor binds only at the end: until then the picks are today's
    head = 30 - floors[shy]
    np.testing.assert_array_equal(s.order[:head], plain.order[:head])


@pytest.mark.parametrize("variant", VARIANTS)
def test_floors_summing_to_the_budget_constrain_every_pick_from_the_first(variant):
    x, d = pool(seed=5)
    groups = labels(len(d), 3, 5)
    floors = np.array([0, 4, 16])
    s = check_full_greedy(d, 20, variant, 5, groups=groups, floors=floors)
    np.testing.assert_array_equal(np.bincount(groups[s.order], minlength=3), floors)
    assert groups[s.order[0]] != 0


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("seed", [0, 6])
def test_excluded_rows_are_never_picked_and_stay_in_the_pool(variant, seed):
    x, d = pool(seed=seed)
    plain = run(d, 30, variant, seed)
    exclude = np.zeros(len(d), dtype=bool)
    exclude[plain.order[1:8]] = True  # what the greedy wanted
    exclude[np.random.default_rng(seed).random(len(d)) < 0.2] = True
    exclude[plain.order[0]] = False
    s = check_full_greedy(d, 30, variant, seed, exclude=exclude)
    assert not exclude[s.order].any()
    np.testing.assert_array_equal(s.sigma, plain.sigma)  # density over the whole pool


@pytest.mark.parametrize("variant", VARIANTS)
def test_excluding_rows_equals_removing_them_with_the_pools_density(variant):
    """Excluded rows change no one's score: the picks are those of the pool without them, given the
    whole pool's sigma."""
    from planfusion.novelsum import Density

    x = clustered_embeddings(2000, 32, n_clusters=20, random_state=5)
    full = novel_select(x, 100, variant=variant, first=0)
    exclude = full.sigma <= np.quantile(full.sigma, 0.1)  # the sparsest tenth
    exclude[0] = False
    kept = np.flatnonzero(~exclude)
    density = Density(full.sigma[kept], np.zeros((len(kept), 1), dtype=np.int64), np.zeros((len(kept), 1)), 1)
    removed = novel_select(x[kept], 100, variant=variant, first=0, density=density)
    excluded = novel_select(x, 100, variant=variant, first=0, exclude=exclude)
    np.testing.assert_array_equal(excluded.order, kept[removed.order])
    np.testing.assert_allclose(excluded.scores, removed.scores, rtol=1e-12)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("seed", [0, 7, 8])
def test_weights(variant, seed):
    x, d = pool(seed=seed)
    weights = np.random.default_rng(seed).uniform(0.3, 1.0, len(d))
    weights[::7] = 1.0
    s = check_full_greedy(d, 40, variant, seed, weights=weights)
    np.testing.assert_allclose(s.weighted_scores, s.scores * weights[s.order], rtol=1e-12)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("seed", [0, 9])
def test_everything_at_once(variant, seed):
    x, d = pool(seed=seed)
    rng = np.random.default_rng(seed)
    groups = labels(len(d), 4, seed + 1)
    exclude = rng.random(len(d)) < 0.15
    weights = np.where(rng.random(len(d)) < 0.3, 0.5, 1.0) * np.where(rng.random(len(d)) < 0.3, 0.8, 1.0)
    check_full_greedy(d, 36, variant, seed, groups=groups, quotas=[6, 0, 30, 12], floors=[4, 0, 0, 10],
                      exclude=exclude, weights=weights)


@pytest.mark.parametrize("variant", VARIANTS)
def test_long_constrained_run_on_embeddings_stays_exact(variant):
    """A pool and budget large enough for the buckets to move, every cold row to be refreshed and
    contenders to come back, with a group closing mid-run, floors owed at the end, exclusions and
    weights (float32 distances: teacher-forced)."""
    x = clustered_embeddings(3000, 32, n_clusters=30, random_state=11)
    rng = np.random.default_rng(2)
    groups, exclude = labels(3000, 3, 2), rng.random(3000) < 0.1
    weights = rng.choice([0.36, 0.5, 0.8, 0.9, 1.0], 3000)
    mix = {"groups": groups, "quotas": [30, 150, 150], "floors": [0, 0, 70], "exclude": exclude}
    s = novel_select(x, 150, variant=variant, random_state=0, weights=weights, **mix)
    counts = np.bincount(groups[s.order], minlength=3)
    assert counts[0] == 30 and counts[2] == 70 and not exclude[s.order].any()
    assert_teacher_forced(distances(x), s, variant, weights, **mix)


@pytest.mark.parametrize("variant", VARIANTS)
def test_weighted_memory_cap_changes_no_pick(variant, monkeypatch):
    import planfusion.novelsum.select as select

    x = clustered_embeddings(1500, 32, random_state=4)
    weights = np.random.default_rng(4).uniform(0.4, 1.0, 1500)
    monkeypatch.setattr(select, "COOL_MARGIN", 0.05)
    free = novel_select(x, 100, variant=variant, random_state=1, weights=weights)
    monkeypatch.setattr(select, "PROMOTE_BATCH", 4)
    monkeypatch.setattr(select, "HOT_BYTES", 8 * 20 * 100)
    capped = novel_select(x, 100, variant=variant, random_state=1, weights=weights)
    assert capped.stats["evicted"] > 0
    np.testing.assert_array_equal(capped.order, free.order)


def test_first_pick_is_drawn_among_eligible_rows():
    x, d = pool()
    groups = labels(len(d), 3, 0)
    exclude = groups == 1
    for seed in range(20):
        s = run(d, 10, "magicagent", seed, groups=groups, quotas=[0, 10, 10], exclude=exclude)
        assert groups[s.order[0]] == 2 and s.first_pick_seed == seed
    with pytest.raises(ValueError, match="first pick 5 is excluded"):
        run(d, 10, "magicagent", 0, first=5, exclude=np.arange(len(d)) == 5)


X = np.random.default_rng(0).standard_normal((30, 8))
G = np.arange(30) % 3


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"quotas": [5, 5, 5]}, ValueError, "quotas and floors need groups"),
        ({"groups": G}, ValueError, "groups need quotas or floors"),
        ({"groups": G[:-1], "quotas": [5, 5, 5]}, ValueError, r"groups must have shape \(N,\) = \(30,\)"),
        ({"groups": G.astype(float), "quotas": [5, 5, 5]}, TypeError, "groups must be an integer array"),
        ({"groups": G, "quotas": [5, 5]}, ValueError, r"groups must be labels in \[0, 2\)"),
        ({"groups": G, "quotas": [5, -1, 5]}, ValueError, "quotas must be >= 0, got -1 for group 1"),
        ({"groups": G, "quotas": [5.0, 5.0, 5.0]}, TypeError, "quotas must be an integer array"),
        ({"groups": G, "quotas": [[5, 5, 5]]}, ValueError, "quotas must be a 1-D array"),
        ({"groups": G, "quotas": [3, 3, 3]}, ValueError, "at most 9 picks .* fewer than the budget 10"),
        ({"groups": G, "quotas": [9, 10, 10], "exclude": G > 0}, ValueError, "the quotas allow at most 9 picks"),
        ({"groups": G, "quotas": [5, 5, 5], "floors": [1, 1]}, ValueError, "one entry per group, got 3 and 2"),
        ({"groups": G, "quotas": [5, 5, 5], "floors": [6, 0, 0]}, ValueError, "group 0 has a floor of 6"),
        ({"groups": G, "floors": [5, 5, 1]}, ValueError, "the floors add up to 11 picks, more than the budget 10"),
        ({"groups": G, "floors": [2, 2, 2], "exclude": G == 1}, ValueError, "group 1 has a floor of 2 .* only 0"),
        ({"exclude": np.arange(30) >= 5}, ValueError, "exclude leaves 5 selectable samples, fewer than the budget"),
        ({"exclude": np.zeros(30, dtype=int)}, TypeError, "exclude must be a bool array"),
        ({"exclude": np.zeros(29, dtype=bool)}, ValueError, r"exclude must have shape \(N,\) = \(30,\)"),
        ({"weights": np.zeros(30)}, ValueError, r"weights must be in \(0, 1\], got 0.0 at index 0"),
        ({"weights": np.full(30, 1.5)}, ValueError, r"weights must be in \(0, 1\], got 1.5"),
        ({"weights": np.full(30, np.nan)}, ValueError, r"weights must be in \(0, 1\], got nan"),
        ({"weights": np.ones(31)}, ValueError, r"weights must have shape \(N,\) = \(30,\)"),
        ({"weights": np.ones(30, dtype=bool)}, TypeError, "weights must be a float array"),
    ],
)
def test_bad_mix_inputs(kwargs, error, message):
    with pytest.raises(error, match=message):
        novel_select(X, 10, k=3, **kwargs)
