"""Smoke run of ember.experiments.xor."""

import numpy as np
import pytest
from experiment_checks import check_repeatable, check_result, smoke_twice

import ember as em
from ember.experiments import xor


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return smoke_twice("xor", tmp_path_factory)


def test_result_has_what_the_plot_needs(runs):
    result = runs[0]
    check_result(result, "xor")
    n, epochs = xor.SIZES["smoke"]["n"], xor.SIZES["smoke"]["epochs"]
    assert result.data["x"].shape == (n, 2) and result.data["y"].shape == (n, 1)
    assert len(result.data["loss"]["logistic"]) == len(result.data["loss"]["network"]) == epochs
    assert set(result.data["solved"]) == {2, 8}


def test_repeatable(runs):
    check_repeatable(*runs)
    np.testing.assert_array_equal(runs[0].data["x"], runs[1].data["x"])


def test_xor_data_labels_are_the_xor_of_the_corners():
    em.manual_seed(0)
    x, y = xor.xor_data(400)
    x, y = x.numpy(), y.numpy()[:, 0]
    near = np.all(np.abs(np.abs(x) - 1) < 0.5, axis=1)  # clearly at one corner
    assert near.sum() > 300
    np.testing.assert_array_equal(y[near], (np.sign(x[near, 0]) != np.sign(x[near, 1])))
    assert 0.35 < y.mean() < 0.65
