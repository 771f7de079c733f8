"""The registry (adding a calculation is one function and a decorator), Explanation, and
reading numbers from text."""

from __future__ import annotations

import numpy as np
import pytest

from ember.explain import Explanation, registry, topics
from ember.explain.values import as_int, as_matrix, as_padding, as_vector, number, signed_sum


def test_every_calculation_is_registered_with_its_options():
    assert list(topics())[:6] == ["conv-output", "receptive-field", "params", "conv", "pool",
                                  "lstm-step"]
    assert {"gaussian-kernel", "sobel", "canny", "otsu", "morphology", "entropy", "backprop",
            "optimizer", "softmax-ce", "metrics", "gru-step", "padding", "dropout", "iou", "nms",
            "ap"} <= set(topics())
    flags = {opt.flag for opt in topics()["conv-output"].options}
    assert flags == {"--width", "--kernel", "--padding", "--stride", "--dilation"}


def test_adding_a_calculation(monkeypatch):
    monkeypatch.setattr(registry, "_TOPICS", dict(registry._TOPICS))  # undone afterwards

    @registry.register("square", "the square of a number",
                       registry.option("--x", "x", float, "the number"))
    def square(x: float) -> Explanation:
        return Explanation("Square", [f"x^2 = {x}*{x} = {x * x}"], x * x, x=x)

    assert topics()["square"].function is square
    assert square(3.0).result == 9.0
    with pytest.raises(ValueError, match="registered twice"):
        registry.register("square", "again")(square)


def test_explanation_carries_the_numbers():
    e = Explanation("T", ["a", "b"], 5, n=2)
    assert str(e) == "T\n  a\n  b" == repr(e)
    assert (e.result, e.n, e.values) == (5, 2, {"n": 2})
    with pytest.raises(AttributeError, match="it has result, n"):
        e.missing  # noqa: B018


def test_reading_numbers():
    np.testing.assert_array_equal(as_matrix("1 0 2; 5, 4, 2\n3 4 5"),
                                  [[1, 0, 2], [5, 4, 2], [3, 4, 5]])
    np.testing.assert_array_equal(as_matrix([1, 2]), [[1, 2]])
    np.testing.assert_array_equal(as_vector("0.5 -1"), [0.5, -1])
    np.testing.assert_array_equal(as_vector("1; 2"), [1, 2])
    np.testing.assert_array_equal(as_vector(3), [3])
    assert as_int("32") == 32 and as_int(4.0) == 4 and as_padding(" Same ") == "same"
    for bad, match in [("1 2; 3", "different lengths"), ("1 x", "could not convert"),
                       ("", "empty"), ("1 nan", "finite")]:
        with pytest.raises(ValueError, match=match):
            as_matrix(bad)
    with pytest.raises(ValueError, match="whole number"):
        as_int("2.5")
    with pytest.raises(ValueError, match="at least 0"):
        as_int(-1, minimum=0)
    with pytest.raises(ValueError, match="non-empty vector"):
        as_vector("1 2; 3 4")


def test_writing_numbers():
    assert [number(v) for v in (2.0, -0.5, 1 / 3, -1e-9, 1234567.0)] == [
        "2", "-0.5", "0.3333", "0", "1234567"]
    assert signed_sum([-1, 0, 2, -5]) == "-1 + 0 + 2 - 5"
