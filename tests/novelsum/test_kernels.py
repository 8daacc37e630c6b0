"""The compiled loops against plain numpy on the same inputs: contender choice and exact promotion
(including a row promoted again after new picks, and equal keys)."""

import numpy as np
import pytest

from planfusion.novelsum.kernels import SelectionKernels
from planfusion.novelsum.scoring import score_sums


def kernels_for(n, budget, *, released=False, score=None, hot=None, dist_dtype=np.float32, seed=0, threads=1):
    rng = np.random.default_rng(seed)
    matrix = np.zeros((n, budget), dtype=dist_dtype)
    staged = np.zeros((8, n), dtype=dist_dtype)  # STAGE = 8 here
    arrays = dict(
        weight=rng.uniform(0.3, 3.0, n), pick_weight=np.zeros(budget), head_keys=np.zeros((n, 4)),
        head_terms=np.zeros((n, 4)), head_last=np.zeros(n), below=np.zeros((n, 33), dtype=np.int32),
        score=np.zeros(n) if score is None else score, hot=np.zeros(n, dtype=bool) if hot is None else hot,
        matrix=matrix, staged=staged, sorted_picks=np.zeros((n, budget), dtype=np.int16),
        known=np.zeros(n, dtype=np.int64), g=np.concatenate([[0.0], 1.0 / np.arange(1, budget + 2)]),
        stairs=np.array([2, 4], dtype=np.int64),
    )  # fmt: skip
    return SelectionKernels(released=released, threads=threads, **arrays), arrays


def test_contenders_are_the_highest_cold_bounds_lowest_index_first():
    rng = np.random.default_rng(1)
    n = 5000
    score = np.round(rng.normal(size=n), 1)  # many equal bounds
    hot = rng.random(n) < 0.1
    score[rng.random(n) < 0.1] = -np.inf  # picked rows
    kernels, _ = kernels_for(n, 4, score=score, hot=hot)
    for best, cap in [(0.5, 64), (-np.inf, 32), (5.0, 16)]:
        rows, bounds, limited = kernels.contenders(best, cap)
        eligible = np.flatnonzero(~hot & (score >= best) & np.isfinite(score))
        expected = eligible[np.lexsort((eligible, -score[eligible]))][:cap]
        assert rows.tolist() == expected.tolist()
        assert bounds.tolist() == score[expected].tolist()
        assert limited == (len(eligible) > cap)
    weighted = score * rng.uniform(0.1, 1.0, n)  # other bounds, same hot rows: ranked instead of score
    rows, bounds, _ = kernels.contenders(0.2, 64, weighted)
    eligible = np.flatnonzero(~hot & (weighted >= 0.2) & np.isfinite(weighted))
    assert rows.tolist() == eligible[np.lexsort((eligible, -weighted[eligible]))][:64].tolist()
    assert bounds.tolist() == weighted[rows].tolist()


@pytest.mark.parametrize("released", [False, True])
@pytest.mark.parametrize("dist_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads", [1, 2])  # 2: the rows split over two threads (64 rows x 300 picks)
def test_promote_equals_a_full_sort_again_after_new_picks(released, dist_dtype, threads):
    n, budget, stage = 200, 300, 8
    kernels, a = kernels_for(n, budget, released=released, dist_dtype=dist_dtype, threads=threads)
    rng = np.random.default_rng(2)
    d = np.round(rng.uniform(0, 2, (n, budget)), 2).astype(dist_dtype)  # rounded: equal keys happen
    d[:, 7] = d[:, 3]  # exact duplicates of an earlier pick
    a["pick_weight"][:] = rng.uniform(0.3, 3.0, budget)
    rows = np.sort(rng.choice(n, 64, replace=False))
    for t in (12, 13, 200, 300):  # the same rows again: only the picks made since get placed
        flushed = (t - 1) // stage * stage
        a["matrix"][:, :flushed] = d[:, :flushed]
        a["staged"][: t - flushed] = d[:, flushed:t].T
        exact = kernels.promote(rows, t, flushed)
        expected = score_sums(d[rows, :t], a["pick_weight"][:t], a["weight"][rows],
                              variant="released" if released else "magicagent", kappa1=1.0)  # fmt: skip
        np.testing.assert_allclose(exact, expected, rtol=1e-12)
        keys = d[rows, :t].astype(np.float64)
        if released:
            keys = (a["weight"][rows, None] + a["pick_weight"][:t]) * keys
        assert (a["sorted_picks"][rows, :t] == np.argsort(keys, axis=1, kind="stable")).all()
        assert (a["known"][rows] == t).all()


@pytest.mark.parametrize("n, dim", [(50, 40), (9000, 384)])  # 9000 rows: two threads; 40: a partial block
def test_cosine_distances_equal_numpy(n, dim):
    from planfusion.novelsum.kernels import cosine_distances

    x = np.random.default_rng(3).standard_normal((n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    x[1] = x[0]  # distance 0 (clipped, never negative)
    out = cosine_distances(x, 0, np.empty(n, dtype=np.float32), threads=2)
    expected = np.clip(1.0 - x.astype(np.float64) @ x[0].astype(np.float64), 0.0, 2.0)
    np.testing.assert_allclose(out, expected, atol=1e-6)
    assert out.min() >= 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [100, 9000])  # 9000 rows: two threads
def test_flush_columns_is_a_transposed_copy(dtype, n):
    from planfusion.novelsum.kernels import flush_columns

    staged = np.random.default_rng(4).random((8, n)).astype(dtype)
    matrix = np.full((n, 30), -1.0, dtype=dtype)
    flush_columns(staged, 5, matrix, 20, threads=2)
    assert (matrix[:, 20:25] == staged[:5].T).all()
    assert (matrix[:, :20] == -1).all() and (matrix[:, 25:] == -1).all()
    with pytest.raises(ValueError, match="cannot flush"):
        flush_columns(staged, 5, matrix, 26)


@pytest.mark.parametrize("released", [False, True])
@pytest.mark.parametrize("n, threads", [(300, 1), (9000, 2)])  # 9000 rows: two threads, blocks of 256 and a rest
def test_distances_and_bounds_equal_the_two_passes_in_turn(released, n, threads):
    from planfusion.novelsum.kernels import cosine_distances

    budget, dim = 40, 48
    rng = np.random.default_rng(5)
    x = rng.standard_normal((n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    fused, a = kernels_for(n, budget, released=released, threads=threads)
    apart, b = kernels_for(n, budget, released=released, threads=threads)
    edges = np.concatenate([[0.0], np.linspace(0.2, 1.8, 31), [2.0 if not released else 12.0]])
    for t, pick in enumerate(rng.choice(n, 12, replace=False)):  # past the head (4 keys here): counts are read
        weight = a["weight"][pick]
        a["pick_weight"][t] = b["pick_weight"][t] = weight
        column = fused.distances_and_bounds(x, pick, np.empty(n, dtype=np.float32), t, weight, 0.3, 16.0, -2.0, edges)
        expected = cosine_distances(x, pick, np.empty(n, dtype=np.float32), threads)
        apart.add_bounds(t, expected, weight, 0.3, 16.0, -2.0, edges)
        assert (column == expected).all()
        for name in ("score", "head_keys", "head_terms", "head_last", "below"):
            assert (a[name] == b[name]).all(), name
    assert (a["below"][:, -1] == 12).all() and np.isfinite(a["score"]).all() and (a["score"] > 0).all()


@pytest.mark.parametrize("released", [False, True])
@pytest.mark.parametrize("dist_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, threads", [(300, 1), (9000, 2)])  # 9000 rows: two threads
def test_count_keys_equals_numpy_bucket_counts(released, dist_dtype, n, threads):
    budget, t, flushed = 40, 30, 24  # 24 picks in the matrix, 6 staged
    kernels, a = kernels_for(n, budget, released=released, dist_dtype=dist_dtype, threads=threads)
    rng = np.random.default_rng(6)
    d = rng.uniform(0, 2, (n, budget)).astype(dist_dtype)
    d[:5] = np.nan  # NaN lands in bucket 0, as in the bound pass
    a["matrix"][:] = d
    a["staged"][: t - flushed] = d[:, flushed:t].T
    a["matrix"][:, flushed:] = -7.0  # not flushed yet: must come from staged
    a["pick_weight"][:] = rng.uniform(0.3, 3.0, budget)
    a["below"][:] = 99  # stale counts are replaced
    scale, offset = 16.0, -2.0
    kernels.count_keys(t, flushed, scale, offset)
    keys = d[:, :t].astype(np.float64)
    if released:
        keys = (a["weight"][:, None] + a["pick_weight"][:t]) * keys
    x = keys * scale
    x += offset
    bucket = np.where(x >= 0, np.minimum(x, 31), 0).astype(np.intp)  # 32 buckets; NaN compares false
    expected = np.zeros((n, 33), dtype=np.int32)
    expected[:, 1:] = np.cumsum([(bucket == b).sum(axis=1) for b in range(32)], axis=0).T
    assert (a["below"] == expected).all()
    assert (a["below"][:, -1] == t).all()
