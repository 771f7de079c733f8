"""PASCAL VOC's average precision: precision-recall curves of detections per class, and AP
as the area under them, 11-point (VOC 2007) or all-point (VOC 2010 onwards).

The VOC protocol, per class at one IoU threshold (0.5):

1. sort the detections of every image by decreasing score (stable);
2. for each, find the ground-truth box of its image and class with the highest IoU; if
   that IoU exceeds the threshold and the box is not taken, a true positive (the box is
   taken); a taken box, or too little overlap, a false positive; a box marked
   ``difficult`` neither helps nor hurts;
3. recall = TP / #boxes (not difficult), precision = TP / (TP + FP) after each detection.

AP is then the area under the interpolated curve p_interp(r) = max_{r' >= r} p(r'):

* all-point: sum over the recall steps of (r_{i+1} - r_i) p_interp(r_{i+1});
* 11-point: the mean of p_interp(r) at r = 0, 0.1, ..., 1 (0 where r is not reached),
  the points spaced as ``np.arange(0, 1.1, 0.1)`` as in the reference Python evaluation
  (``voc_eval.py``).

Coordinates are continuous (areas ``(x2 - x1)(y2 - y1)``, as everywhere in ember), not the
devkit's inclusive pixels (``x2 - x1 + 1``).

>>> average_precision([0.5, 0.5, 1.0], [1.0, 0.5, 2 / 3])   # 0.5 * 1 + 0.5 * 2/3
0.8333333333333333
>>> round(average_precision([0.5, 0.5, 1.0], [1.0, 0.5, 2 / 3], method="11point"), 6)
0.848485

(six points at precision 1 and five at 2/3: (6 + 5 * 2/3) / 11.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ember.metrics.mean_ap import as_array, to_xywh

__all__ = ["average_precision", "PrecisionRecallCurve", "precision_recall_curves",
           "voc_mean_average_precision"]


def average_precision(recall, precision, method: str = "all") -> float:
    """The area under a precision-recall curve, VOC style.

    Args:
        recall: recall after each detection (non-decreasing).
        precision: precision after each detection.
        method: ``'all'`` (every recall step, VOC 2010+) or ``'11point'`` (VOC 2007).

    Returns:
        AP in [0, 1] (0 for an empty curve).
    """
    recall = np.asarray(recall, dtype=np.float64).reshape(-1)
    precision = np.asarray(precision, dtype=np.float64).reshape(-1)
    if recall.shape != precision.shape:
        raise ValueError(f"average_precision: recall and precision differ in length "
                         f"({recall.size} and {precision.size})")
    if method == "11point":
        return float(sum(precision[recall >= t].max(initial=0.0)
                         for t in np.arange(0.0, 1.1, 0.1)) / 11.0)
    if method != "all":
        raise ValueError(f"average_precision: method must be 'all' or '11point', got "
                         f"{method!r}")
    r = np.concatenate([[0.0], recall, [1.0]])
    p = np.concatenate([[0.0], precision, [0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]  # the envelope: max precision to the right
    steps = np.flatnonzero(r[1:] != r[:-1])
    return float(np.sum((r[steps + 1] - r[steps]) * p[steps + 1]))


@dataclass
class PrecisionRecallCurve:
    """One class's curve: precision and recall after each detection (by decreasing
    ``scores``), whether each was a true positive, and the number of positives."""

    precision: np.ndarray
    recall: np.ndarray
    scores: np.ndarray
    true_positive: np.ndarray
    num_positives: int

    def average_precision(self, method: str = "all") -> float:
        return average_precision(self.recall, self.precision, method)


def _iou_xyxy(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    w = np.maximum(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0)
    h = np.maximum(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0)
    inter = w * h
    union = ((box[2] - box[0]) * (box[3] - box[1])
             + (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) - inter)
    return inter / union


def _xyxy(item: dict, box_format: str, name: str) -> np.ndarray:
    boxes = as_array(item["boxes"], f"{name}['boxes']")
    if boxes.size == 0:
        return np.zeros((0, 4))
    xywh = to_xywh(boxes, box_format)
    return np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)


def precision_recall_curves(preds: list[dict], target: list[dict], iou_threshold: float = 0.5,
                            box_format: str = "xyxy") -> dict[int, PrecisionRecallCurve]:
    """VOC precision-recall curve of every class that has ground truth.

    Args:
        preds: per image, a dict of ``boxes`` (N, 4), ``scores`` (N,), ``labels`` (N,).
        target: per image, a dict of ``boxes`` (M, 4), ``labels`` (M,) and optionally
            ``difficult`` (M,) (boxes that count neither way).
        iou_threshold: a detection must overlap its box by more than this (default 0.5).
        box_format: ``'xyxy'`` (default), ``'xywh'`` or ``'cxcywh'``.

    Returns:
        ``{class: PrecisionRecallCurve}``.
    """
    if len(preds) != len(target):
        raise ValueError(f"precision_recall_curves: {len(preds)} predictions but "
                         f"{len(target)} targets (one of each per image)")
    gts, dets = [], []
    for i, (p, t) in enumerate(zip(preds, target, strict=True)):
        g_labels = as_array(t["labels"], f"target[{i}]['labels']").reshape(-1)
        difficult = as_array(t.get("difficult", np.zeros(len(g_labels))),
                             f"target[{i}]['difficult']").reshape(-1).astype(bool)
        gts.append((_xyxy(t, box_format, f"target[{i}]"), g_labels, difficult))
        dets.append((_xyxy(p, box_format, f"preds[{i}]"),
                     as_array(p["labels"], f"preds[{i}]['labels']").reshape(-1),
                     as_array(p["scores"], f"preds[{i}]['scores']").reshape(-1)))
    classes = np.unique(np.concatenate([g[1] for g in gts])) if gts else []
    curves = {}
    for c in classes:
        records = [(i, j) for i, d in enumerate(dets) for j in np.flatnonzero(d[1] == c)]
        scores = np.array([dets[i][2][j] for i, j in records], dtype=np.float64)
        order = np.argsort(-scores, kind="stable")
        taken = [np.zeros(int((g[1] == c).sum()), dtype=bool) for g in gts]
        tp, fp = np.zeros(len(order)), np.zeros(len(order))
        for n, r in enumerate(order):
            i, j = records[r]
            members = np.flatnonzero(gts[i][1] == c)
            if len(members) == 0:
                fp[n] = 1
                continue
            iou = _iou_xyxy(dets[i][0][j], gts[i][0][members])
            best = int(np.argmax(iou))
            if iou[best] > iou_threshold:
                if gts[i][2][members[best]]:
                    continue  # a difficult box: neither
                if not taken[i][best]:
                    tp[n], taken[i][best] = 1, True
                else:
                    fp[n] = 1
            else:
                fp[n] = 1
        positives = int(sum(((g[1] == c) & ~g[2]).sum() for g in gts))
        tp_sum, fp_sum = np.cumsum(tp), np.cumsum(fp)
        recall = tp_sum / positives if positives else np.zeros_like(tp_sum)
        precision = tp_sum / np.maximum(tp_sum + fp_sum, np.finfo(np.float64).eps)
        counted = (tp + fp) > 0  # difficult matches are left out of the curve
        curves[int(c)] = PrecisionRecallCurve(precision[counted], recall[counted],
                                              scores[order][counted], tp[counted] > 0,
                                              positives)
    return curves


def voc_mean_average_precision(preds: list[dict], target: list[dict],
                               iou_threshold: float = 0.5, method: str = "all",
                               box_format: str = "xyxy") -> dict:
    """VOC mAP: the mean over classes (with ground truth) of the AP of their curves.

    Returns:
        ``{"map": float, "ap_per_class": {class: AP}, "curves": {class: curve}}``.

    >>> import numpy as np
    >>> preds = [dict(boxes=np.array([[0, 0, 10, 10], [20, 20, 30, 30.]]),
    ...               scores=np.array([0.9, 0.8]), labels=np.array([0, 0]))]
    >>> target = [dict(boxes=np.array([[1, 1, 10, 10.]]), labels=np.array([0]))]
    >>> voc_mean_average_precision(preds, target)["map"]   # one hit, then a miss
    1.0
    """
    curves = precision_recall_curves(preds, target, iou_threshold, box_format)
    ap = {c: curve.average_precision(method) for c, curve in curves.items()}
    return {"map": float(np.mean(list(ap.values()))) if ap else -1.0, "ap_per_class": ap,
            "curves": curves}
