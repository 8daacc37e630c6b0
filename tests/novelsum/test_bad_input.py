"""Every bad input named in the issue gets a ValueError that says what is wrong."""

import numpy as np
import pytest

from planfusion.novelsum import embedding_density, novel_select, novelsum

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
