"""ember explain iou / nms / ap: the worked numbers agree with ember.vision.ops and
ember.metrics, on the command line too."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.cli import main
from ember.explain import average_precision, iou, nms
from ember.metrics import average_precision as voc_ap
from ember.vision import ops


def test_iou_agrees_with_box_iou_and_giou(rng):
    for _ in range(5):
        a, b = rng.uniform(0, 5, 2), rng.uniform(0, 5, 2)
        box_a = [*a, *(a + rng.uniform(0.5, 4, 2))]
        box_b = [*b, *(b + rng.uniform(0.5, 4, 2))]
        e = iou(box_a, box_b)
        pair = em.tensor([box_a], dtype=em.float64), em.tensor([box_b], dtype=em.float64)
        expected = ops.box_iou(*pair).item()
        assert e.result == pytest.approx(expected, rel=1e-12)
        assert e.giou == pytest.approx(ops.generalized_box_iou(*pair).item(), rel=1e-12)
    apart = iou("0 0 1 1", "2 2 3 3")
    assert apart.result == 0 and "do not overlap" in str(apart)
    assert iou("2 2 4 4", "3 3 2 2", fmt="cxcywh").result == iou("0 0 4 4", "2 2 4 4").result
    with pytest.raises(ValueError, match="x2 must be >= x1"):
        iou("4 0 0 4", "0 0 1 1")


def test_nms_agrees_with_ops_nms(rng):
    xy = rng.uniform(0, 20, (12, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(4, 12, (12, 2))], axis=1)
    scores = rng.random(12)
    e = nms(boxes.tolist(), scores.tolist(), 0.3)
    assert e.keep == ops.nms(em.tensor(boxes), em.tensor(scores), 0.3).tolist()
    assert str(e).count("keep box") == len(e.keep)
    with pytest.raises(ValueError, match="3 boxes but 2 scores"):
        nms("0 0 1 1; 0 0 2 2; 1 1 3 3", "0.5 0.4")


@pytest.mark.parametrize("method", ["all", "11point", "101point"])
def test_ap_agrees_with_the_metrics(method):
    scores, matches = [0.95, 0.9, 0.8, 0.7, 0.6, 0.5], [1, 0, 1, 1, 0, 1]
    e = average_precision(scores, matches, positives=5, method=method)
    if method == "101point":
        points = np.linspace(0, 1, 101)
        expected = np.mean([e.precision[e.recall >= t].max(initial=0) for t in points])
    else:
        expected = voc_ap(e.recall, e.precision, method)
    assert e.ap == pytest.approx(expected, abs=1e-12)
    with pytest.raises(ValueError, match="4 true positives but only 3 objects"):
        average_precision(scores, matches, positives=3)
    with pytest.raises(ValueError, match="matches must be 1"):
        average_precision([0.5], [2], positives=1)


def test_the_command_line(capsys):
    assert main(["explain", "iou", "--box-a", "0 0 4 4", "--box-b", "2 2 6 6"]) == 0
    assert "IoU = 4 / 28 = 0.1429" in capsys.readouterr().out
    assert main(["explain", "nms", "--boxes", "0 0 4 4; 1 0 5 4", "--scores", "0.6 0.9"]) == 0
    assert "kept: boxes 1" in capsys.readouterr().out
    assert main(["explain", "ap", "--scores", "0.9 0.8", "--matches", "1 0",
                 "--positives", "2", "--method", "11point"]) == 0
    assert "AP = mean of the 11 values" in capsys.readouterr().out
    assert main(["explain", "iou", "--box-a", "0 0 4", "--box-b", "0 0 1 1"]) == 1
    assert "box A must be 4 numbers" in capsys.readouterr().err
