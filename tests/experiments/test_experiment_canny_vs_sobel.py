"""Smoke run of ember.experiments.canny_vs_sobel, and its F1 measure."""

import numpy as np
import pytest
from experiment_checks import arrays_equal, check_repeatable, check_result, smoke_twice

from ember.experiments import canny_vs_sobel


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return smoke_twice("canny_vs_sobel", tmp_path_factory)


def test_result_and_table(runs):
    result = runs[0]
    check_result(result, "canny_vs_sobel")
    assert [row["sigma"] for row in result.table] == list(canny_vs_sobel.SIZES["smoke"]["sigmas"])
    for row in result.table:
        assert 0 <= row["Sobel F1"] <= 1 and 0 <= row["Canny F1"] <= 1
    assert result.data["truth"].dtype == bool and result.data["truth"].any()


def test_repeatable(runs):
    check_repeatable(*runs)
    assert arrays_equal(runs[0].data["noisy"], runs[1].data["noisy"])


def test_f1_with_one_pixel_tolerance():
    truth = np.zeros((8, 8), bool)
    truth[:, 3] = True
    assert canny_vs_sobel.f1_score(truth, truth) == (1.0, 1.0, 1.0)
    shifted = np.roll(truth, 1, axis=1)  # one pixel off still counts
    assert canny_vs_sobel.f1_score(shifted, truth)[2] == 1.0
    thick = truth | np.roll(truth, 1, axis=1) | np.roll(truth, 3, axis=1)
    precision, recall, f1 = canny_vs_sobel.f1_score(thick, truth)
    assert (precision, recall) == (pytest.approx(2 / 3), 1.0)
    assert canny_vs_sobel.f1_score(np.zeros_like(truth), truth) == (0.0, 0.0, 0.0)
