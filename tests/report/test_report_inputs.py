"""Inputs that do not describe one pool fail before any work, naming the argument."""

import numpy as np
import pytest

from planfusion.novelsum.synthetic import clustered_embeddings
from planfusion.report import Categories, selection_report

X = clustered_embeddings(40, 8, random_state=0)
SIGMA = np.ones(40)
PICKS = np.arange(10)


@pytest.mark.parametrize(
    "change, error, message",
    [
        ({"embeddings": X[:, 0]}, ValueError, "embeddings must be a 2-D"),
        ({"sigma": np.ones(39)}, ValueError, r"sigma must have shape \(N,\) = \(40,\)"),
        ({"sigma": np.r_[np.ones(39), 0.0]}, ValueError, "sigma must be finite and > 0"),
        ({"sigma": np.ones(40, dtype=int)}, TypeError, "sigma must be a floating"),
        ({"picks": np.array([0, 40])}, ValueError, r"picks must be pool indices in \[0, 40\)"),
        ({"picks": np.array([3, 3])}, ValueError, "picks must not repeat"),
        ({"picks": np.array([[1, 2]])}, ValueError, "picks must be a non-empty 1-D"),
        ({"picks": np.array([1.0, 2.0])}, TypeError, "picks must hold integer"),
        ({"novelty": np.zeros(9)}, ValueError, r"novelty must have shape \(B,\) = \(10,\)"),
        ({"categories": Categories(family=["a"] * 40, subtype=["x"] * 39)}, ValueError,
         r"categories.subtype must have one label per pool item \(40,\)"),
        ({"budgets": [5, 11]}, ValueError, r"budgets must be integers in \[1, 10\]"),
        ({"n_seeds": 1}, ValueError, "n_seeds must be >= 2"),
        ({"kappa2": -1.0}, ValueError, "kappa2"),
        ({"variant": "greedy"}, ValueError, "unknown variant"),
    ],
)
def test_bad_inputs_name_the_argument(change, error, message):
    arguments = {"embeddings": X, "sigma": SIGMA, "picks": PICKS} | change
    with pytest.raises(error, match=message):
        selection_report(arguments.pop("embeddings"), arguments.pop("sigma"), arguments.pop("picks"), **arguments)
