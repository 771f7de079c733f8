"""Smoke run of ember.experiments.sparsity."""

import numpy as np
import pytest
from experiment_checks import arrays_equal, check_repeatable, check_result, smoke_twice

import ember as em
from ember.experiments import sparsity


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return smoke_twice("sparsity", tmp_path_factory)


def test_result_has_the_weights_the_plot_needs(runs):
    result = runs[0]
    check_result(result, "sparsity")
    hidden = sparsity.SIZES["smoke"]["hidden"]
    assert list(result.data["weights"]) == [label for label, _, _ in sparsity.RUNS]
    for row in result.table:
        w = result.data["weights"][row["penalty"]]
        assert w.shape == (64 * hidden + hidden * 10,)  # weights only, no biases
        assert row["|w| < 0.001"] == pytest.approx(np.mean(np.abs(w) < 1e-3))
        assert row["|w| < 0.001"] <= row["|w| < 0.01"]


def test_repeatable(runs):
    check_repeatable(*runs)
    assert arrays_equal(runs[0].data["weights"], runs[1].data["weights"])


def test_weights_leave_out_the_biases():
    model = em.nn.Sequential(em.nn.Linear(2, 3), em.nn.ReLU(), em.nn.Linear(3, 1))
    assert sparsity.weights(model).shape == (2 * 3 + 3 * 1,)
