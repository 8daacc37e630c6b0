"""Every bad input named in the issue gets a ValueError that says what is wrong."""

import numpy as np
import pytest

from planfusion.novelsum import Density, embedding_density, novel_select, novelsum
from planfusion.novelsum.validation import unit_embeddings

X = np.random.default_rng(0).standard_normal((30, 8))
D = np.abs(np.subtract.outer(np.arange(6.0), np.arange(6.0)))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"budget": 31}, "larger than the pool"),
        ({"budget": 0}, "budget must be an integer >= 1"),
        ({"budget": 5, "k": 30}, "K=30"),
        ({"budget": 5, "kappa1": -1.0}, "kappa1"),
        ({"budget": 5, "kappa2": -0.5}, "kappa2"),
        ({"budget": 5, "variant": "greedy"}, "unknown variant"),
        ({"budget": 5, "metric": "l1"}, "unknown metric"),
        ({"budget": 5, "first": 99}, "first pick"),
    ],
)
def test_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        novel_select(X, **kwargs)


def test_nan_and_infinite_values_name_the_row():
    x = X.copy()
    x[7, 3] = np.nan
    with pytest.raises(ValueError, match=r"NaN or infinite values in rows \[7\]"):
        novel_select(x, 5)
    x[7, 3] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        embedding_density(x, 3)


def test_zero_vector():
    x = X.copy()
    x[4] = 0
    with pytest.raises(ValueError, match=r"zero vectors .* rows \[4\]"):
        novel_select(x, 5)


def test_k_counts_distinct_samples():
    x = np.vstack([X[:3]] * 5)  # 15 rows, 3 distinct
    with pytest.raises(ValueError, match="3"):
        novel_select(x, 2, k=3)


def test_precomputed_must_be_square_and_symmetric():
    with pytest.raises(ValueError, match="square"):
        novel_select(D[:5], 2, k=2, metric="precomputed")
    asym = D.copy()
    asym[0, 1] = 9
    with pytest.raises(ValueError, match="not symmetric"):
        novel_select(asym, 2, k=2, metric="precomputed")
    neg = D.copy()
    neg[0, 1] = neg[1, 0] = -1
    with pytest.raises(ValueError, match="negative"):
        novel_select(neg, 2, k=2, metric="precomputed")


def test_not_two_dimensional():
    with pytest.raises(ValueError, match="2-D"):
        novel_select(np.ones(10), 2)


def test_novelsum_shape_mismatch():
    with pytest.raises(ValueError, match="sigma must have shape"):
        novelsum(X, np.ones(3))


def cosine_matrix(x):
    u = unit_embeddings(x).astype(np.float64)
    d = np.clip(1.0 - u @ u.T, 0.0, 2.0)
    np.fill_diagonal(d, 0.0)
    return (d + d.T) / 2


def _density(sigma=None, neighbours=None, distances=None, k=3):
    """X's own density with some fields replaced."""
    d = embedding_density(X, 3)
    return Density(
        sigma=d.sigma if sigma is None else sigma,
        neighbours=d.neighbours if neighbours is None else neighbours,
        distances=d.distances if distances is None else distances,
        k=k,
    )


@pytest.mark.parametrize("other", [X[:20], np.vstack([X, X[:10] + 1.0])], ids=["smaller", "larger"])
@pytest.mark.parametrize("metric", ["cosine", "precomputed"])
def test_density_of_another_pool(other, metric):
    """A Density of fewer samples would be read out of bounds by the compiled loops; of more, silently
    misaligned with the pool."""
    data = X if metric == "cosine" else cosine_matrix(X)
    expected = rf"density.sigma must have shape \(N,\) = \(30,\) for this pool, got \({len(other)},\)"
    with pytest.raises(ValueError, match=expected):
        novel_select(data, 5, k=3, metric=metric, density=embedding_density(other, 3), first=0)


@pytest.mark.parametrize(
    "fields, error, message",
    [
        ({"sigma": np.ones(30, dtype=np.int64)}, TypeError, "density.sigma must be a floating array, got dtype int64"),
        ({"neighbours": np.zeros((30, 3))}, TypeError, "density.neighbours must be a integer array"),
        ({"distances": np.zeros((30, 3), dtype=np.int32)}, TypeError, "density.distances must be a floating array"),
        ({"k": 2}, ValueError, r"density.neighbours must have shape \(N, k\) = \(30, 2\) .*, got \(30, 3\)"),
        ({"distances": np.zeros((30, 2))}, ValueError, r"density.distances must have shape \(N, k\) = \(30, 3\)"),
        ({"k": 0}, ValueError, "density.k must be an integer >= 1"),
        ({"sigma": np.where(np.arange(30) == 7, np.nan, 1.0)}, ValueError, "finite and > 0, got nan at index 7"),
        ({"sigma": np.where(np.arange(30) == 2, 0.0, 1.0)}, ValueError, "finite and > 0, got 0.0 at index 2"),
        ({"distances": np.full((30, 3), np.inf)}, ValueError, r"density.distances must be finite and >= 0, got inf"),
        ({"distances": -np.ones((30, 3))}, ValueError, r"density.distances must be finite and >= 0, got -1.0"),
    ],
)
def test_bad_density(fields, error, message):
    with pytest.raises(error, match=message):
        novel_select(X, 5, k=3, density=_density(**fields), first=0)


def test_density_must_be_a_density():
    with pytest.raises(TypeError, match="density must be a Density"):
        novel_select(X, 5, k=3, density=np.ones(30))


def test_a_strided_density_is_checked_not_rejected():
    """A valid density in a non-contiguous array is accepted (selection copies sigma^kappa2 anyway)."""
    d = embedding_density(X, 3)
    strided = np.repeat(d.sigma, 2)[::2]
    expected = novel_select(X, 8, k=3, density=d, first=0).order
    assert not strided.flags.c_contiguous
    assert (novel_select(X, 8, k=3, density=_density(sigma=strided), first=0).order == expected).all()
