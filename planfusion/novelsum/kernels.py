"""NovelSelect's per-candidate loops (_kernels.c), called through ctypes.

Why compiled: each pick reads the whole pool once for its distances and then updates a bound for
every candidate, about 30 arithmetic steps a candidate; numpy runs each step as its own pass over
the pool, C runs a candidate's whole update in registers. Promotions merge a candidate's new picks
into its remembered key order, a loop with no numpy form. The passes over the pool (distances,
bounds) and large promotions split their rows over two threads: they are memory-bound, and two
cores draw more bandwidth than one. (With OpenBLAS's gemv in the loop instead, its spinning
threads competed with ours.) The extension is built by ``pip install`` with the system C compiler
(setup.py); the distance loop uses AVX2/FMA where the CPU has them, checked at run time.

The C code trusts the extents and indices it is given, so each wrapper checks its arrays (shape,
dtype, C-contiguity, writeable where C writes) and index arguments before the call: no Python
input reaches the C code unchecked. SelectionKernels checks its arrays once, when it binds them;
the indices C reads from their contents, which Python may write between calls, are clamped in C.
"""

from __future__ import annotations

import ctypes
import operator

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
_lib.pf_distances_and_bounds.restype = None
_lib.pf_distances_and_bounds.argtypes = [_i64, _i64, _ptr, _ptr, _ptr, _i64, _i64, _i32, _ptr, _f64, _ptr, _ptr]
_lib.pf_distances_and_bounds.argtypes += [_ptr, _ptr, _i64, _f64, _f64, _ptr, _ptr, _f64, _ptr, _i64, _ptr, _i64]
_lib.pf_count_keys.restype = ctypes.c_int
_lib.pf_count_keys.argtypes = [_i64, _i64, _ptr, _i64, _i64, _ptr, _i32, _ptr, _ptr, _i32, _f64, _f64, _i64, _ptr, _i64]
_lib.pf_distances.restype = None
_lib.pf_distances.argtypes = [_i64, _i64, _ptr, _ptr, _ptr, _i64]
_lib.pf_flush.restype = ctypes.c_int
_lib.pf_flush.argtypes = [_ptr, _i64, _i64, _ptr, _i64, _i64, _i32, _i64]
_lib.pf_contenders.restype = _i64
_lib.pf_contenders.argtypes = [_i64, _ptr, _ptr, _f64, _i64, _ptr, _ptr]


_F32, _F64, _I32, _I64 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int32), np.dtype(np.int64)
_DISTANCES = (_F32, _F64)  # the C loops come in float32 and float64 versions
_INDICES = (np.dtype(np.int16), _I32)


def _dims(axes: tuple[str, ...]) -> str:
    return f"({axes[0]},)" if len(axes) == 1 else f"({', '.join(axes)})"


def _shape(a: np.ndarray, name: str, axes: tuple[str, ...]) -> tuple[int, ...]:
    """a's shape, after checking that a is an array with one axis per name in axes."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy array {_dims(axes)}, got {type(a).__name__}")
    if a.ndim != len(axes):
        raise ValueError(f"{name} must have shape {_dims(axes)}, got {a.shape}")
    return a.shape


def _dtype(a: np.ndarray, name: str, allowed: tuple[np.dtype, ...]) -> np.dtype:
    """a's dtype, after checking it is one of those the C code has a version for."""
    if a.dtype not in allowed:
        raise TypeError(f"{name} must be {' or '.join(map(str, allowed))}, got {a.dtype}")
    return a.dtype


def _address(
    a: np.ndarray, name: str, dtype: np.dtype, shape: tuple[int, ...], axes: tuple[str, ...], *, out: bool = False
) -> int:
    """a's data address for the C code, which walks exactly ``shape`` (axes: its names) of ``dtype``
    in C order; out: the C code writes into a."""
    if isinstance(a, np.ndarray) and a.shape == shape and a.dtype == dtype:
        flags = a.flags
        if flags.c_contiguous and (flags.writeable or not out):
            return a.ctypes.data
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy array {_dims(axes)}, got {type(a).__name__}")
    if a.dtype != dtype:
        raise TypeError(f"{name} must be {dtype}, got {a.dtype}")
    if a.shape != shape:
        raise ValueError(f"{name} must have shape {_dims(axes)} = {shape}, got {a.shape}")
    if not a.flags.c_contiguous:
        raise TypeError(f"{name} must be C-contiguous (np.ascontiguousarray)")
    raise ValueError(f"{name} must be writeable: the compiled loop writes into it")


def _integer(value: int, name: str) -> int:
    """value as an int; floats are refused, not truncated."""
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {value!r}") from None


def _index(value: int, name: str, lo: int, hi: int) -> int:
    i = _integer(value, name)
    if not lo <= i <= hi:
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {i}")
    return i


def _threads(threads: int) -> int:
    if isinstance(threads, bool) or _integer(threads, "threads") not in (1, 2):
        raise ValueError(f"threads must be 1 or 2 (the passes split over at most two), got {threads!r}")
    return int(threads)


def cosine_distances(unit: np.ndarray, j: int, out: np.ndarray, threads: int = 2) -> np.ndarray:
    """out[i] = clip(1 - <unit[i], unit[j]>, 0, 2) for the (N, D) float32 unit rows, into out (N,)
    float32: one pass over the pool, split over ``threads`` (1 or 2) threads. j in [0, N)."""
    n, dim = _shape(unit, "unit", ("N", "D"))
    j = _index(j, "j", 0, n - 1)
    x = _address(unit, "unit", _F32, (n, dim), ("N", "D"))
    _lib.pf_distances(
        n, dim, x, x + j * unit.strides[0], _address(out, "out", _F32, (n,), ("N",), out=True), _threads(threads)
    )
    return out


def flush_columns(staged: np.ndarray, cols: int, matrix: np.ndarray, at: int, threads: int = 2) -> None:
    """matrix[:, at : at + cols] = staged[:cols].T for staged (STAGE, N) and matrix (N, budget), both
    float32 or both float64, rows split over ``threads`` (1 or 2) threads."""
    n, budget = _shape(matrix, "matrix", ("N", "budget"))
    stage = _shape(staged, "staged", ("STAGE", "N"))[0]
    dtype = _dtype(matrix, "matrix", _DISTANCES)
    cols, at = _integer(cols, "cols"), _integer(at, "at")
    if not (0 <= cols <= stage and 0 <= at <= budget - cols):
        raise ValueError(f"cannot flush {cols} of {stage} staged columns into {budget} columns at {at}")
    _lib.pf_flush(
        _address(staged, "staged", dtype, (stage, n), ("STAGE", "N")), cols, n,
        _address(matrix, "matrix", dtype, (n, budget), ("N", "budget"), out=True), budget, at,
        dtype.itemsize, _threads(threads),
    )  # fmt: skip


class SelectionKernels:
    """The compiled loops bound to one selection run's arrays. Their addresses are taken, and their
    shapes, dtypes and layout checked, once: a pick makes several calls, and numpy's ``.ctypes``
    costs about a microsecond an array. Each call checks its own arguments.

    weight: (N,) sigma^kappa2; pick_weight: (budget,) the picks' weights; head_keys, head_terms:
    (N, H) each candidate's H lowest keys and their terms, 1 <= H <= budget; head_last: (N,)
    head_keys[:, -1]; below: (N, BUCKETS + 1) int32, each candidate's picks with a key in a bucket
    lower than b, BUCKETS >= 1; score: (N,) hot rows' exact scores, bounds for the rest, -inf for
    picked rows; hot: (N,) bool; matrix: (N, budget) and staged: (STAGE, N) distances to the picks
    (float32 or float64); sorted_picks: (N, budget) int16 or int32 and known: (N,) int64, each
    candidate's picks in key order as of its last promotion; g: (budget + 2,) rank weights; stairs:
    (S,) int64 bucket steps >= 1 (copied). All float arrays are float64 unless said. threads: 1 or 2.
    """

    def __init__(
        self, *, released: bool, weight: np.ndarray, pick_weight: np.ndarray, head_keys: np.ndarray,
        head_terms: np.ndarray, head_last: np.ndarray, below: np.ndarray, score: np.ndarray, hot: np.ndarray,
        matrix: np.ndarray, staged: np.ndarray, sorted_picks: np.ndarray, known: np.ndarray, g: np.ndarray,
        stairs: np.ndarray, threads: int = 1,
    ):  # fmt: skip
        n, h = _shape(head_keys, "head_keys", ("N", "H"))
        budget = _shape(matrix, "matrix", ("N", "budget"))[1]
        if not 1 <= h <= budget:
            raise ValueError(f"head_keys (N, H) = {head_keys.shape} needs 1 <= H <= budget = {budget}")
        buckets = _shape(below, "below", ("N", "BUCKETS + 1"))[1] - 1
        if buckets < 1:
            raise ValueError(f"below (N, BUCKETS + 1) = {below.shape} needs BUCKETS >= 1")
        stage = _shape(staged, "staged", ("STAGE", "N"))[0]
        _shape(stairs, "stairs", ("S",))
        _dtype(stairs, "stairs", (_I64,))
        stairs = stairs.copy()  # private: C adds its entries to bucket indices, so they are checked once
        if (stairs < 1).any():
            raise ValueError(f"stairs must be bucket steps >= 1, got {stairs}")
        self.dist_dtype = _dtype(matrix, "matrix", _DISTANCES)
        self.index_bytes = _dtype(sorted_picks, "sorted_picks", _INDICES).itemsize
        self.n, self.h, self.buckets, self.budget, self.stage = n, h, buckets, budget, stage
        self.released, self.threads = int(released), _threads(threads)
        by_row, by_pick = ((n,), ("N",)), ((n, budget), ("N", "budget"))
        self.weight = _address(weight, "weight", _F64, *by_row)
        self.pick_weight = _address(pick_weight, "pick_weight", _F64, (budget,), ("budget",))
        self.head_keys = _address(head_keys, "head_keys", _F64, (n, h), ("N", "H"), out=True)
        self.head_terms = _address(head_terms, "head_terms", _F64, (n, h), ("N", "H"), out=True)
        self.head_last = _address(head_last, "head_last", _F64, *by_row, out=True)
        self.below = _address(below, "below", _I32, (n, buckets + 1), ("N", "BUCKETS + 1"), out=True)
        self.score = _address(score, "score", _F64, *by_row, out=True)
        self.hot = _address(hot, "hot", np.dtype(np.bool_), *by_row)
        self.matrix = _address(matrix, "matrix", self.dist_dtype, *by_pick)
        self.staged = _address(staged, "staged", self.dist_dtype, (stage, n), ("STAGE", "N"))
        self.sorted_picks = _address(sorted_picks, "sorted_picks", sorted_picks.dtype, *by_pick, out=True)
        self.known = _address(known, "known", _I64, *by_row, out=True)
        self.g = _address(g, "g", _F64, (budget + 2,), ("budget + 2",))
        self.stairs, self.n_stairs = _address(stairs, "stairs", _I64, stairs.shape, ("S",)), len(stairs)
        self._keep = (weight, pick_weight, head_keys, head_terms, head_last, below, score, hot, matrix, staged)
        self._keep += (sorted_picks, known, g, stairs)  # the addresses stay valid while these live

    def add_bounds(
        self, t: int, column: np.ndarray, pick_weight: float, w_low: float, bucket_scale: float, bucket_offset: float,
        edges: np.ndarray,
    ) -> None:  # fmt: skip
        """Raise every candidate's bound for pick t in [0, budget) (column: (N,) distances to it,
        float32 or float64), updating heads and key counts. edges: (BUCKETS + 1,) lower bucket edges."""
        t = _index(t, "t", 0, self.budget - 1)
        dtype = _dtype(column, "column", _DISTANCES)
        _lib.pf_add_bounds(
            self.n, t, self.h, self.released, _address(column, "column", dtype, (self.n,), ("N",)),
            dtype.itemsize, self.weight, pick_weight, self.head_keys, self.head_terms, self.head_last, self.below,
            self.buckets, bucket_scale, bucket_offset,
            _address(edges, "edges", _F64, (self.buckets + 1,), ("BUCKETS + 1",)), self.g, w_low, self.stairs,
            self.n_stairs, self.score, self.threads,
        )  # fmt: skip

    def distances_and_bounds(
        self, unit: np.ndarray, j: int, column: np.ndarray, t: int, pick_weight: float, w_low: float,
        bucket_scale: float, bucket_offset: float, edges: np.ndarray,
    ) -> np.ndarray:  # fmt: skip
        """cosine_distances(unit, j, column) and then add_bounds(t, column, ...) for pick t = pool row j,
        in one pass over the pool: (N, D) float32 unit rows, column (N,) float32 (returned)."""
        n, dim = _shape(unit, "unit", ("N", "D"))
        if n != self.n:
            raise ValueError(f"unit has {n} rows, the selection's pool {self.n}")
        j = _index(j, "j", 0, n - 1)
        t = _index(t, "t", 0, self.budget - 1)
        x = _address(unit, "unit", _F32, (n, dim), ("N", "D"))
        _lib.pf_distances_and_bounds(
            n, dim, x, x + j * unit.strides[0], _address(column, "column", _F32, (n,), ("N",), out=True), t, self.h,
            self.released, self.weight, pick_weight, self.head_keys, self.head_terms, self.head_last,
            self.below, self.buckets, bucket_scale, bucket_offset,
            _address(edges, "edges", _F64, (self.buckets + 1,), ("BUCKETS + 1",)), self.g, w_low, self.stairs,
            self.n_stairs, self.score, self.threads,
        )  # fmt: skip
        return column

    def count_keys(self, t: int, flushed: int, bucket_scale: float, bucket_offset: float) -> None:
        """Recount every candidate's key counts (below) for new bucket edges from its keys to the first t
        picks, 1 <= t <= budget: those before ``flushed`` in the matrix, the rest (at most STAGE) staged."""
        t = _index(t, "t", 1, self.budget)
        flushed = _index(flushed, "flushed", max(0, t - self.stage), t)
        _lib.pf_count_keys(
            self.n, t, self.matrix, self.budget, flushed, self.staged, self.dist_dtype.itemsize, self.weight,
            self.pick_weight, self.released, bucket_scale, bucket_offset, self.buckets, self.below, self.threads,
        )  # fmt: skip

    def promote(self, rows: np.ndarray, t: int, flushed: int) -> np.ndarray:
        """(m,) exact score sums of the candidates ``rows`` (increasing pool indices: each row's key
        order is written by one thread) against the first t picks, 1 <= t <= budget: those before
        ``flushed`` in the matrix, the rest (at most STAGE) staged. Their key orders come up to t."""
        _shape(rows, "rows", ("m",))
        if rows.dtype.kind not in "iu":
            raise TypeError(f"rows must be integer pool indices, got {rows.dtype}")
        rows = np.ascontiguousarray(rows, dtype=_I64)
        if len(rows) and (rows[0] < 0 or rows[-1] >= self.n or (rows[1:] <= rows[:-1]).any()):
            raise ValueError(f"rows must be increasing pool indices in [0, {self.n}), got {rows}")
        t = _index(t, "t", 1, self.budget)
        flushed = _index(flushed, "flushed", max(0, t - self.stage), t)
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
        """Exact score changes of the m hot rows for pick t in [0, budget): new_keys, new_terms, exact:
        (m,) float64; keys, terms: (cap, budget) float64 and ranks: (cap, budget) int32 per earlier
        pick, rows 0..m-1 in use, m <= cap; dg: (budget + 2,) g[r + 1] - g[r]; ids: (m,) int64 pool
        indices, whose entries of score get the new exact scores."""
        m = _shape(ids, "ids", ("m",))[0]
        cap = _shape(keys, "keys", ("cap", "budget"))[0]
        if m > cap:
            raise ValueError(f"ids names {m} hot rows, but keys has room for cap = {cap}")
        t = _index(t, "t", 0, self.budget - 1)
        hot, per_pick = ((m,), ("m",)), ((cap, self.budget), ("cap", "budget"))
        ids_address = _address(ids, "ids", _I64, *hot)
        if m and ids.view(np.uint64).max() >= self.n:  # one pass: negative ids wrap to >= 2**63
            raise ValueError(f"ids must be pool indices in [0, {self.n}), got {ids}")
        _lib.pf_update_hot(
            m, t, self.budget, _address(new_keys, "new_keys", _F64, *hot),
            _address(new_terms, "new_terms", _F64, *hot), _address(keys, "keys", _F64, *per_pick, out=True),
            _address(terms, "terms", _F64, *per_pick, out=True), _address(ranks, "ranks", _I32, *per_pick, out=True),
            self.g, _address(dg, "dg", _F64, (self.budget + 2,), ("budget + 2",)),
            _address(exact, "exact", _F64, *hot, out=True), ids_address, self.score,
        )  # fmt: skip

    def contenders(
        self, best: float, cap: int, bounds: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, bool]:
        """The cold candidates (not hot, bound above -inf) whose bound is >= best: the ``cap`` (>= 1)
        highest in decreasing bound (equal bounds: lower index first), their bounds, and whether more
        than ``cap`` qualified. bounds: (N,) float64 to rank instead of the bound score array (the
        weighted bounds of a weighted selection)."""
        cap = _integer(cap, "cap")
        if cap < 1:  # the C heap starts from bounds[0]
            raise ValueError(f"cap must be >= 1, got {cap}")
        score = self.score if bounds is None else _address(bounds, "bounds", _F64, (self.n,), ("N",))
        rows, found_bounds = np.empty(cap, dtype=_I64), np.empty(cap)
        total = _lib.pf_contenders(self.n, score, self.hot, best, cap, rows.ctypes.data, found_bounds.ctypes.data)
        found = min(total, cap)
        return rows[:found], found_bounds[:found], total > cap
