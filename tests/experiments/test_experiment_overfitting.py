"""Smoke run of ember.experiments.overfitting."""

import numpy as np
import pytest
from experiment_checks import arrays_equal, check_repeatable, check_result, smoke_twice

import ember as em
from ember.experiments import overfitting


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return smoke_twice("overfitting", tmp_path_factory)


def test_result_has_the_curves_and_gaps_the_plot_needs(runs):
    result = runs[0]
    check_result(result, "overfitting")
    assert [r["regulariser"] for r in result.table] == list(overfitting.RUNS)
    epochs, repeats = (overfitting.SIZES["smoke"][k] for k in ("epochs", "repeats"))
    for row in result.table:
        splits = result.data["per_split"][row["regulariser"]]
        assert len(splits) == repeats
        curve = result.data["curves"][row["regulariser"]]  # the first split's
        assert len(curve["loss"]) == len(curve["val_loss"]) == splits[0]["epochs"] <= epochs
        for measures in splits:
            assert measures["loss gap"] == pytest.approx(measures["test loss"]
                                                         - measures["train loss"])
        assert row["loss gap"] == pytest.approx(np.mean([m["loss gap"] for m in splits]))
        assert row["accuracy gap"] == pytest.approx(row["train accuracy"]
                                                    - row["test accuracy"])


def test_repeatable(runs):
    check_repeatable(*runs)
    assert arrays_equal(runs[0].data["curves"], runs[1].data["curves"])


def test_dropout_network_drops_inputs_and_hidden_units():
    model = overfitting.network("dropout", (16, 16))
    rates = [m.p for m in model.modules() if isinstance(m, em.nn.Dropout)]
    assert rates == [overfitting.DROPOUT[0]] + [overfitting.DROPOUT[1]] * 2
    assert not any(isinstance(m, em.nn.Dropout)
                   for m in overfitting.network("none", (16, 16)).modules())
