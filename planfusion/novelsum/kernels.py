"""NovelSelect's per-candidate loops (_kernels.c), called through ctypes.

Why compiled: each pick reads the whole pool once for its distances and then updates a bound for
every candidate, about 30 arithmetic steps a candidate; numpy runs each step as its own pass over
the pool, C runs a candidate's whole update in registers. Promotions merge a candidate's new picks
into its remembered key order, a loop with no numpy form. The passes over the pool (distances,
bounds) and large promotions split their rows over two threads: they are memory-bound, and two
cores draw more bandwidth than one. (With OpenBLAS's gemv in the loop instead, its spinning
threads competed with ours.) The extension is built by ``pip install`` with the system C compiler
(setup.py); the distance loop uses AVX2/FMA where the CPU has them, checked at run time.
"""

from __future__ import annotations

import ctypes

import numpy as np

from planfusion.novelsum import _kernels

_lib = ctypes.CDLL(_kernels.__file__)
_i64, _i32, _f64, _ptr = ctypes.c_int64, ctypes.c_int32, ctypes.c_double, ctypes.c_void_p
_lib.pf_add_bounds.restype = ctypes.c_int
_lib.pf_add_bounds.argtypes = [_i64, _i64, _i64, _i32, _ptr, _i32, _ptr, _f64, _ptr, _ptr, _ptr, _ptr, _i64, _f64]
_lib.pf_add_bounds.argtypes += [_f64, _ptr, _ptr, _f64, _ptr, _i64, _ptr, _i64]
_lib.pf_promote.restype = ctypes.c_int
_lib.pf_promote.argtypes = [_i64, _ptr, _i64, _ptr, _i64, _i64, _ptr, _i64, _i32, _ptr, _ptr, _i32, _ptr, _i32]
_lib.pf_promote.argtypes += [_ptr, _ptr, _ptr, _i64]
_lib.pf_update_hot.restype = None
_lib.pf_update_hot.argtypes = [_i64, _i64, _i64, _ptr, _ptr, _ptr, _ptr, _ptr, _ptr, _ptr, _ptr, _ptr, _ptr]
_lib.pf_distances.restype = None
_lib.pf_distances.argtypes = [_i64, _i64, _ptr, _ptr, _ptr, _i64]
_lib.pf_flush.restype = ctypes.c_int
_lib.pf_flush.argtypes = [_ptr, _i64, _i64, _ptr, _i64, _i64, _i32, _i64]
_lib.pf_contenders.restype = _i64
_lib.pf_contenders.argtypes = [_i64, _ptr, _ptr, _f64, _i64, _ptr, _ptr]


def cosine_distances(unit: np.ndarray, j: int, out: np.ndarray, threads: int = 2) -> np.ndarray:
    """out[i] = clip(1 - <unit[i], unit[j]>, 0, 2) for the (N, D) float32 unit rows, into out (N,)
    float32: one pass over the pool, split over ``threads`` (at most 2) threads."""
    n, dim = unit.shape
    _lib.pf_distances(
        n, dim, _address(unit, np.float32, "unit"), _address(unit[j], np.float32, "unit[j]"),
        _address(out, np.float32, "out"), threads,
    )  # fmt: skip
    return out


def flush_columns(staged: np.ndarray, cols: int, matrix: np.ndarray, at: int, threads: int = 2) -> None:
    """matrix[:, at : at + cols] = staged[:cols].T for staged (STAGE, N) and matrix (N, budget), both
    float32 or both float64, rows split over ``threads`` (at most 2) threads."""
    n, budget = matrix.shape
    if staged.dtype != matrix.dtype or staged.shape[1] != n or not 0 <= at <= budget - cols:
        raise ValueError(f"cannot flush {cols} staged columns {staged.shape} into {matrix.shape} at {at}")
    status = _lib.pf_flush(
        _address(staged, staged.dtype, "staged"), cols, n, _address(matrix, matrix.dtype, "matrix"), budget, at,
        matrix.dtype.itemsize, threads,
    )  # fmt: skip
    if status != 0:
        raise TypeError(f"flush: distances must be float32 or float64, got {matrix.dtype}")


def _address(a: np.ndarray, dtype, name: str) -> int:
    if a.dtype != dtype or not a.flags.c_contiguous:
        raise TypeError(f"{name} must be a C-contiguous {np.dtype(dtype)} array, got {a.dtype}")
    return a.ctypes.data


class SelectionKernels:
    """The compiled loops bound to one selection run's arrays. Their addresses are taken once: a
    pick makes several calls, and numpy's ``.ctypes`` costs about a microsecond an array.

    weight: (N,) sigma^kappa2; pick_weight: (budget,) the picks' weights; head_keys, head_terms:
    (N, H) each candidate's H lowest keys and their terms; head_last: (N,) head_keys[:, -1]; below:
    (N, BUCKETS + 1) int32, each candidate's picks with a key in a bucket lower than b; score: (N,)
    hot rows' exact scores, bounds for the rest, -inf for picked rows; hot: (N,) bool; matrix:
    (N, budget) and staged: (STAGE, N) distances to the picks (float32 or float64); sorted_picks:
    (N, budget) int16 or int32 and known: (N,) int64, each candidate's picks in key order as of its
    last promotion; g: (budget + 2,) rank weights; stairs: (S,) int64 bucket steps. All float
    arrays are float64 unless said.
    """

    def __init__(
        self, *, released: bool, weight, pick_weight, head_keys, head_terms, head_last, below, score, hot,
        matrix, staged, sorted_picks, known, g, stairs, threads: int = 1,
    ):  # fmt: skip
        f64 = np.float64
        self.n, self.h = head_keys.shape
        self.released, self.threads = int(released), threads
        self.buckets = below.shape[1] - 1
        self.budget = matrix.shape[1]
        self.dist_dtype = matrix.dtype
        if staged.dtype != matrix.dtype or matrix.dtype.itemsize not in (4, 8):
            raise TypeError(f"distances must be float32 or float64 alike, got {matrix.dtype} / {staged.dtype}")
        if sorted_picks.dtype.itemsize not in (2, 4):
            raise TypeError(f"sorted_picks must be int16 or int32, got {sorted_picks.dtype}")
        self.weight, self.pick_weight = _address(weight, f64, "weight"), _address(pick_weight, f64, "pick_weight")
        self.head_keys, self.head_terms = _address(head_keys, f64, "head_keys"), _address(head_terms, f64, "head_terms")
        self.head_last, self.below = _address(head_last, f64, "head_last"), _address(below, np.int32, "below")
        self.score, self.hot = _address(score, f64, "score"), _address(hot, np.bool_, "hot")
        self.matrix, self.staged = _address(matrix, matrix.dtype, "matrix"), _address(staged, matrix.dtype, "staged")
        self.sorted_picks = _address(sorted_picks, sorted_picks.dtype, "sorted_picks")
        self.index_bytes = sorted_picks.dtype.itemsize
        self.known, self.g = _address(known, np.int64, "known"), _address(g, f64, "g")
        self.stairs, self.n_stairs = _address(stairs, np.int64, "stairs"), len(stairs)
        self._keep = (weight, pick_weight, head_keys, head_terms, head_last, below, score, hot, matrix, staged)
        self._keep += (sorted_picks, known, g, stairs)  # the addresses stay valid while these live

    def add_bounds(
        self, t: int, column: np.ndarray, pick_weight: float, w_low: float, bucket_scale: float, bucket_offset: float,
        edges: np.ndarray,
    ) -> None:  # fmt: skip
        """Raise every candidate's bound for pick t (column: (N,) distances to it, float32 or float64),
        updating heads and key counts. edges: (BUCKETS + 1,) lower bucket edges."""
        status = _lib.pf_add_bounds(
            self.n, t, self.h, self.released, _address(column, column.dtype, "column"), column.dtype.itemsize,
            self.weight, pick_weight, self.head_keys, self.head_terms, self.head_last, self.below, self.buckets,
            bucket_scale, bucket_offset, _address(edges, np.float64, "edges"), self.g, w_low, self.stairs,
            self.n_stairs, self.score, self.threads,
        )  # fmt: skip
        if status != 0:
            raise TypeError(f"add_bounds: unsupported distance dtype {column.dtype}")

    def promote(self, rows: np.ndarray, t: int, flushed: int) -> np.ndarray:
        """(m,) exact score sums of the candidates ``rows`` against the first t picks (those before
        ``flushed`` in the matrix, the rest staged); their remembered key orders come up to t."""
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        exact = np.empty(len(rows))
        status = _lib.pf_promote(
            len(rows), rows.ctypes.data, t, self.matrix, self.budget, flushed, self.staged, self.n,
            self.dist_dtype.itemsize, self.weight, self.pick_weight, self.released, self.sorted_picks,
            self.index_bytes, self.known, self.g, exact.ctypes.data, self.threads,
        )  # fmt: skip
        if status != 0:
            raise MemoryError(f"promote: no memory for {t} picks' keys")
        return exact

    def update_hot(
        self, t: int, new_keys: np.ndarray, new_terms: np.ndarray, keys: np.ndarray, terms: np.ndarray,
        ranks: np.ndarray, dg: np.ndarray, exact: np.ndarray, ids: np.ndarray,
    ) -> None:  # fmt: skip
        """Exact score changes of the m hot rows for pick t: new_keys, new_terms, exact: (m,) float64;
        keys, terms: (cap, budget) float64 and ranks: (cap, budget) int32 per earlier pick, rows
        0..m-1 in use; dg: (budget + 2,) g[r + 1] - g[r]; ids: (m,) int64 pool indices, whose
        entries of score get the new exact scores."""
        f64 = np.float64
        _lib.pf_update_hot(
            len(ids), t, keys.shape[1], _address(new_keys, f64, "new_keys"), _address(new_terms, f64, "new_terms"),
            _address(keys, f64, "keys"), _address(terms, f64, "terms"), _address(ranks, np.int32, "ranks"), self.g,
            _address(dg, f64, "dg"), _address(exact, f64, "exact"), _address(ids, np.int64, "ids"), self.score,
        )  # fmt: skip

    def contenders(self, best: float, cap: int) -> tuple[np.ndarray, np.ndarray, bool]:
        """The cold candidates (not hot, bound above -inf) whose bound is >= best: the ``cap`` highest
        in decreasing bound (equal bounds: lower index first), their bounds, and whether more than
        ``cap`` qualified."""
        rows, bounds = np.empty(cap, dtype=np.int64), np.empty(cap)
        total = _lib.pf_contenders(self.n, self.score, self.hot, best, cap, rows.ctypes.data, bounds.ctypes.data)
        found = min(total, cap)
        return rows[:found], bounds[:found], total > cap
