"""Every number of the worked example in shared/reference/novelsum.md, through the library and the CLI."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from planfusion.novelsum import candidate_scores, novel_select, precomputed_density

EXAMPLE = Path(__file__).parents[2] / "planfusion" / "novelsum" / "examples" / "worked_example.csv"
D = np.array(
    [
        [0, 0.2, 0.8, 0.9, 1.0],
        [0.2, 0, 0.75, 0.85, 0.95],
        [0.8, 0.75, 0, 0.3, 0.35],
        [0.9, 0.85, 0.3, 0, 0.25],
        [1.0, 0.95, 0.35, 0.25, 0],
    ]
)


def test_sigma_excludes_self():
    sigma = precomputed_density(D, k=2).sigma
    np.testing.assert_allclose(sigma, [1.0, 1.052632, 1.538462, 1.818182, 1.666667], atol=1e-6)


@pytest.mark.parametrize(
    "variant, kappa2, order",
    [
        ("magicagent", 1.0, [1, 5, 2, 3, 4]),
        ("released", 1.0, [1, 5, 4, 2, 3]),
        ("magicagent", 0.5, [1, 5, 3, 2, 4]),
        ("released", 0.5, [1, 5, 3, 2, 4]),
    ],
)
def test_pick_order(variant, kappa2, order):
    s = novel_select(D, 5, k=2, kappa1=1.0, kappa2=kappa2, variant=variant, metric="precomputed", first=0)
    assert (s.order + 1).tolist() == order


def test_step_scores():
    w = precomputed_density(D, k=2).sigma  # kappa2 = 1
    # step 2: S = {x1}
    step2 = candidate_scores(D[np.ix_([1, 2, 3, 4], [0])], w[[0]], w[[1, 2, 3, 4]], variant="magicagent", kappa1=1.0)
    np.testing.assert_allclose(step2, [0.2, 0.8, 0.9, 1.0], atol=1e-9)
    # step 3: S = {x1, x5}
    cand, chosen = [1, 2, 3], [0, 4]
    magic = candidate_scores(D[np.ix_(cand, chosen)], w[chosen], w[cand], variant="magicagent", kappa1=1.0)
    np.testing.assert_allclose(magic, [0.991667, 0.983333, 0.866667], atol=1e-6)
    released = candidate_scores(D[np.ix_(cand, chosen)], w[chosen], w[cand], variant="released", kappa1=1.0)
    np.testing.assert_allclose(released, [0.851096, 1.068590, 1.069697], atol=1e-6)


def test_selection_reports_score_at_pick():
    s = novel_select(D, 5, k=2, kappa1=1.0, kappa2=1.0, metric="precomputed", first=0)
    np.testing.assert_allclose(s.scores[:3], [0.0, 1.0, 0.991667], atol=1e-6)
    assert s.contributors[2].tolist()[:2] == [4, 0]  # x2 at step 3: x5's term 0.791667 > x1's 0.2


def test_explain_cli_prints_the_example():
    out = subprocess.run(
        [sys.executable, "-m", "planfusion.cli", "explain", str(EXAMPLE), "--first", "x1", "--kappa2", "1"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "x2  0.991667  <- pick" in out
    assert "x3  0.983333" in out
    assert "order: x1, x5, x2, x3, x4" in out
    assert "1.818182" in out
    released = subprocess.run(
        [sys.executable, "-m", "planfusion.cli", "explain", str(EXAMPLE), "--first", "x1", "--kappa2", "1",
         "--variant", "released"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "x4  1.069697  <- pick" in released and "x2  0.851096" in released and "x3  1.068590" in released
    assert "order: x1, x5, x4, x2, x3" in released
