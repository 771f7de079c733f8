"""Smoke run of ember.experiments.batch_size."""

import numpy as np
import pytest
from experiment_checks import check_repeatable, check_result, smoke_twice

from ember.experiments import batch_size


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return smoke_twice("batch_size", tmp_path_factory)


def test_result_has_the_curves_the_plot_needs(runs):
    result = runs[0]
    check_result(result, "batch_size")
    n = batch_size.SIZES["smoke"]["n_train"]
    assert [r["updates per epoch"] for r in result.table] == [n, -(-n // 32), 1]
    for (label, _, _, epochs), row in zip(batch_size.SIZES["smoke"]["runs"], result.table,
                                          strict=True):
        curve = result.data["curves"][label]
        assert curve["loss"].shape == curve["seconds"].shape == (epochs,)
        assert np.all(np.diff(curve["seconds"]) > 0)  # cumulative training time
        assert row["time per epoch (s)"] > 0


def test_repeatable_apart_from_wall_clock(runs):
    check_repeatable(*runs)
    for label in runs[0].data["curves"]:
        np.testing.assert_array_equal(runs[0].data["curves"][label]["loss"],
                                      runs[1].data["curves"][label]["loss"])
