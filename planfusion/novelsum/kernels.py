"""NovelSelect's per-candidate loops (_kernels.c), called through ctypes.

Why compiled: each pick updates a bound for every candidate of the pool, about 30 arithmetic steps
a candidate; numpy runs each step as its own pass over the pool, C runs a candidate's whole update
in registers. The extension is built by ``pip install`` with the system C compiler (setup.py).
"""

from __future__ import annotations

import ctypes

import numpy as np

from planfusion.novelsum import _kernels

_lib = ctypes.CDLL(_kernels.__file__)
_i64, _i32, _f64, _ptr = ctypes.c_int64, ctypes.c_int32, ctypes.c_double, ctypes.c_void_p
_lib.pf_add_bounds.restype = ctypes.c_int
_lib.pf_add_bounds.argtypes = [_i64, _i64, _i64, _i32, _ptr, _i32, _ptr, _f64, _ptr, _ptr, _ptr, _ptr, _i64, _f64]
_lib.pf_add_bounds.argtypes += [_f64, _ptr, _ptr, _f64, _ptr, _i64, _ptr]
_lib.pf_promote.restype = ctypes.c_int
_lib.pf_promote.argtypes = [_i64, _ptr, _i64, _ptr, _i64, _i64, _ptr, _i64, _i32, _ptr, _ptr, _i32, _ptr, _i32]
_lib.pf_promote.argtypes += [_ptr, _ptr, _ptr]
_lib.pf_contenders.restype = _i64
_lib.pf_contenders.argtypes = [_i64, _ptr, _ptr, _f64, _i64, _ptr, _ptr]


def _address(a: np.ndarray, dtype) -> int:
    if a.dtype != dtype or not a.flags.c_contiguous:
        raise TypeError(f"kernel argument must be C-contiguous {np.dtype(dtype)}, got {a.dtype}")
    return a.ctypes.data


def add_bounds(
    t: int,
    released: bool,
    column: np.ndarray,
    weight: np.ndarray,
    pick_weight: float,
    head_keys: np.ndarray,
    head_terms: np.ndarray,
    head_last: np.ndarray,
    below: np.ndarray,
    bucket_scale: float,
    bucket_offset: float,
    edges: np.ndarray,
    g: np.ndarray,
    w_low: float,
    stairs: np.ndarray,
    score: np.ndarray,
) -> None:
    """Raise every candidate's score bound for pick t, updating its head and key counts in place.

    column: (N,) distances to pick t, float32 or float64; weight, head_last, score: (N,) float64;
    head_keys, head_terms: (N, H) float64; below: (N, BUCKETS + 1) int32; edges: (BUCKETS + 1,);
    g: (budget + 2,); stairs: (S,) int64.
    """
    n, h = head_keys.shape
    status = _lib.pf_add_bounds(
        n, t, h, int(released), _address(column, column.dtype), column.dtype.itemsize, _address(weight, np.float64),
        pick_weight, _address(head_keys, np.float64), _address(head_terms, np.float64),
        _address(head_last, np.float64), _address(below, np.int32), below.shape[1] - 1, bucket_scale, bucket_offset,
        _address(edges, np.float64), _address(g, np.float64), w_low, _address(stairs, np.int64), len(stairs),
        _address(score, np.float64),
    )  # fmt: skip
    if status != 0:
        raise TypeError(f"add_bounds: unsupported distance dtype {column.dtype}")


def promote(
    rows: np.ndarray,
    t: int,
    matrix: np.ndarray,
    flushed: int,
    staged: np.ndarray,
    weight: np.ndarray,
    pick_weight: np.ndarray,
    released: bool,
    sorted_picks: np.ndarray,
    known: np.ndarray,
    g: np.ndarray,
) -> np.ndarray:
    """(m,) exact score sums of the candidates ``rows`` against the first t picks.

    matrix: (N, budget) distances to picks before ``flushed``; staged: (N, STAGE) distances to the
    picks from ``flushed`` on (both float32 or both float64); weight: (N,) float64; pick_weight:
    (budget,) float64, the picks' weights; sorted_picks: (N, budget) int16 or int32 and known: (N,)
    int64, each candidate's picks in key order as of its last promotion, brought up to t here.
    """
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    exact = np.empty(len(rows))
    status = _lib.pf_promote(
        len(rows), rows.ctypes.data, t, _address(matrix, matrix.dtype), matrix.shape[1], flushed,
        _address(staged, matrix.dtype), staged.shape[1], matrix.dtype.itemsize, _address(weight, np.float64),
        _address(pick_weight, np.float64), int(released), _address(sorted_picks, sorted_picks.dtype),
        sorted_picks.dtype.itemsize, _address(known, np.int64), _address(g, np.float64), exact.ctypes.data,
    )  # fmt: skip
    if status == -1:
        raise MemoryError(f"promote: no memory for {t} picks' keys")
    if status != 0:
        raise TypeError(f"promote: unsupported dtypes {matrix.dtype} / {sorted_picks.dtype}")
    return exact


def contenders(score: np.ndarray, hot: np.ndarray, best: float, cap: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """The cold candidates (not ``hot``, bound above -inf) whose bound in ``score`` is >= best: the
    ``cap`` highest, in decreasing bound (equal bounds: lower index first), their bounds, and whether
    more qualified than ``cap``. score: (N,) float64; hot: (N,) bool."""
    rows, bounds = np.empty(cap, dtype=np.int64), np.empty(cap)
    total = _lib.pf_contenders(
        len(score), _address(score, np.float64), _address(hot, np.bool_), best, cap, rows.ctypes.data, bounds.ctypes.data
    )
    found = min(total, cap)
    return rows[:found], bounds[:found], total > cap
