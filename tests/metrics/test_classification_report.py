"""classification_report: the same text and dict as scikit-learn's."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember as em
from ember.metrics import classification_report

skm = pytest.importorskip("sklearn.metrics")


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("digits", [2, 4, 6])
def test_text_matches_sklearn(seed, digits):
    rng = np.random.default_rng(seed)
    target, pred = rng.integers(0, 4, 60), rng.integers(0, 4, 60)
    ours = classification_report(target, pred, digits=digits)
    assert ours == skm.classification_report(target, pred, digits=digits)


def test_class_names_absent_classes_and_logits():
    names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "a very long class name"]
    rng = np.random.default_rng(3)
    target = rng.integers(0, 3, 40)  # classes 3 and 4 never appear
    logits = rng.standard_normal((40, 5))
    pred = logits.argmax(1)
    ours = _quiet(classification_report, em.tensor(target), em.tensor(logits),
                  class_names=names)
    theirs = _quiet(skm.classification_report, target, pred, labels=list(range(5)),
                    target_names=names, digits=4)
    assert ours == theirs
    assert "a very long class name" in ours and ours.count("\n") == 11


@pytest.mark.parametrize("zero_division", ["warn", 0.0, 1.0])
def test_dict_matches_sklearn(zero_division):
    target, pred = [0, 1, 1, 2, 2, 2], [0, 1, 0, 2, 2, 0]
    ours = _quiet(classification_report, target, pred, output_dict=True,
                  class_names=["a", "b", "c", "d"], zero_division=zero_division)
    theirs = _quiet(skm.classification_report, target, pred, output_dict=True,
                    labels=[0, 1, 2, 3], target_names=["a", "b", "c", "d"],
                    zero_division=zero_division)
    assert ours.keys() == theirs.keys()
    assert ours["accuracy"] == pytest.approx(theirs["accuracy"])
    for key in ours:
        if key != "accuracy":
            assert ours[key] == pytest.approx(theirs[key])
            assert all(type(v) is float for v in ours[key].values())


def test_report_errors():
    with pytest.raises(ValueError, match="2 class_names but num_classes=3"):
        classification_report([0, 1], [0, 1], class_names=["a", "b"], num_classes=3)
    with pytest.raises(ValueError, match="labels must lie in 0..1"):
        classification_report([0, 2], [0, 1], class_names=["a", "b"])
