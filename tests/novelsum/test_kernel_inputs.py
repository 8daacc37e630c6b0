"""Every ctypes wrapper refuses, with a Python exception naming the argument, any input that would
send the compiled loops outside their arrays (wrong shape, dtype, layout, read-only output, index
out of range) or have them silently misread it."""

import numpy as np
import pytest

from planfusion.novelsum.kernels import SelectionKernels, cosine_distances, flush_columns

N, BUDGET, H, BUCKETS, STAGE = 50, 20, 4, 8, 8


def read_only(a):
    a.flags.writeable = False
    return a


def bound_arrays(**overrides):
    """A consistent set of SelectionKernels arrays (before any pick), with some replaced."""
    arrays = dict(
        weight=np.ones(N), pick_weight=np.ones(BUDGET), head_keys=np.full((N, H), np.inf),
        head_terms=np.zeros((N, H)), head_last=np.full(N, np.inf), below=np.zeros((N, BUCKETS + 1), dtype=np.int32),
        score=np.zeros(N), hot=np.zeros(N, dtype=bool), matrix=np.zeros((N, BUDGET), dtype=np.float32),
        staged=np.zeros((STAGE, N), dtype=np.float32), sorted_picks=np.zeros((N, BUDGET), dtype=np.int16),
        known=np.zeros(N, dtype=np.int64), g=np.concatenate([[0.0], 1.0 / np.arange(1, BUDGET + 2)]),
        stairs=np.array([2, 4], dtype=np.int64),
    )  # fmt: skip
    return arrays | overrides


def bind(threads=1, **overrides):
    return SelectionKernels(released=False, threads=threads, **bound_arrays(**overrides))


def unit_rows(n=N, dim=16):
    x = np.random.default_rng(0).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize(
    "change, error, message",
    [
        ({"j": N}, ValueError, r"j must be in \[0, 49\], got 50"),
        ({"j": -1}, ValueError, r"j must be in \[0, 49\], got -1"),  # numpy would wrap it to the last row
        ({"j": 1.0}, TypeError, "j must be an integer, got 1.0"),
        ({"out": np.empty(N - 1, dtype=np.float32)}, ValueError, r"out must have shape \(N,\) = \(50,\), got \(49,\)"),
        ({"out": read_only(np.empty(N, dtype=np.float32))}, ValueError, "out must be writeable"),
        ({"out": np.empty(2 * N, dtype=np.float32)[::2]}, TypeError, "out must be C-contiguous"),
        ({"unit": unit_rows().astype(np.float64)}, TypeError, "unit must be float32, got float64"),
        ({"unit": unit_rows()[0]}, ValueError, r"unit must have shape \(N, D\), got \(16,\)"),
        ({"threads": 3}, ValueError, "threads must be 1 or 2"),
    ],
)
def test_cosine_distances_checks(change, error, message):
    args = {"unit": unit_rows(), "j": 0, "out": np.empty(N, dtype=np.float32), "threads": 1} | change
    with pytest.raises(error, match=message):
        cosine_distances(**args)


@pytest.mark.parametrize(
    "change, error, message",
    [
        ({"cols": STAGE + 1}, ValueError, "cannot flush 9 of 8 staged columns"),  # would read past staged
        ({"cols": -1}, ValueError, "cannot flush -1"),
        ({"at": BUDGET - 2}, ValueError, "cannot flush 5 of 8 staged columns into 20 columns at 18"),
        ({"matrix": read_only(np.zeros((N, BUDGET), dtype=np.float32))}, ValueError, "matrix must be writeable"),
        ({"matrix": np.zeros((N, BUDGET), dtype=np.int32), "staged": np.zeros((STAGE, N), dtype=np.int32)},
         TypeError, "matrix must be float32 or float64, got int32"),  # fmt: skip
        ({"staged": np.zeros((STAGE, N - 1), dtype=np.float32)}, ValueError, r"staged must have shape \(STAGE, N\)"),
        ({"staged": np.zeros((STAGE, N), dtype=np.float64)}, TypeError, "staged must be float32, got float64"),
        ({"threads": 0}, ValueError, "threads must be 1 or 2"),
    ],
)
def test_flush_columns_checks(change, error, message):
    args = {"staged": np.zeros((STAGE, N), dtype=np.float32), "cols": 5, "at": 0,
            "matrix": np.zeros((N, BUDGET), dtype=np.float32), "threads": 1} | change  # fmt: skip
    with pytest.raises(error, match=message):
        flush_columns(**args)


@pytest.mark.parametrize(
    "change, error, message",
    [
        ({"weight": np.ones(N - 1)}, ValueError, r"weight must have shape \(N,\) = \(50,\), got \(49,\)"),
        ({"score": np.zeros(N + 1)}, ValueError, r"score must have shape \(N,\) = \(50,\), got \(51,\)"),
        ({"hot": np.zeros(N - 1, dtype=bool)}, ValueError, r"hot must have shape \(N,\)"),
        ({"known": np.zeros(N - 1, dtype=np.int64)}, ValueError, r"known must have shape \(N,\)"),
        ({"head_last": np.zeros(N - 1)}, ValueError, r"head_last must have shape \(N,\)"),
        ({"head_terms": np.zeros((N, H - 1))}, ValueError, r"head_terms must have shape \(N, H\) = \(50, 4\)"),
        ({"head_keys": np.zeros((N, 0)), "head_terms": np.zeros((N, 0))}, ValueError, "1 <= H <= budget"),
        ({"below": np.zeros((N, 1), dtype=np.int32)}, ValueError, "BUCKETS >= 1"),
        ({"below": np.zeros((N - 1, BUCKETS + 1), dtype=np.int32)}, ValueError, r"below must have shape \(N, BUCKETS"),
        ({"g": np.ones(BUDGET)}, ValueError, r"g must have shape \(budget \+ 2,\) = \(22,\), got \(20,\)"),
        ({"pick_weight": np.ones(BUDGET - 1)}, ValueError, r"pick_weight must have shape \(budget,\)"),
        ({"sorted_picks": np.zeros((N, BUDGET - 1), dtype=np.int16)}, ValueError, r"sorted_picks must have shape"),
        ({"staged": np.zeros((STAGE, N - 1), dtype=np.float32)}, ValueError, r"staged must have shape \(STAGE, N\)"),
        ({"matrix": np.zeros((N, BUDGET), dtype=np.int32)}, TypeError, "matrix must be float32 or float64"),
        ({"stairs": np.array([-1, 2])}, ValueError, "stairs must be bucket steps >= 1"),
        ({"stairs": np.array([2.0, 4.0])}, TypeError, "stairs must be int64"),
        ({"score": read_only(np.zeros(N))}, ValueError, "score must be writeable"),
        ({"weight": np.ones(2 * N)[::2]}, TypeError, "weight must be C-contiguous"),
        ({"weight": list(np.ones(N))}, TypeError, "weight must be a numpy array"),
        ({"threads": 3}, ValueError, "threads must be 1 or 2"),
    ],
)
def test_selection_kernels_check_what_they_bind(change, error, message):
    with pytest.raises(error, match=message):
        bind(**change)


def add_bounds_args(**change):
    return {"t": 0, "column": np.zeros(N, dtype=np.float32), "pick_weight": 1.0, "w_low": 1.0, "bucket_scale": 1.0,
            "bucket_offset": 0.0, "edges": np.linspace(0.0, 2.0, BUCKETS + 1)} | change  # fmt: skip


def update_hot_args(**change):
    """Two hot rows in four slots."""
    return {"t": 3, "new_keys": np.ones(2), "new_terms": np.ones(2), "keys": np.zeros((4, BUDGET)),
            "terms": np.zeros((4, BUDGET)), "ranks": np.ones((4, BUDGET), dtype=np.int32), "dg": np.zeros(BUDGET + 2),
            "exact": np.zeros(2), "ids": np.array([0, 1])} | change  # fmt: skip


def test_valid_calls_pass():
    kernels = bind()
    kernels.add_bounds(**add_bounds_args())
    assert kernels.promote(np.array([0, 1]), 2, 0).shape == (2,)
    kernels.update_hot(**update_hot_args())
    assert kernels.contenders(-np.inf, 1)[0].shape == (1,)


@pytest.mark.parametrize(
    "change, error, message",
    [
        ({"t": BUDGET}, ValueError, r"t must be in \[0, 19\], got 20"),
        ({"column": np.zeros(N - 1, dtype=np.float32)}, ValueError, r"column must have shape \(N,\) = \(50,\)"),
        ({"column": np.zeros(N, dtype=np.int64)}, TypeError, "column must be float32 or float64, got int64"),
        ({"edges": np.zeros(BUCKETS)}, ValueError, r"edges must have shape \(BUCKETS \+ 1,\) = \(9,\), got \(8,\)"),
    ],
)
def test_add_bounds_checks(change, error, message):
    with pytest.raises(error, match=message):
        bind().add_bounds(**add_bounds_args(**change))


def distances_and_bounds_args(**change):
    unit = np.zeros((N, 8), dtype=np.float32)
    unit[:, 0] = 1.0
    return {"unit": unit, "j": 0, "column": np.zeros(N, dtype=np.float32), "t": 0, "pick_weight": 1.0,
            "w_low": 1.0, "bucket_scale": 1.0, "bucket_offset": 0.0,
            "edges": np.linspace(0.0, 2.0, BUCKETS + 1)} | change  # fmt: skip


@pytest.mark.parametrize(
    "change, error, message",
    [
        ({"unit": np.ones((N + 1, 8), dtype=np.float32)}, ValueError, "unit has 51 rows, the selection's pool 50"),
        ({"unit": np.ones((N, 8))}, TypeError, "unit must be float32, got float64"),
        ({"j": N}, ValueError, r"j must be in \[0, 49\], got 50"),
        ({"t": BUDGET}, ValueError, r"t must be in \[0, 19\], got 20"),
        ({"column": np.zeros(N)}, TypeError, "column must be float32, got float64"),
        ({"column": read_only(np.zeros(N, dtype=np.float32))}, ValueError, "column must be writeable"),
        ({"edges": np.zeros(BUCKETS)}, ValueError, r"edges must have shape \(BUCKETS \+ 1,\) = \(9,\), got \(8,\)"),
    ],
)
def test_distances_and_bounds_checks(change, error, message):
    kernels = bind()
    assert (kernels.distances_and_bounds(**distances_and_bounds_args()) == 0).all()  # the valid call
    with pytest.raises(error, match=message):
        kernels.distances_and_bounds(**distances_and_bounds_args(**change))


@pytest.mark.parametrize(
    "t, flushed, message",
    [(0, 0, r"t must be in \[1, 20\], got 0"), (BUDGET + 1, BUDGET, r"t must be in \[1, 20\], got 21"),
     (4, 5, r"flushed must be in \[0, 4\], got 5"), (12, 2, r"flushed must be in \[4, 12\], got 2")],
)
def test_count_keys_checks(t, flushed, message):
    kernels = bind()
    kernels.count_keys(12, 8, 1.0, 0.0)  # the valid call
    with pytest.raises(ValueError, match=message):
        kernels.count_keys(t, flushed, 1.0, 0.0)


@pytest.mark.parametrize(
    "rows, t, flushed, error, message",
    [
        ([N], 2, 0, ValueError, r"rows must be increasing pool indices in \[0, 50\)"),
        ([-1, 3], 2, 0, ValueError, "rows must be increasing pool indices"),
        ([3, 3], 2, 0, ValueError, "rows must be increasing pool indices"),  # one row's key order, two threads
        ([5, 2], 2, 0, ValueError, "rows must be increasing pool indices"),
        ([1.0], 2, 0, TypeError, "rows must be integer pool indices"),
        ([1], BUDGET + 1, BUDGET, ValueError, r"t must be in \[1, 20\], got 21"),
        ([1], 0, 0, ValueError, r"t must be in \[1, 20\], got 0"),
        ([1], 4, 5, ValueError, r"flushed must be in \[0, 4\], got 5"),
        ([1], 12, 2, ValueError, r"flushed must be in \[4, 12\], got 2"),  # 10 staged picks, 8 staged rows
    ],
)
def test_promote_checks(rows, t, flushed, error, message):
    with pytest.raises(error, match=message):
        bind(threads=2).promote(np.array(rows), t, flushed)


@pytest.mark.parametrize(
    "change, error, message",
    [
        ({"ids": np.array([0, N])}, ValueError, r"ids must be pool indices in \[0, 50\), got \[ 0 50\]"),
        ({"ids": np.array([-1, 0])}, ValueError, "ids must be pool indices"),
        ({"t": BUDGET}, ValueError, r"t must be in \[0, 19\], got 20"),
        ({"new_keys": np.ones(1)}, ValueError, r"new_keys must have shape \(m,\) = \(2,\), got \(1,\)"),
        ({"keys": np.zeros((4, BUDGET - 1))}, ValueError, r"keys must have shape \(cap, budget\) = \(4, 20\)"),
        ({"ranks": np.ones((4, BUDGET), dtype=np.int64)}, TypeError, "ranks must be int32, got int64"),
        ({"keys": np.zeros((1, BUDGET))}, ValueError, "ids names 2 hot rows, but keys has room for cap = 1"),
        ({"dg": np.zeros(BUDGET)}, ValueError, r"dg must have shape \(budget \+ 2,\)"),
        ({"exact": read_only(np.zeros(2))}, ValueError, "exact must be writeable"),
    ],
)
def test_update_hot_checks(change, error, message):
    with pytest.raises(error, match=message):
        bind().update_hot(**update_hot_args(**change))


def test_contenders_needs_room_for_one():
    with pytest.raises(ValueError, match="cap must be >= 1, got 0"):
        bind().contenders(0.0, 0)
    with pytest.raises(ValueError, match=r"bounds must have shape \(N,\) = \(50,\), got \(49,\)"):
        bind().contenders(0.0, 1, np.zeros(N - 1))
    with pytest.raises(TypeError, match="bounds must be float64, got float32"):
        bind().contenders(0.0, 1, np.zeros(N, dtype=np.float32))



def stray_nan_key(a, call):
    call["column"][7] = np.nan


def stray_counts(a, call):
    a["below"][7] = 2**30


def stray_ranks(a, call):
    call["ranks"][1] = 2**30  # slot 1 holds row 7


def stray_known(a, call):
    a["known"][7] = 2**40


def stray_sorted_picks(a, call):
    a["known"][7], a["sorted_picks"][7] = 2, 2**31 - 1


def add_bounds_beyond_the_head(kernels, a):
    """add_bounds at t > H, where the key counts are read: every row's bound."""
    call = add_bounds_args(t=H + 2, column=a["staged"][0].copy())

    def go():
        kernels.add_bounds(**call)
        return a["score"]

    return call, go, 7


def update_hot_pushing_down(kernels, a):
    """update_hot of rows 0 and 7 whose earlier keys all rank after the new one (dg[rank] is read)."""
    call = update_hot_args(keys=np.full((4, BUDGET), 5.0), ids=np.array([0, 7]))

    def go():
        kernels.update_hot(**call)
        return call["exact"]

    return call, go, 1


def promote_three(kernels, a):
    """promote of rows 3, 7 and 9 against three staged picks."""
    call = {"rows": np.array([3, 7, 9]), "t": 3, "flushed": 0}
    return call, lambda: kernels.promote(**call), 1


@pytest.mark.parametrize(
    "stray, run",
    [
        (stray_nan_key, add_bounds_beyond_the_head),
        (stray_counts, add_bounds_beyond_the_head),
        (stray_ranks, update_hot_pushing_down),
        (stray_known, promote_three),
        (stray_sorted_picks, promote_three),
    ],
)
def test_stray_state_stays_in_its_row(stray, run):
    """_kernels.c clamps the indices it reads from arrays Python keeps between calls (key counts,
    ranks, remembered key orders) and the bucket of a NaN key: a stray value written into row 7
    after binding must not crash or reach outside the arrays, and every other row's result is
    unchanged. (On 4b67fa6 all but the NaN key segfault; its bucket was an undefined cast.)"""
    staged = np.random.default_rng(5).uniform(0.0, 2.0, (STAGE, N)).astype(np.float32)
    results = []
    for dirty in (False, True):
        a = bound_arrays(staged=staged.copy(), sorted_picks=np.zeros((N, BUDGET), dtype=np.int32))
        kernels = SelectionKernels(released=False, threads=1, **a)
        call, go, row = run(kernels, a)
        if dirty:
            stray(a, call)
        results.append(go().copy())
    clean, dirty = results
    others = np.arange(len(clean)) != row
    assert (clean[others] == dirty[others]).all()
