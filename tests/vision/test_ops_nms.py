"""nms and batched_nms against a direct transcription of the greedy definition (torchvision's
kernel is C++ only): random boxes, many overlaps, tied scores, IoU exactly at the
threshold, empty input, float32."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.vision import ops


def reference_nms(boxes, scores, threshold):
    """The greedy pass written out: visit boxes by decreasing score (ties by index), keep
    one unless a kept box overlaps it with IoU > threshold."""
    order = sorted(range(len(scores)), key=lambda i: (-float(scores[i]), i))
    keep = []
    for i in order:
        suppressed = False
        for j in keep:
            x1, y1 = max(boxes[i][0], boxes[j][0]), max(boxes[i][1], boxes[j][1])
            x2, y2 = min(boxes[i][2], boxes[j][2]), min(boxes[i][3], boxes[j][3])
            inter = max(x2 - x1, 0) * max(y2 - y1, 0)
            area_i = (boxes[i][2] - boxes[i][0]) * (boxes[i][3] - boxes[i][1])
            area_j = (boxes[j][2] - boxes[j][0]) * (boxes[j][3] - boxes[j][1])
            if float(inter / (area_i + area_j - inter)) > threshold:
                suppressed = True
                break
        if not suppressed:
            keep.append(i)
    return keep


def clustered_boxes(rng, n, dtype=np.float64):
    """Boxes jittered around a few centres, so that many overlap."""
    centres = rng.uniform(10, 50, (4, 2))[rng.integers(0, 4, n)]
    xy = centres + rng.normal(0, 3, (n, 2))
    wh = rng.uniform(5, 15, (n, 2))
    return np.concatenate([xy - wh / 2, xy + wh / 2], axis=1).astype(dtype)


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.5, 0.7, 1.0])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nms_matches_the_greedy_definition(rng, threshold, dtype):
    boxes = clustered_boxes(rng, 60, dtype)
    scores = rng.random(60).astype(dtype)
    keep = ops.nms(em.tensor(boxes), em.tensor(scores), threshold)
    assert keep.dtype == em.int64
    assert keep.tolist() == reference_nms(boxes, scores, threshold)
    kept = scores[keep.numpy()]
    assert np.all(np.diff(kept) <= 0)  # by decreasing score


def test_tied_scores_are_visited_in_index_order(rng):
    boxes = clustered_boxes(rng, 40)
    scores = rng.integers(0, 4, 40).astype(np.float64) / 4  # many ties
    keep = ops.nms(em.tensor(boxes), em.tensor(scores), 0.4).tolist()
    assert keep == reference_nms(boxes, scores, 0.4)
    # two identical boxes with one score: the lower index survives
    same = em.tensor([[0.0, 0.0, 2.0, 2.0]] * 3)
    assert ops.nms(same, em.tensor([0.5, 0.5, 0.5]), 0.5).tolist() == [0]


def test_iou_equal_to_the_threshold_is_not_suppressed():
    # the lower half of a square: IoU exactly 0.5
    boxes = em.tensor([[0.0, 0.0, 4.0, 4.0], [0.0, 0.0, 4.0, 2.0]], dtype=em.float64)
    assert ops.box_iou(boxes[:1], boxes[1:]).item() == 0.5
    assert ops.nms(boxes, em.tensor([0.9, 0.8]), 0.5).tolist() == [0, 1]
    assert ops.nms(boxes, em.tensor([0.9, 0.8]), 0.49).tolist() == [0]


def test_empty_input_and_shape_errors():
    keep = ops.nms(em.zeros(0, 4), em.zeros(0), 0.5)
    assert keep.shape == (0,) and keep.dtype == em.int64
    assert ops.batched_nms(em.zeros(0, 4), em.zeros(0), em.zeros(0, dtype=em.int64),
                           0.5).shape == (0,)
    with pytest.raises(ValueError, match=r"nms: expects boxes \(N, 4\) and scores \(N,\)"):
        ops.nms(em.zeros(3, 4), em.zeros(2), 0.5)
    with pytest.raises(ValueError, match="batched_nms: idxs must have shape"):
        ops.batched_nms(em.zeros(3, 4), em.zeros(3), em.zeros(2), 0.5)


@pytest.mark.parametrize("threshold", [0.2, 0.5])
def test_batched_nms_is_nms_within_each_class(rng, threshold):
    boxes = clustered_boxes(rng, 80)
    scores = rng.random(80)
    labels = rng.integers(0, 3, 80)
    keep = ops.batched_nms(em.tensor(boxes), em.tensor(scores), em.tensor(labels), threshold)
    expected = []
    for c in range(3):
        members = np.flatnonzero(labels == c)
        expected += [members[i] for i in reference_nms(boxes[members], scores[members],
                                                       threshold)]
    expected.sort(key=lambda i: (-scores[i], i))
    assert keep.tolist() == expected
