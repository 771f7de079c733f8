"""COCO's detection evaluation (pycocotools' ``COCOeval`` for boxes), rule for rule, in NumPy.

The steps, for every category k, area range a and detection limit m:

1. **IoU** of every detection with every ground-truth box of its image and category
   (``xywh``, in float64): ``inter / (area_d + area_g - inter)``, or ``inter / area_d``
   for a crowd box.
2. **Matching**, per IoU threshold t, detections by decreasing score (ties keep their
   order, at most ``max_dets[-1]`` per image and category): each takes the unmatched
   ground truth of highest IoU >= t (the later one on equal IoU), preferring boxes that
   are not ignored; crowd boxes may match many detections. A ground-truth box is ignored
   when it is a crowd or its area is outside the range; a detection matched to an ignored
   box, or unmatched with an area outside the range, is ignored.
3. **Precision and recall**: the detections of all images sorted by decreasing score
   (stable), the cumulative true and false positives give recall = TP / #(not-ignored
   ground truth) and precision = TP / (TP + FP); precision is made non-increasing from
   the right (the interpolated envelope) and read at each recall threshold r (101
   points, 0:0.01:1) at the first recall >= r (0 beyond the highest recall reached).
4. **Summaries**: AP is the mean of those precisions over thresholds and categories
   (entries of categories without ground truth, -1, left out); AR the mean of the final
   recalls; -1 when nothing is defined.

As in pycocotools, ``AP@[.5:.95]`` and the AR for ``max_dets`` are read at exactly 100
detections (``stats[0]``) and the rest at ``max_dets[2]``; the area ranges are all
[0, 1e10], small [0, 32^2], medium [32^2, 96^2] and large [96^2, 1e10], bounds included.

>>> import numpy as np
>>> gt = [Image(boxes=np.array([[0.0, 0.0, 10.0, 10.0]]), labels=np.array([0]))]
>>> dt = [Image(boxes=np.array([[0.0, 0.0, 9.0, 9.0]]), labels=np.array([0]),
...             scores=np.array([0.9]))]
>>> result = evaluate(gt, dt)          # IoU 81/100: a match for t = 0.5 ... 0.8
>>> round(float(result.stats[0]), 6), round(float(result.stats[1]), 6)
(0.7, 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Image", "Params", "Evaluation", "evaluate", "bbox_iou"]

AREA_RANGES = ((0.0, 1e5**2), (0.0, 32.0**2), (32.0**2, 96.0**2), (96.0**2, 1e5**2))
AREA_LABELS = ("all", "small", "medium", "large")


def default_iou_thresholds() -> np.ndarray:
    """0.50:0.05:0.95, computed as pycocotools does (``np.linspace``)."""
    return np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)


def default_rec_thresholds() -> np.ndarray:
    """0:0.01:1, the 101 recall points, computed as pycocotools does."""
    return np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)


@dataclass
class Image:
    """One image's boxes in ``xywh`` (float64), labels and, for ground truth, crowd flags
    and areas (for detections, scores; their area is w h)."""

    boxes: np.ndarray
    labels: np.ndarray
    scores: np.ndarray | None = None
    iscrowd: np.ndarray | None = None
    area: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.boxes = np.asarray(self.boxes, dtype=np.float64).reshape(-1, 4)
        self.labels = np.asarray(self.labels).reshape(-1).astype(np.int64)
        n = len(self.boxes)
        if self.iscrowd is None:
            self.iscrowd = np.zeros(n, dtype=bool)
        self.iscrowd = np.asarray(self.iscrowd).reshape(-1).astype(bool)
        computed = self.boxes[:, 2] * self.boxes[:, 3]
        area = computed if self.area is None else np.asarray(self.area, np.float64).reshape(-1)
        self.area = np.where(area > 0, area, computed)  # as torchmetrics: <= 0 means unknown


@dataclass
class Params:
    """The evaluation's settings (pycocotools' ``Params`` for boxes)."""

    iou_thresholds: np.ndarray = field(default_factory=default_iou_thresholds)
    rec_thresholds: np.ndarray = field(default_factory=default_rec_thresholds)
    max_dets: tuple = (1, 10, 100)
    area_ranges: tuple = AREA_RANGES
    area_labels: tuple = AREA_LABELS

    def __post_init__(self) -> None:
        self.iou_thresholds = np.asarray(self.iou_thresholds, dtype=np.float64)
        self.rec_thresholds = np.asarray(self.rec_thresholds, dtype=np.float64)
        self.max_dets = tuple(sorted(int(m) for m in self.max_dets))
        if len(self.max_dets) != 3:
            raise ValueError(f"max_dets must be three detection limits (the summaries read "
                             f"the first, second and third), got {self.max_dets}")


@dataclass
class Evaluation:
    """The accumulated result: ``precision`` (T, R, K, A, M), ``recall`` (T, K, A, M) and
    ``scores`` (T, R, K, A, M), -1 where undefined; ``stats`` the 12 COCO summaries;
    ``ious`` the IoU matrix per (image, category) (detections by decreasing score)."""

    params: Params
    categories: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    scores: np.ndarray
    stats: np.ndarray
    ious: dict

    def summarize(self, ap: bool = True, iou_threshold: float | None = None,
                  area: str = "all", max_dets: int = 100, category: int | None = None) -> float:
        """One summary number (pycocotools' ``_summarize``), optionally for one category."""
        p = self.params
        a = [i for i, label in enumerate(p.area_labels) if label == area]
        m = [i for i, limit in enumerate(p.max_dets) if limit == max_dets]
        s = self.precision if ap else self.recall
        if iou_threshold is not None:
            s = s[np.where(iou_threshold == p.iou_thresholds)[0]]
        if category is not None:
            k = np.flatnonzero(self.categories == category)
            s = s[:, :, k] if ap else s[:, k]
        s = s[..., a, :][..., m]
        valid = s[s > -1]
        return -1.0 if valid.size == 0 else float(np.mean(valid))


def bbox_iou(dt: np.ndarray, gt: np.ndarray, iscrowd: np.ndarray) -> np.ndarray:
    """(D, G) IoU of ``xywh`` boxes as pycocotools' ``maskUtils.iou`` computes it: a crowd
    ground truth divides the intersection by the detection's area only."""
    if len(dt) == 0 or len(gt) == 0:
        return np.zeros((len(dt), len(gt)))
    dx, dy, dw, dh = (dt[:, None, i] for i in range(4))
    gx, gy, gw, gh = (gt[None, :, i] for i in range(4))
    w = np.minimum(dw + dx, gw + gx) - np.maximum(dx, gx)
    h = np.minimum(dh + dy, gh + gy) - np.maximum(dy, gy)
    inter = w * h
    da, ga = dw * dh, gw * gh
    union = np.where(iscrowd[None, :], da, da + ga - inter)
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = inter / union
    return np.where((w > 0) & (h > 0), iou, 0.0)


def _match(ious: np.ndarray, thresholds: np.ndarray, gt_ignore: np.ndarray,
           crowd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Greedy matching for every threshold at once; ground truth sorted non-ignored first.

    Returns (matched (T, D) bool, matched-to-an-ignored-box (T, D) bool).
    """
    n_t, (n_d, n_g) = len(thresholds), ious.shape
    dt_matched = np.zeros((n_t, n_d), dtype=bool)
    dt_ignored = np.zeros((n_t, n_d), dtype=bool)
    if n_d == 0 or n_g == 0:
        return dt_matched, dt_ignored
    gt_taken = np.zeros((n_t, n_g), dtype=bool)
    limit = np.minimum(thresholds, 1 - 1e-10)[:, None]
    rows = np.arange(n_t)

    def best_of(candidates: np.ndarray, iou: np.ndarray) -> np.ndarray:
        """Per threshold, the candidate of highest IoU (the later one on ties), or -1."""
        values = np.where(candidates, iou[None, :], -np.inf)
        last = n_g - 1 - np.argmax(values[:, ::-1], axis=1)
        return np.where(candidates.any(axis=1), last, -1)

    for d in range(n_d):
        good = (~gt_taken | crowd[None, :]) & (ious[d][None, :] >= limit)
        regular = best_of(good & ~gt_ignore[None, :], ious[d])
        best = np.where(regular >= 0, regular, best_of(good & gt_ignore[None, :], ious[d]))
        hit = best >= 0
        dt_matched[hit, d] = True
        dt_ignored[hit, d] = gt_ignore[best[hit]]
        gt_taken[rows[hit], best[hit]] = True
    return dt_matched, dt_ignored


def evaluate(ground_truth: list[Image], detections: list[Image], params: Params | None = None,
             categories=None) -> Evaluation:
    """Evaluate detections against ground truth, image by image (the lists align).

    Args:
        ground_truth: one :class:`Image` per image (boxes ``xywh``, labels, crowd flags,
            areas).
        detections: one :class:`Image` per image (boxes ``xywh``, labels, scores).
        params: thresholds, detection limits and area ranges (COCO's by default).
        categories: the category ids to evaluate (default: every label that occurs).

    Returns:
        an :class:`Evaluation` with the precision/recall arrays and the 12 COCO ``stats``.
    """
    p = params or Params()
    if len(ground_truth) != len(detections):
        raise ValueError(f"evaluate: {len(ground_truth)} ground-truth images but "
                         f"{len(detections)} detection images")
    if categories is None:
        labels = [im.labels for im in (*ground_truth, *detections)]
        categories = np.unique(np.concatenate(labels)) if labels else np.zeros(0, np.int64)
    categories = np.asarray(categories, dtype=np.int64)
    per_image, ious = _evaluate_images(ground_truth, detections, p, categories)
    precision, recall, scores = _accumulate(per_image, p, len(categories))
    evaluation = Evaluation(p, categories, precision, recall, scores, np.zeros(12), ious)
    evaluation.stats = _stats(evaluation)
    return evaluation


def _evaluate_images(ground_truth, detections, p: Params, categories):
    """Per category, area range and image: (scores, matched, ignored, gt_ignore) or None."""
    n_a = len(p.area_ranges)
    per_image = [[[None] * len(ground_truth) for _ in range(n_a)] for _ in categories]
    ious = {}
    max_det = p.max_dets[-1]
    for i, (gt, dt) in enumerate(zip(ground_truth, detections, strict=True)):
        for k, category in enumerate(categories):
            g = np.flatnonzero(gt.labels == category)
            d = np.flatnonzero(dt.labels == category)
            if len(g) == 0 and len(d) == 0:
                continue
            d = d[np.argsort(-dt.scores[d], kind="mergesort")][:max_det]
            iou = bbox_iou(dt.boxes[d], gt.boxes[g], gt.iscrowd[g])
            ious[(i, int(category))] = iou
            crowd_all, area_g, area_d = gt.iscrowd[g], gt.area[g], dt.area[d]
            for a, (low, high) in enumerate(p.area_ranges):
                ignore = crowd_all | (area_g < low) | (area_g > high)
                order = np.argsort(ignore, kind="mergesort")
                gt_ignore, crowd = ignore[order], crowd_all[order]
                matched, ignored = _match(iou[:, order], p.iou_thresholds, gt_ignore, crowd)
                outside = (area_d < low) | (area_d > high)
                ignored |= ~matched & outside[None, :]
                per_image[k][a][i] = (dt.scores[d], matched, ignored, gt_ignore)
    return per_image, ious


def _accumulate(per_image, p: Params, n_categories: int):
    """Precision (T, R, K, A, M), recall (T, K, A, M) and scores, as COCOeval.accumulate."""
    n_t, n_r = len(p.iou_thresholds), len(p.rec_thresholds)
    n_a, n_m = len(p.area_ranges), len(p.max_dets)
    precision = -np.ones((n_t, n_r, n_categories, n_a, n_m))
    recall = -np.ones((n_t, n_categories, n_a, n_m))
    scores = -np.ones((n_t, n_r, n_categories, n_a, n_m))
    for k in range(n_categories):
        for a in range(n_a):
            entries = [e for e in per_image[k][a] if e is not None]
            if not entries:
                continue
            gt_ignore = np.concatenate([e[3] for e in entries])
            n_positive = np.count_nonzero(~gt_ignore)
            if n_positive == 0:
                continue
            for m, max_det in enumerate(p.max_dets):
                dt_scores = np.concatenate([e[0][:max_det] for e in entries])
                order = np.argsort(-dt_scores, kind="mergesort")
                sorted_scores = dt_scores[order]
                matched = np.concatenate([e[1][:, :max_det] for e in entries], axis=1)[:, order]
                ignored = np.concatenate([e[2][:, :max_det] for e in entries], axis=1)[:, order]
                tp = np.cumsum(matched & ~ignored, axis=1).astype(float)
                fp = np.cumsum(~matched & ~ignored, axis=1).astype(float)
                n_d = tp.shape[1]
                for t in range(n_t):
                    rc = tp[t] / n_positive
                    pr = tp[t] / (fp[t] + tp[t] + np.spacing(1))
                    recall[t, k, a, m] = rc[-1] if n_d else 0
                    envelope = np.maximum.accumulate(pr[::-1])[::-1] if n_d else pr
                    at = np.searchsorted(rc, p.rec_thresholds, side="left")
                    inside = at < n_d
                    q, s = np.zeros(n_r), np.zeros(n_r)
                    q[inside], s[inside] = envelope[at[inside]], sorted_scores[at[inside]]
                    precision[t, :, k, a, m], scores[t, :, k, a, m] = q, s
    return precision, recall, scores


def _stats(e: Evaluation) -> np.ndarray:
    """The 12 numbers COCOeval.summarize prints, in its order."""
    m = e.params.max_dets
    return np.array([
        e.summarize(True),
        e.summarize(True, iou_threshold=0.5, max_dets=m[2]),
        e.summarize(True, iou_threshold=0.75, max_dets=m[2]),
        e.summarize(True, area="small", max_dets=m[2]),
        e.summarize(True, area="medium", max_dets=m[2]),
        e.summarize(True, area="large", max_dets=m[2]),
        e.summarize(False, max_dets=m[0]),
        e.summarize(False, max_dets=m[1]),
        e.summarize(False, max_dets=m[2]),
        e.summarize(False, area="small", max_dets=m[2]),
        e.summarize(False, area="medium", max_dets=m[2]),
        e.summarize(False, area="large", max_dets=m[2]),
    ])
