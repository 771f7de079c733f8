"""Segmentation metrics against a NumPy confusion-matrix reference written out directly."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.metrics import (
    SegmentationMetrics,
    boundary_f1,
    dice_score,
    mean_iou,
    pixel_accuracy,
    pixel_confusion_matrix,
)


def _reference(pred, target, num_classes, ignore_index=None):
    """Loops over pixels and classes: the definitions, no shared code."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    for p, t in zip(np.ravel(pred), np.ravel(target), strict=True):
        if ignore_index is not None and t == ignore_index:
            continue
        matrix[t, p] += 1
    iou, dice = [], []
    for c in range(num_classes):
        tp = matrix[c, c]
        fp = matrix[:, c].sum() - tp
        fn = matrix[c, :].sum() - tp
        iou.append(tp / (tp + fp + fn) if tp + fp + fn else np.nan)
        dice.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else np.nan)
    iou = np.array(iou)
    return matrix, iou, np.nanmean(iou), np.array(dice), np.trace(matrix) / matrix.sum()


@pytest.mark.parametrize("seed", range(4))
def test_against_the_numpy_reference(seed):
    rng = np.random.default_rng(seed)
    num_classes = int(rng.integers(2, 6))
    target = rng.integers(0, num_classes, (3, 7, 6))
    pred = np.where(rng.random(target.shape) < 0.6, target,
                    rng.integers(0, num_classes, target.shape))
    if seed == 3:  # a class in neither: NaN, left out of the mean
        pred[pred == num_classes - 1] = 0
        target[target == num_classes - 1] = 0
    matrix, iou, miou, dice, accuracy = _reference(pred, target, num_classes)
    np.testing.assert_array_equal(pixel_confusion_matrix(pred, target, num_classes), matrix)
    got_iou, got_miou = mean_iou(pred, target, num_classes)
    np.testing.assert_allclose(got_iou, iou, rtol=1e-12)
    np.testing.assert_allclose(got_miou, miou, rtol=1e-12)
    np.testing.assert_allclose(dice_score(pred, target, num_classes), dice, rtol=1e-12)
    np.testing.assert_allclose(pixel_accuracy(pred, target), accuracy, rtol=1e-12)
    assert np.isnan(got_iou[-1]) == (seed == 3)


def test_scores_are_argmaxed_and_tensors_accepted():
    rng = np.random.default_rng(5)
    scores = rng.standard_normal((2, 4, 5, 5))
    target = rng.integers(0, 4, (2, 5, 5))
    labels = scores.argmax(axis=1)
    expected = mean_iou(labels, target, 4)
    for pred in (scores, em.tensor(scores)):
        got = mean_iou(pred, em.tensor(target), 4)
        np.testing.assert_array_equal(got[0], expected[0])
    single = mean_iou(scores[0], target[0], 4)  # (C, H, W) scores for an (H, W) target
    np.testing.assert_array_equal(single[0], mean_iou(labels[0], target[0], 4)[0])


def test_ignore_index_drops_pixels():
    target = np.array([[0, 1, 255], [1, 255, 0]])
    pred = np.array([[0, 1, 1], [1, 0, 1]])
    matrix, iou, miou, _, accuracy = _reference(pred, target, 2, ignore_index=255)
    np.testing.assert_array_equal(pixel_confusion_matrix(pred, target, 2, 255), matrix)
    np.testing.assert_allclose(mean_iou(pred, target, 2, ignore_index=255)[1], miou)
    assert pixel_accuracy(pred, target, ignore_index=255) == accuracy == 0.75


def test_bad_labels_are_named():
    with pytest.raises(ValueError, match="target holds class 255.*ignore_index"):
        mean_iou([[0, 1]], [[0, 255]], 2)
    with pytest.raises(ValueError, match="pred holds class 3"):
        mean_iou([[0, 3]], [[0, 1]], 2)
    with pytest.raises(ValueError, match=r"pred of shape \(1, 3\) does not match"):
        mean_iou([[0, 1, 1]], [[0, 1]], 2)
    with pytest.raises(ValueError, match="num_classes"):
        mean_iou([[0]], [[0]], 0)
    with pytest.raises(TypeError, match="integer class indices"):
        pixel_accuracy([[0, 1]], [[0.5, 1.0]])


def test_boundary_f1_by_hand():
    target = np.zeros((10, 10), dtype=int)
    target[2:8, 2:8] = 1
    assert boundary_f1(target, target, 2)[1] == 1.0
    shifted = np.roll(target, 1, axis=1)  # edges one pixel off
    exact = boundary_f1(shifted, target, 2, tolerance=0)[0]
    assert exact[1] < 0.6
    assert boundary_f1(shifted, target, 2, tolerance=1)[1] == 1.0
    # a jagged edge on a large region: IoU barely notices, boundary F1 halves
    half = np.zeros((20, 20), dtype=int)
    half[:, :10] = 1
    jagged = half.copy()
    jagged[::2, 10] = 1
    assert mean_iou(jagged, half, 2)[0][1] == 200 / 210
    assert boundary_f1(jagged, half, 2, tolerance=0)[0][1] == 0.5
    assert boundary_f1(jagged, half, 2, tolerance=1)[1] == 1.0
    with pytest.raises(ValueError, match="tolerance"):
        boundary_f1(target, target, 2, tolerance=-1)


def test_accumulated_metrics_equal_the_whole_set_at_once():
    rng = np.random.default_rng(7)
    target = rng.integers(0, 3, (6, 8, 8))
    pred = np.where(rng.random(target.shape) < 0.7, target, rng.integers(0, 3, target.shape))
    metrics = SegmentationMetrics(3, boundary_tolerance=1)
    for i in range(0, 6, 2):
        metrics.update(pred[i:i + 2], target[i:i + 2])
    results = metrics.compute()
    np.testing.assert_allclose(results["iou"], mean_iou(pred, target, 3)[0], rtol=1e-12)
    np.testing.assert_allclose(results["pixel_accuracy"], pixel_accuracy(pred, target))
    np.testing.assert_allclose(results["boundary_f1"], boundary_f1(pred, target, 3, 1)[0],
                               rtol=1e-12)
    matrix = pixel_confusion_matrix(pred, target, 3)
    np.testing.assert_allclose(metrics.class_accuracy(), np.diag(matrix) / matrix.sum(1))
    metrics.reset()
    assert metrics.matrix.sum() == 0
    with pytest.raises(ValueError, match="boundary_tolerance"):
        SegmentationMetrics(3).boundary_f1()


def test_trainer_metric_names():
    from ember.train.metrics import resolve_metrics

    rng = np.random.default_rng(8)
    scores, target = rng.standard_normal((2, 3, 4, 4)), rng.integers(0, 3, (2, 4, 4))
    fns = resolve_metrics(["mean_iou", "pixel_accuracy", "mean_dice"])
    assert fns["mean_iou"](scores, target) == mean_iou(scores, target, 3)[1]
    assert fns["pixel_accuracy"](scores, target) == pixel_accuracy(scores, target)
    np.testing.assert_allclose(fns["mean_dice"](scores, target),
                               np.nanmean(dice_score(scores, target, 3)))
