"""Smoke run of ember.experiments.newton, and its Newton step on known problems."""

import numpy as np
import pytest
from experiment_checks import arrays_equal, check_repeatable, check_result, smoke_twice

from ember.experiments import newton
from ember.experiments.optimizers import PROBLEMS


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return smoke_twice("newton", tmp_path_factory)


def test_result_has_the_paths_the_plot_needs(runs):
    result = runs[0]
    check_result(result, "newton")
    steps = newton.SIZES["smoke"]["steps"]
    for problem, (_, start, _) in PROBLEMS.items():
        for method in newton.METHODS:
            path = result.data["paths"][f"{problem}/{method}"]
            np.testing.assert_array_equal(path[0], start)
            if method in ("gradient descent", "momentum"):
                assert path.shape == (steps[problem] + 1, 2)
    assert max(result.data["hessian_errors"].values()) < 1e-10


def test_repeatable(runs):
    check_repeatable(*runs)
    assert arrays_equal(runs[0].data["paths"], runs[1].data["paths"])


@pytest.mark.parametrize("point", [(-1.5, 2.0), (0.3, -0.7), (1.0, 1.0)])
def test_the_automatic_hessian_is_the_analytic_one(point):
    function = PROBLEMS["Rosenbrock valley"][0]
    gradient, hessian = newton.gradient_and_hessian(function, np.array(point))
    x, y = point
    np.testing.assert_allclose(gradient, [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)],
                               atol=1e-12)
    np.testing.assert_allclose(hessian, newton.analytic_hessian("Rosenbrock valley", point),
                               atol=1e-12)


def test_newton_solves_a_quadratic_in_one_step():
    function, start, minimum = PROBLEMS["ravine"]
    path, hessians = newton.newton_path(function, start, steps=10, line_search=False)
    np.testing.assert_allclose(path[1], minimum, atol=1e-12)
    assert hessians == 2  # the second finds the step negligible


def test_the_line_search_never_goes_uphill():
    function, start, _ = PROBLEMS["Rosenbrock valley"]
    path, _ = newton.newton_path(function, start, steps=30, line_search=True)
    losses = [function(p) for p in path]
    assert all(b <= a for a, b in zip(losses, losses[1:], strict=False))
    assert losses[-1] < 1e-20
