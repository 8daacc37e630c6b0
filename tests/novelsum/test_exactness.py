"""Exactness: every pick is the arg-max of its step, teacher-forced against an independent float64
brute-force scorer (written here from the definition, not calling the library's scoring)."""

import numpy as np
import pytest

from planfusion.novelsum import embedding_density, novel_select
from planfusion.novelsum.synthetic import clustered_embeddings


def cosine_distances(x: np.ndarray, to: list[int] | slice = slice(None)) -> np.ndarray:
    """(N, len(to)) float64 cosine distances from every row of x to the rows ``to``."""
    x = x.astype(np.float64)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return np.clip(1.0 - x @ x[to].T, 0.0, 2.0)


def brute_scores(x: np.ndarray, chosen: list[int], sigma: np.ndarray, variant: str, k1: float, k2: float,
                 metric: str = "cosine") -> np.ndarray:
    """v(x | S) for every pool sample, float64, straight from novelsum.md (ties ranked by pick order)."""
    d = x[:, chosen] if metric == "precomputed" else cosine_distances(x, chosen)  # (N, t)
    w = sigma.astype(np.float64) ** k2
    t = len(chosen)
    harmonic = 1.0 / np.arange(1, t + 1) ** k1
    if variant == "magicagent":
        order = np.argsort(d, axis=1, kind="stable")
        return np.take_along_axis(d * w[chosen], order, axis=1) @ harmonic
    terms = (w[:, None] + w[chosen][None, :]) * d
    return (np.sort(terms, axis=1, kind="stable") @ harmonic) / t


def assert_exact(x, selection, variant, k1, k2, steps, metric="cosine"):
    chosen = [int(selection.order[0])]
    for step in range(1, steps):
        scores = brute_scores(x, chosen, selection.sigma, variant, k1, k2, metric)
        scores[chosen] = -np.inf
        pick = int(selection.order[step])
        best = scores.max()
        assert scores[pick] >= best - 1e-6 * abs(best), f"step {step}: picked {pick} ({scores[pick]}) < max {best}"
        # reported scores come from float32 distances (near-equal distances may rank differently)
        assert selection.scores[step] == pytest.approx(scores[pick], rel=1e-3)
        chosen.append(pick)


def uneven_pool(n=600, dim=24, seed=3):
    return clustered_embeddings(n, dim, n_clusters=12, random_state=seed)


@pytest.mark.parametrize("variant", ["magicagent", "released"])
@pytest.mark.parametrize("kappas", [(1.0, 0.5), (1.0, 1.0), (0.5, 2.0)])
def test_clustered_uneven_density(variant, kappas):
    x = uneven_pool()
    s = novel_select(x, 60, k=10, kappa1=kappas[0], kappa2=kappas[1], variant=variant, random_state=7)
    assert_exact(x, s, variant, *kappas, steps=60)


@pytest.mark.parametrize("variant", ["magicagent", "released"])
def test_random_noise(variant):
    x = np.random.default_rng(1).standard_normal((400, 16))
    s = novel_select(x, 50, k=5, variant=variant, random_state=2)
    assert_exact(x, s, variant, 1.0, 0.5, steps=50)


@pytest.mark.parametrize("variant", ["magicagent", "released"])
def test_exact_duplicates(variant):
    base = uneven_pool(300, 16, seed=5)
    x = np.vstack([base, base[:40], base[:10]])  # 50 exact duplicates
    density = embedding_density(x, 10)
    assert np.isfinite(density.sigma).all()
    np.testing.assert_array_equal(density.sigma[300:340], density.sigma[:40])
    s = novel_select(x, 40, k=10, variant=variant, random_state=4, density=density)
    assert_exact(x, s, variant, 1.0, 0.5, steps=40)


@pytest.mark.parametrize("variant", ["magicagent", "released"])
def test_long_run_on_larger_pool_stays_exact(variant):
    """Enough steps for contenders to cool down and come back (re-promotions from a remembered key
    order), for the buckets to move (16 and 128 picks) and for staged distance columns to be flushed."""
    x = clustered_embeddings(3000, 32, n_clusters=30, random_state=11)
    s = novel_select(x, 150, variant=variant, random_state=0)
    assert s.stats["promoted"] > 3000  # rows were promoted more than once
    assert_exact(x, s, variant, 1.0, 0.5, steps=150)


@pytest.mark.parametrize("variant", ["magicagent", "released"])
def test_long_run_on_a_precomputed_matrix_with_duplicates(variant):
    base = clustered_embeddings(700, 16, n_clusters=10, random_state=12)
    d = cosine_distances(np.vstack([base, base[:100]]))  # equal distances: ties broken by pick order
    s = novel_select(d, 140, metric="precomputed", variant=variant, random_state=3)
    assert_exact(d, s, variant, 1.0, 0.5, steps=140, metric="precomputed")


def test_density_self_excluded_and_matches_brute_force():
    x = uneven_pool(200, 8)
    density = embedding_density(x, 4)
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    d = np.clip(1 - u.astype(np.float64) @ u.T.astype(np.float64), 0, 2)
    np.fill_diagonal(d, np.inf)
    expected = 1.0 / np.sort(d, axis=1)[:, :4].sum(axis=1)
    np.testing.assert_allclose(density.sigma, expected, rtol=1e-4)


def test_variants_differ_on_clustered_data():
    x = uneven_pool()
    magic = novel_select(x, 50, variant="magicagent", random_state=0)
    released = novel_select(x, 50, variant="released", random_state=0)
    assert len(set(magic.order[1:]) & set(released.order[1:])) < 25
    # magicagent favours sparse samples, released dense ones
    assert np.median(magic.sigma[magic.order[1:]]) < np.median(released.sigma[released.order[1:]])


def test_same_seed_same_picks():
    x = uneven_pool()
    a = novel_select(x, 40, random_state=123)
    b = novel_select(x, 40, random_state=123)
    c = novel_select(x, 40, random_state=124)
    np.testing.assert_array_equal(a.order, b.order)
    np.testing.assert_array_equal(a.scores, b.scores)
    assert a.first_pick_seed == 123
    assert a.order[0] != c.order[0] or not np.array_equal(a.order, c.order)


@pytest.mark.parametrize("variant", ["magicagent", "released"])
def test_memory_cap_on_the_hot_set_changes_no_pick(variant, monkeypatch):
    import planfusion.novelsum.select as select

    x = clustered_embeddings(1500, 32, random_state=4)
    monkeypatch.setattr(select, "COOL_MARGIN", 0.05)  # contenders stay hot long enough to fill the cap
    free = novel_select(x, 120, variant=variant, random_state=1)
    monkeypatch.setattr(select, "PROMOTE_BATCH", 4)
    monkeypatch.setattr(select, "HOT_BYTES", 8 * 20 * 120)  # room for the 8-row floor only
    capped = novel_select(x, 120, variant=variant, random_state=1)
    assert capped.stats["max_hot"] == 8 and free.stats["max_hot"] > 8
    assert free.stats["evicted"] == 0 and capped.stats["evicted"] > 0  # the cap did evict contenders
    np.testing.assert_array_equal(capped.order, free.order)
    np.testing.assert_allclose(capped.scores, free.scores, rtol=1e-9)


def test_precomputed_density_takes_the_diagonal_as_self_within_tolerance():
    """A diagonal left at rounding level (which the matrix check accepts) is self, not a neighbour."""
    from planfusion.novelsum import precomputed_density

    d = cosine_distances(clustered_embeddings(200, 16, n_clusters=5, random_state=13))
    np.fill_diagonal(d, 0.0)
    rounded = d.copy()
    np.fill_diagonal(rounded, 1e-12)
    exact, nudged = precomputed_density(d, 5), precomputed_density(rounded, 5)
    np.testing.assert_array_equal(nudged.neighbours, exact.neighbours)
    np.testing.assert_allclose(nudged.sigma, exact.sigma)


@pytest.mark.parametrize("variant", ["magicagent", "released"])
def test_contributors_are_the_largest_weighted_terms(variant):
    """Each pick's reported contributors are the picks with the largest weighted terms in its score,
    as the library's scoring defines them (rank weights applied, released divided by t)."""
    from planfusion.novelsum.scoring import ranked_terms

    x = uneven_pool()
    s = novel_select(x, 40, variant=variant, random_state=5, n_contributors=3)
    d = cosine_distances(x)
    w = s.sigma.astype(np.float64) ** s.kappa2
    for step in range(1, 40):
        picks, x_pick = s.order[:step], int(s.order[step])
        terms = ranked_terms(d[[x_pick]][:, picks], w[picks], w[[x_pick]], variant=variant, kappa1=s.kappa1)[0]
        top = np.argsort(-terms, kind="stable")[:3]
        assert s.contributors[step][: len(top)].tolist() == picks[top].tolist(), f"step {step}"
        np.testing.assert_allclose(s.contributions[step][: len(top)], terms[top], rtol=1e-5)
        assert s.contributions[step].sum() <= s.scores[step] * (1 + 1e-9)


@pytest.mark.parametrize("variant", ["magicagent", "released"])
def test_large_pool_with_threaded_passes(variant):
    """A pool large enough (>= 8192 rows) that the distance and bound passes split over two threads."""
    x = clustered_embeddings(9000, 32, n_clusters=30, random_state=11)
    s = novel_select(x, 25, variant=variant, random_state=4)
    assert_exact(x, s, variant, 1.0, 0.5, steps=25)
