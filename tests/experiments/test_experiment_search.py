"""Smoke run of ember.experiments.search."""

import numpy as np
import pytest
from experiment_checks import arrays_equal, check_repeatable, check_result, smoke_twice

pytest.importorskip("optuna")

from ember.experiments import search  # noqa: E402


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return smoke_twice("search", tmp_path_factory)


def test_result_compares_grid_random_and_lipo(runs):
    result = runs[0]
    check_result(result, "search")
    size = search.SIZES["smoke"]
    budget = size["grid_points"] ** 2
    grid, random_row = result.table[:2]
    assert grid["method"] == f"grid ({size['grid_points']} learning rates)"
    assert random_row["method"] == f"random ({budget} learning rates)"
    assert grid["mean best"] == pytest.approx(result.data["grid_best"].mean())
    tasks = [row["task"] for row in result.table[2:]]
    assert tasks == [name for name in ("Branin", "Hartmann-6", "Styblinski-Tang 4-d")
                     for _ in range(2)]
    for name, curves in result.data["curves"].items():
        assert curves["LIPO"].shape == (size["function_seeds"], size["function_trials"]), name
        assert np.all(np.diff(curves["LIPO"], axis=1) <= 0)  # best so far


def test_repeatable(runs):
    check_repeatable(*runs)
    assert arrays_equal(runs[0].data["curves"], runs[1].data["curves"])
