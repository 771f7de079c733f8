"""Smoke run of ember.experiments.dying_relu."""

import numpy as np
import pytest
from experiment_checks import arrays_equal, check_repeatable, check_result, smoke_twice

import ember as em
from ember.experiments import dying_relu


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return smoke_twice("dying_relu", tmp_path_factory)


def test_result_has_the_curves_the_plot_needs(runs):
    result = runs[0]
    check_result(result, "dying_relu")
    epochs, width = (dying_relu.SIZES["smoke"][k] for k in ("epochs", "width"))
    assert [r["run"] for r in result.table] == [label for label, _, _ in dying_relu.RUNS]
    for curve in result.data["curves"].values():
        assert curve["inactive"].shape == (epochs + 1,)  # with epoch 0
        assert curve["val_accuracy"].shape == (epochs,)
        assert curve["active_share"].shape == (2 * width,)
        assert np.all((curve["active_share"] >= 0) & (curve["active_share"] <= 1))


def test_repeatable(runs):
    check_repeatable(*runs)
    assert arrays_equal(runs[0].data["curves"], runs[1].data["curves"])


def test_a_unit_with_a_very_negative_bias_is_inactive():
    model = em.nn.Sequential(em.nn.Linear(3, 2), em.nn.ReLU(), em.nn.Linear(2, 2),
                             em.nn.ReLU(), em.nn.Linear(2, 1))
    with em.no_grad():
        model[0].bias.copy_(em.tensor([-100.0, 100.0]))
    share = dying_relu.active_share(model, em.rand(10, 3))
    assert share.shape == (4,)
    assert share[0] == 0.0 and share[1] == 1.0
