"""Smoke run of ember.experiments.optimizers."""

import numpy as np
import pytest
from experiment_checks import arrays_equal, check_repeatable, check_result, smoke_twice

from ember.experiments import optimizers


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return smoke_twice("optimizers", tmp_path_factory)


def test_result_has_the_paths_the_plot_needs(runs):
    result = runs[0]
    check_result(result, "optimizers")
    steps = optimizers.SIZES["smoke"]["steps"]
    for problem, (_, start, _) in optimizers.PROBLEMS.items():
        for name in optimizers.OPTIMIZERS:
            path = result.data["paths"][f"{problem}/{name}"]
            assert path.shape == (steps[problem] + 1, 2)
            np.testing.assert_array_equal(path[0], start)
    assert set(result.data["digits"]) == set(optimizers.OPTIMIZERS)
    rows = [r for r in result.table if r["problem"] == "ravine"]
    lr = {r["optimizer"]: r["lr"] for r in rows}
    assert lr["momentum"] == lr["Nesterov"] == lr["SGD"]  # they differ by momentum alone


def test_repeatable(runs):
    check_repeatable(*runs)
    assert arrays_equal(runs[0].data["paths"], runs[1].data["paths"])


def test_the_valleys_have_their_minimum_where_the_plot_puts_it():
    for function, _, minimum in optimizers.PROBLEMS.values():
        assert function(np.array(minimum)) == pytest.approx(0.0, abs=1e-12)
        assert function(np.array(minimum) + 0.1) > 0


def test_turn_backs_counts_reversals():
    zigzag = np.array([[0, 0], [1, 1], [2, 0], [3, 1], [4, 0]], dtype=float)
    assert optimizers.turn_backs(zigzag) == 0.0  # 90 degrees is not turning back
    back_and_forth = np.array([[0, 0], [1, 0], [0.5, 0], [1.0, 0]])
    assert optimizers.turn_backs(back_and_forth) == 1.0
