"""VOC average precision against a transcription of the reference Python evaluation
(``voc_eval.py``/``voc_ap`` of py-faster-rcnn, with continuous coordinates), and the
precision-recall plot."""

from __future__ import annotations

import numpy as np
import pytest

from ember import metrics
from ember.metrics import average_precision, precision_recall_curves, voc_mean_average_precision


def reference_voc_ap(rec, prec, use_07_metric=False):
    if use_07_metric:
        ap = 0.0
        for t in np.arange(0.0, 1.1, 0.1):
            p = 0 if np.sum(rec >= t) == 0 else np.max(prec[rec >= t])
            ap = ap + p / 11.0
        return ap
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    for i in range(mpre.size - 1, 0, -1):
        mpre[i - 1] = np.maximum(mpre[i - 1], mpre[i])
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1])


def reference_voc_eval(preds, target, cls, threshold, use_07_metric):
    """voc_eval for one class: every image's boxes, detections by decreasing confidence."""
    records = {i: {"bbox": t["boxes"][t["labels"] == cls],
                   "difficult": t["difficult"][t["labels"] == cls],
                   "det": [False] * int((t["labels"] == cls).sum())}
               for i, t in enumerate(target)}
    npos = sum(int((~r["difficult"]).sum()) for r in records.values())
    ids, conf, bb = [], [], []
    for i, p in enumerate(preds):
        for k in np.flatnonzero(p["labels"] == cls):
            ids.append(i)
            conf.append(p["scores"][k])
            bb.append(p["boxes"][k])
    order = np.argsort(-np.array(conf), kind="stable")
    tp, fp = np.zeros(len(order)), np.zeros(len(order))
    for d, k in enumerate(order):
        r, box = records[ids[k]], bb[k]
        ovmax, jmax = -np.inf, -1
        if len(r["bbox"]):
            g = r["bbox"]
            iw = np.maximum(np.minimum(g[:, 2], box[2]) - np.maximum(g[:, 0], box[0]), 0.0)
            ih = np.maximum(np.minimum(g[:, 3], box[3]) - np.maximum(g[:, 1], box[1]), 0.0)
            inters = iw * ih
            uni = ((box[2] - box[0]) * (box[3] - box[1])
                   + (g[:, 2] - g[:, 0]) * (g[:, 3] - g[:, 1]) - inters)
            overlaps = inters / uni
            ovmax, jmax = np.max(overlaps), np.argmax(overlaps)
        if ovmax > threshold:
            if not r["difficult"][jmax]:
                if not r["det"][jmax]:
                    tp[d] = 1.0
                    r["det"][jmax] = True
                else:
                    fp[d] = 1.0
        else:
            fp[d] = 1.0
    fp, tp = np.cumsum(fp), np.cumsum(tp)
    rec = tp / float(npos)
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    return reference_voc_ap(rec, prec, use_07_metric)


def voc_scene(rng, n_images=15):
    preds, target = [], []
    for _ in range(n_images):
        n = rng.integers(1, 6)
        xy = rng.uniform(0, 200, (n, 2))
        boxes = np.concatenate([xy, xy + rng.uniform(10, 80, (n, 2))], axis=1)
        labels = rng.integers(0, 3, n)
        detections = boxes + rng.normal(0, 6, boxes.shape)
        extra = rng.uniform(0, 200, (2, 2))
        detections = np.concatenate([detections, boxes[:1],
                                     np.concatenate([extra, extra + 30], axis=1)])
        preds.append({"boxes": detections, "scores": rng.random(len(detections)),
                      "labels": np.concatenate([labels, labels[:1], rng.integers(0, 3, 2)])})
        target.append({"boxes": boxes, "labels": labels, "difficult": rng.random(n) < 0.15})
    return preds, target


@pytest.mark.parametrize("method", ["all", "11point"])
@pytest.mark.parametrize("threshold", [0.5, 0.3])
def test_voc_map_equals_the_reference_evaluation(method, threshold):
    preds, target = voc_scene(np.random.default_rng(7))
    result = voc_mean_average_precision(preds, target, threshold, method)
    expected = {c: reference_voc_eval(preds, target, c, threshold, method == "11point")
                for c in range(3)}
    for c in range(3):
        assert result["ap_per_class"][c] == pytest.approx(expected[c], abs=1e-12)
    assert result["map"] == pytest.approx(np.mean(list(expected.values())), abs=1e-12)


def test_average_precision_of_simple_curves():
    assert average_precision([], []) == 0.0
    assert average_precision([1.0], [1.0]) == 1.0
    assert average_precision([0.5, 1.0], [1.0, 0.5]) == pytest.approx(0.75)
    for method in ("all", "11point"):
        rec, prec = np.sort(np.random.default_rng(1).random(9)), np.random.default_rng(2).random(9)
        assert average_precision(rec, prec, method) == pytest.approx(
            reference_voc_ap(rec, prec, method == "11point"), abs=1e-15)
    with pytest.raises(ValueError, match="method must be 'all' or '11point'"):
        average_precision([1.0], [1.0], method="101")


def test_precision_recall_curves_and_plot(tmp_path):
    pytest.importorskip("matplotlib")
    preds, target = voc_scene(np.random.default_rng(8), n_images=6)
    curves = precision_recall_curves(preds, target)
    for curve in curves.values():
        assert np.all(np.diff(curve.recall) >= 0)
        assert np.all(np.diff(curve.scores) <= 0)
        assert curve.recall[-1] <= 1.0
    path = metrics.plot_precision_recall(curves, tmp_path / "pr.png", title="VOC")
    assert path.stat().st_size > 1000
    metric = metrics.MeanAveragePrecision()
    metric.update(preds, [{k: v for k, v in t.items() if k != "difficult"} for t in target])
    out = metric.plot_precision_recall(tmp_path / "coco_pr.png", class_names=["a", "b", "c"])
    assert out.stat().st_size > 1000
