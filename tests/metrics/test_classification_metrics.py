"""accuracy, top_k_accuracy, confusion_matrix, precision, recall, F1 against
scikit-learn (values, averages, zero_division and its warnings)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember as em
from ember.metrics import (
    UndefinedMetricWarning,
    accuracy,
    confusion_matrix,
    f1_score,
    precision,
    precision_recall_fscore_support,
    recall,
    top_k_accuracy,
)

skm = pytest.importorskip("sklearn.metrics")

labels_pairs = st.integers(1, 40).flatmap(lambda n: st.tuples(
    st.lists(st.integers(0, 4), min_size=n, max_size=n),
    st.lists(st.integers(0, 4), min_size=n, max_size=n)))


def _run(fn, *args, **kwargs):
    """fn's result and the messages of the UndefinedMetricWarnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn(*args, **kwargs)
    return result, sorted(str(w.message) for w in caught
                          if w.category.__name__ == "UndefinedMetricWarning")


OURS = {"precision": precision, "recall": recall, "f1": f1_score}
THEIRS = {"precision": skm.precision_score, "recall": skm.recall_score, "f1": skm.f1_score}


@settings(max_examples=60, deadline=None)
@given(labels_pairs, st.sampled_from([None, "micro", "macro", "weighted"]),
       st.sampled_from(["warn", 0.0, 1.0, np.nan]), st.sampled_from(["precision", "recall",
                                                                     "f1"]))
def test_precision_recall_f1_match_sklearn(pair, average, zero_division, metric):
    target, pred = pair
    ours, our_warnings = _run(OURS[metric], target, pred, average=average,
                              zero_division=zero_division)
    theirs, their_warnings = _run(THEIRS[metric], target, pred, average=average,
                                  zero_division=zero_division)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert our_warnings == their_warnings
    if average is not None:
        assert isinstance(ours, float)


@settings(max_examples=40, deadline=None)
@given(labels_pairs, st.sampled_from([None, "macro", "weighted", "micro"]))
def test_num_classes_counts_absent_classes_as_sklearn_labels(pair, average):
    target, pred = pair
    ours, our_warnings = _run(precision_recall_fscore_support, target, pred, average=average,
                              num_classes=6)
    theirs, their_warnings = _run(skm.precision_recall_fscore_support, target, pred,
                                  average=average, labels=list(range(6)))
    for a, b in zip(ours, theirs, strict=True):
        if b is None:
            assert a is None
        else:
            np.testing.assert_allclose(a, b, rtol=1e-12)
    assert our_warnings == their_warnings


@settings(max_examples=40, deadline=None)
@given(labels_pairs, st.sampled_from([None, "true", "pred", "all"]))
def test_confusion_matrix_matches_sklearn(pair, normalize):
    target, pred = pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = skm.confusion_matrix(target, pred, normalize=normalize)
        theirs_c = skm.confusion_matrix(target, pred, labels=list(range(7)), normalize=normalize)
    np.testing.assert_allclose(confusion_matrix(target, pred, normalize=normalize), theirs)
    np.testing.assert_allclose(confusion_matrix(target, pred, num_classes=7,
                                                normalize=normalize), theirs_c)
    assert np.asarray(confusion_matrix(target, pred)).dtype == np.int64


def test_scores_are_argmaxed_and_any_input_type_works():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((50, 4)).astype(np.float32)
    target = rng.integers(0, 4, 50)
    pred = logits.argmax(1)
    expected = skm.accuracy_score(target, pred)
    assert accuracy(target, logits) == expected
    assert accuracy(em.tensor(target), em.tensor(logits)) == expected
    assert accuracy(em.tensor(logits), target) == expected  # symmetric: scores first is fine
    assert accuracy(target.tolist(), pred.tolist()) == expected
    probabilities = em.softmax(em.tensor(logits, requires_grad=True), dim=1)
    assert accuracy(target, probabilities) == expected  # tensors in the graph are fine
    np.testing.assert_allclose(f1_score(target, logits, average="macro"),
                               skm.f1_score(target, pred, average="macro"))
    np.testing.assert_array_equal(confusion_matrix(em.tensor(target), logits),
                                  skm.confusion_matrix(target, pred))
    assert accuracy([0.0, 1.0, 2.0], [0, 1, 1]) == pytest.approx(2 / 3)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_accuracy_matches_sklearn(k):
    rng = np.random.default_rng(k)
    scores = rng.standard_normal((200, 5))
    scores[:20] = np.round(scores[:20])  # ties are broken as scikit-learn
    target = rng.integers(0, 5, 200)
    theirs = skm.top_k_accuracy_score(target, scores, k=k, labels=list(range(5)))
    assert top_k_accuracy(scores, target, k=k) == pytest.approx(theirs, abs=0)
    assert top_k_accuracy(em.tensor(scores), em.tensor(target), k=k) == pytest.approx(theirs)
    with pytest.warns(UndefinedMetricWarning, match=r"'k' \(5\) greater than or equal"):
        assert top_k_accuracy(scores, target, k=5) == 1.0


def test_errors_are_clear():
    with pytest.raises(ValueError, match="target has 3 samples but pred has 2"):
        accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match=r"pass precision\(target, pred\), in scikit-learn's order"):
        precision(np.zeros((3, 2)), [0, 1, 1])
    with pytest.raises(ValueError, match="non-integer values"):
        recall([0, 1], [0.2, 0.9])
    with pytest.raises(ValueError, match="did you pass the target first"):
        top_k_accuracy([0, 1], np.zeros((2, 3)))
    with pytest.raises(ValueError, match="k must be a positive int"):
        top_k_accuracy(np.zeros((2, 3)), [0, 1], k=0)
    with pytest.raises(ValueError, match="labels must lie in 0..2 for num_classes=3"):
        confusion_matrix([0, 3], [0, 1], num_classes=3)
    with pytest.raises(ValueError, match="average must be one of"):
        f1_score([0, 1], [0, 1], average="binary")
    with pytest.raises(ValueError, match="zero_division"):
        f1_score([0, 1], [0, 1], zero_division=0.5)
    with pytest.raises(ValueError, match="no samples"):
        accuracy([], [])
    with pytest.raises(ValueError, match="normalize"):
        confusion_matrix([0], [0], normalize="rows")
