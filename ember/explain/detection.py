"""Detection, worked by hand: the IoU of two boxes, non-maximum suppression step by step,
and average precision from a ranked list of detections."""

from __future__ import annotations

import numpy as np

from ember.explain.registry import Explanation, option, register
from ember.explain.values import as_int, as_matrix, as_number, as_vector, number

__all__ = ["iou", "nms", "average_precision"]


def _box(value, name: str, fmt: str = "xyxy") -> np.ndarray:
    """A box as (x1, y1, x2, y2), from ``fmt``; a clear error for an inverted one."""
    box = as_vector(value, name)
    if box.size != 4:
        raise ValueError(f"{name} must be 4 numbers ({fmt}), got {box.size}")
    if fmt == "xywh":
        box = np.array([box[0], box[1], box[0] + box[2], box[1] + box[3]])
    elif fmt == "cxcywh":
        box = np.array([box[0] - box[2] / 2, box[1] - box[3] / 2, box[0] + box[2] / 2,
                        box[1] + box[3] / 2])
    elif fmt != "xyxy":
        raise ValueError(f"format must be xyxy, xywh or cxcywh, got {fmt!r}")
    if box[2] < box[0] or box[3] < box[1]:
        raise ValueError(f"{name} = {_text(box)}: x2 must be >= x1 and y2 >= y1")
    return box


def _text(box) -> str:
    return "(" + ", ".join(number(v) for v in box) + ")"


@register("iou", "intersection over union of two boxes (and GIoU)",
          option("--box-a", "box_a", str, 'the first box, e.g. "0 0 4 4"'),
          option("--box-b", "box_b", str, 'the second box, e.g. "2 2 6 6"'),
          option("--format", "fmt", str, "box format: xyxy (corners, default), xywh or "
                 "cxcywh", default="xyxy", choices=("xyxy", "xywh", "cxcywh")))
def iou(box_a, box_b, fmt: str = "xyxy") -> Explanation:
    """Intersection over union of two boxes, with the generalised IoU.

    .. math:: \\mathrm{IoU} = \\frac{|A \\cap B|}{|A| + |B| - |A \\cap B|},\\quad
              \\mathrm{GIoU} = \\mathrm{IoU} - \\frac{|C| - |A \\cup B|}{|C|}

    Args:
        box_a, box_b: 4 numbers each (a list or text ``"x1 y1 x2 y2"``).
        fmt: ``"xyxy"`` (corners, default), ``"xywh"`` or ``"cxcywh"``.

    Returns:
        the working; ``result`` (also ``iou``) is the IoU; ``intersection``, ``union``
        and ``giou`` are attributes.

    >>> import ember as em
    >>> print(em.explain.iou([0, 0, 4, 4], [2, 2, 6, 6]))
    IoU of A = (0, 0, 4, 4) and B = (2, 2, 6, 6) (x1, y1, x2, y2)
      intersection: x from max(0, 2) = 2 to min(4, 6) = 4, width 2
                    y from max(0, 2) = 2 to min(4, 6) = 4, height 2
                    area 2*2 = 4
      area A = (4 - 0)*(4 - 0) = 16
      area B = (6 - 2)*(6 - 2) = 16
      union = 16 + 16 - 4 = 28
      IoU = 4 / 28 = 0.1429
      enclosing box C = (0, 0, 6, 6), area 36
      GIoU = IoU - (C - union) / C = 0.1429 - (36 - 28) / 36 = -0.0794
    """
    a, b = _box(box_a, "box A", fmt), _box(box_b, "box B", fmt)
    left, right = max(a[0], b[0]), min(a[2], b[2])
    top, bottom = max(a[1], b[1]), min(a[3], b[3])
    width, height = max(right - left, 0.0), max(bottom - top, 0.0)
    inter = width * height
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    union = area_a + area_b - inter
    value = inter / union if union > 0 else 0.0
    enclosing = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
    area_c = (enclosing[2] - enclosing[0]) * (enclosing[3] - enclosing[1])
    giou = value - (area_c - union) / area_c if area_c > 0 else value
    lines = [
        f"intersection: x from max({number(a[0])}, {number(b[0])}) = {number(left)} to "
        f"min({number(a[2])}, {number(b[2])}) = {number(right)}, width {number(width)}",
        f"              y from max({number(a[1])}, {number(b[1])}) = {number(top)} to "
        f"min({number(a[3])}, {number(b[3])}) = {number(bottom)}, height {number(height)}",
        f"              area {number(width)}*{number(height)} = {number(inter)}",
        f"area A = ({number(a[2])} - {number(a[0])})*({number(a[3])} - {number(a[1])}) = "
        f"{number(area_a)}",
        f"area B = ({number(b[2])} - {number(b[0])})*({number(b[3])} - {number(b[1])}) = "
        f"{number(area_b)}",
        f"union = {number(area_a)} + {number(area_b)} - {number(inter)} = {number(union)}",
        f"IoU = {number(inter)} / {number(union)} = {number(value)}",
        f"enclosing box C = {_text(enclosing)}, area {number(area_c)}",
        f"GIoU = IoU - (C - union) / C = {number(value)} - ({number(area_c)} - "
        f"{number(union)}) / {number(area_c)} = {number(giou)}",
    ]
    if width == 0 or height == 0:
        lines.insert(3, "the boxes do not overlap: IoU is 0 (GIoU still measures the gap)")
    title = f"IoU of A = {_text(a)} and B = {_text(b)} (x1, y1, x2, y2)"
    return Explanation(title, lines, value, iou=value, intersection=inter, union=union,
                       giou=giou)


@register("nms", "non-maximum suppression of scored boxes, step by step",
          option("--boxes", "boxes", str, 'boxes x1 y1 x2 y2, separated by ";"'),
          option("--scores", "scores", str, "one score per box"),
          option("--iou-threshold", "iou_threshold", as_number,
                 "drop boxes overlapping a kept one by more than this (default 0.5)",
                 default=0.5))
def nms(boxes, scores, iou_threshold: float = 0.5) -> Explanation:
    """Greedy non-maximum suppression with its working: boxes by decreasing score, each
    kept box dropping the later boxes whose IoU with it exceeds the threshold (the rule
    of :func:`ember.vision.ops.nms`).

    Args:
        boxes: (N, 4) ``x1 y1 x2 y2`` (a nested list or text ``"0 0 4 4; 1 1 5 5"``).
        scores: N scores.
        iou_threshold: the suppression threshold (default 0.5).

    Returns:
        the working; ``result`` (also ``keep``) lists the kept boxes' indices.

    >>> import ember as em
    >>> print(em.explain.nms([[0, 0, 4, 4], [1, 0, 5, 4], [6, 6, 8, 8]], [0.6, 0.9, 0.5]))
    Non-maximum suppression of 3 boxes, IoU threshold 0.5
      by decreasing score: box 1 (0.9), box 0 (0.6), box 2 (0.5)
      keep box 1 (score 0.9):
        box 0: IoU 0.6 > 0.5, suppressed
        box 2: IoU 0 <= 0.5, stays
      keep box 2 (score 0.5): no boxes left to compare
      kept: boxes 1, 2
    """
    from ember.vision.ops.nms import nms_steps

    boxes = as_matrix(boxes, "boxes")
    scores = as_vector(scores, "scores")
    if boxes.shape[1] != 4:
        raise ValueError(f"boxes must have 4 numbers each (x1 y1 x2 y2), got {boxes.shape[1]}")
    if len(scores) != len(boxes):
        raise ValueError(f"{len(boxes)} boxes but {len(scores)} scores")
    threshold = float(iou_threshold)
    keep, trace = nms_steps(boxes, scores, threshold)
    order = np.argsort(-scores, kind="stable")
    lines = ["by decreasing score: " + ", ".join(f"box {i} ({number(scores[i])})"
                                                 for i in order)]
    for index, candidates, ious, dropped in trace:
        if not candidates:
            lines.append(f"keep box {index} (score {number(scores[index])}): no boxes left to "
                         "compare")
            continue
        lines.append(f"keep box {index} (score {number(scores[index])}):")
        for j, value, drop in zip(candidates, ious, dropped, strict=True):
            verdict = (f"> {number(threshold)}, suppressed" if drop
                       else f"<= {number(threshold)}, stays")
            lines.append(f"  box {j}: IoU {number(value)} {verdict}")
    lines.append("kept: boxes " + ", ".join(str(int(i)) for i in keep))
    title = (f"Non-maximum suppression of {len(boxes)} boxes, IoU threshold "
             f"{number(threshold)}")
    kept = [int(i) for i in keep]
    return Explanation(title, lines, kept, keep=kept)


def _as_matches(value) -> np.ndarray:
    flags = as_vector(value, "matches")
    if not np.isin(flags, (0, 1)).all():
        raise ValueError("matches must be 1 (true positive) or 0 (false positive) per "
                         "detection")
    return flags.astype(bool)


@register("ap", "average precision of ranked detections: the table and the area",
          option("--scores", "scores", str, "the detections' scores"),
          option("--matches", "matches", str, "1 for a true positive, 0 for a false one, "
                 "per detection"),
          option("--positives", "positives", lambda t: as_int(t, "positives"),
                 "the number of ground-truth objects"),
          option("--method", "method", str, "all (every recall step, VOC 2010+), 11point "
                 "(VOC 2007) or 101point (COCO); default all", default="all",
                 choices=("all", "11point", "101point")))
def average_precision(scores, matches, positives: int, method: str = "all") -> Explanation:
    """Average precision of one class from its ranked detections, worked out: the
    precision-recall table, the interpolated precision p_interp(r) = max_{r' >= r} p(r')
    and the area under it.

    Args:
        scores: one score per detection.
        matches: per detection, 1 if it matched an unmatched ground-truth object
            (a true positive), 0 otherwise.
        positives: the number of ground-truth objects (recall's denominator).
        method: ``"all"`` (sum of recall steps times interpolated precision, VOC 2010+),
            ``"11point"`` (mean at recall 0, 0.1, ..., 1, VOC 2007) or ``"101point"``
            (mean at recall 0, 0.01, ..., 1, COCO).

    Returns:
        the working; ``result`` (also ``ap``) is the AP; ``precision`` and ``recall``
        the curve.

    >>> import ember as em
    >>> print(em.explain.average_precision([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0], positives=3))
    Average precision (all points) of 4 detections, 3 objects
      rank  score  match  TP  FP  precision  recall
         1    0.9     TP   1   0          1  0.3333
         2    0.8     FP   1   1        0.5  0.3333
         3    0.7     TP   2   1     0.6667  0.6667
         4    0.6     FP   2   2        0.5  0.6667
      interpolated precision p(r) = max precision at recall >= r:
        recall 0.3333: 1
        recall 0.6667: 0.6667
      AP = sum (r_k - r_{k-1}) p(r_k)
         = (0.3333 - 0)*1 + (0.6667 - 0.3333)*0.6667
         = 0.5556
    """
    scores = as_vector(scores, "scores")
    flags = _as_matches(matches)
    positives = as_int(positives, "positives")
    if len(flags) != len(scores):
        raise ValueError(f"{len(scores)} scores but {len(flags)} matches")
    if flags.sum() > positives:
        raise ValueError(f"{int(flags.sum())} true positives but only {positives} objects")
    order = np.argsort(-scores, kind="stable")
    flags, scores = flags[order], scores[order]
    tp, fp = np.cumsum(flags), np.cumsum(~flags)
    precision = tp / np.arange(1, len(flags) + 1)
    recall = tp / positives
    header = f"{'rank':>4}  {'score':>5}  {'match':>5}  {'TP':>2}  {'FP':>2}  " \
             f"{'precision':>9}  {'recall':>6}"
    lines = [header]
    for k in range(len(flags)):
        lines.append(f"{k + 1:>4}  {number(scores[k]):>5}  {'TP' if flags[k] else 'FP':>5}  "
                     f"{tp[k]:>2}  {fp[k]:>2}  {number(precision[k]):>9}  "
                     f"{number(recall[k]):>6}")
    envelope = np.maximum.accumulate(precision[::-1])[::-1] if len(flags) else precision
    if method == "all":
        lines.append("interpolated precision p(r) = max precision at recall >= r:")
        steps, terms, previous = [], [], 0.0
        for k in range(len(flags)):
            if flags[k]:  # recall rises only at a true positive
                lines.append(f"  recall {number(recall[k])}: {number(envelope[k])}")
                terms.append(f"({number(recall[k])} - {number(previous)})*"
                             f"{number(envelope[k])}")
                steps.append((recall[k] - previous) * envelope[k])
                previous = recall[k]
        value = float(sum(steps))
        lines += ["AP = sum (r_k - r_{k-1}) p(r_k)",
                  "   = " + (" + ".join(terms) if terms else "0"),
                  f"   = {number(value)}"]
    else:
        points = np.arange(0.0, 1.1, 0.1) if method == "11point" else np.linspace(0, 1, 101)
        values = [float(precision[recall >= t].max(initial=0.0)) for t in points]
        value = float(np.mean(values))
        lines.append(f"interpolated precision at {len(points)} recall points (0 beyond the "
                     "highest recall):")
        if method == "11point":
            lines += [f"  p({number(t)}) = {number(v)}" for t, v in zip(points, values,
                                                                        strict=True)]
        lines += [f"AP = mean of the {len(points)} values = {number(value)}"]
    name = {"all": "all points", "11point": "11 points", "101point": "101 points"}[method]
    title = f"Average precision ({name}) of {len(flags)} detections, {positives} objects"
    return Explanation(title, lines, value, ap=value, precision=precision, recall=recall)
