"""Smoke run of ember.experiments.loss_choice."""

import numpy as np
import pytest
from experiment_checks import arrays_equal, check_repeatable, check_result, smoke_twice

from ember.experiments import loss_choice


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return smoke_twice("loss_choice", tmp_path_factory)


def test_result_has_the_curves_the_plot_needs(runs):
    result = runs[0]
    check_result(result, "loss_choice")
    epochs = loss_choice.SIZES["smoke"]["epochs"]
    assert [(r["task"], r["loss"]) for r in result.table] == [
        (task, label) for task, label, _ in loss_choice.RUNS]
    curves = result.data["curves"]
    assert len(curves) == 4
    for curve in curves.values():
        assert curve["accuracy"].shape == curve["loss"].shape == (epochs + 1,)  # with epoch 0
        assert np.all((curve["accuracy"] >= 0) & (curve["accuracy"] <= 1))
    # the same initialisation for both losses of a task: equal accuracy before training
    assert curves["binary/sigmoid + MSE"]["accuracy"][0] == \
        curves["binary/sigmoid + cross-entropy"]["accuracy"][0]


def test_repeatable(runs):
    check_repeatable(*runs)
    assert arrays_equal(runs[0].data["curves"], runs[1].data["curves"])


def test_sigmoid_mse_matches_its_formula():
    import ember as em

    logits, target = em.tensor([[0.0, 2.0]]), em.tensor([1])
    expected = ((0.5 - 0.0) ** 2 + (1 / (1 + np.exp(-2.0)) - 1.0) ** 2) / 2
    assert loss_choice._sigmoid_mse(logits, target).item() == pytest.approx(expected, rel=1e-6)
