"""``MeanAveragePrecision``: COCO's mAP and mAR for object detection, with torchmetrics'
interface and pycocotools' numbers.

Feed it, image by image, the predicted boxes with their scores and labels and the
ground-truth boxes with their labels; ``compute()`` returns COCO's twelve summaries
(:mod:`ember.metrics.coco_eval` has the algorithm):

* ``map``: AP averaged over IoU thresholds 0.50:0.05:0.95 and classes (101-point
  interpolated precision); ``map_50``, ``map_75`` at one threshold; ``map_small``,
  ``map_medium``, ``map_large`` for ground truth of area < 32^2, in [32^2, 96^2], > 96^2;
* ``mar_1``, ``mar_10``, ``mar_100``: the recall reached with at most 1, 10, 100
  detections per image, averaged over thresholds and classes; ``mar_small/medium/large``;
* ``map_per_class``, ``mar_100_per_class`` (with ``class_metrics=True``, else -1) and
  ``classes``: every label seen in predictions or targets.

A value is -1 where it is undefined (no ground truth of that size, say).

>>> import ember as em
>>> preds = [dict(boxes=em.tensor([[258.0, 41.0, 606.0, 285.0]]), scores=em.tensor([0.536]),
...               labels=em.tensor([0]))]
>>> target = [dict(boxes=em.tensor([[214.0, 41.0, 562.0, 285.0]]), labels=em.tensor([0]))]
>>> metric = em.metrics.MeanAveragePrecision()
>>> metric.update(preds, target)
>>> result = metric.compute()
>>> result["map"], result["map_50"], result["map_75"], result["map_small"]
(tensor(0.6000), tensor(1.), tensor(1.), tensor(-1.))
"""

from __future__ import annotations

import numpy as np

from ember.metrics.coco_eval import Image, Params, evaluate
from ember.tensor import Tensor

__all__ = ["MeanAveragePrecision"]

BOX_FORMATS = ("xyxy", "xywh", "cxcywh")


def as_array(x, name: str) -> np.ndarray:
    """An ember tensor, a NumPy array, a list or a PyTorch tensor as an array."""
    if isinstance(x, Tensor):
        return x.detach().numpy()
    if hasattr(x, "detach") and hasattr(x, "numpy"):
        return x.detach().cpu().numpy()
    try:
        return np.asarray(x)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a tensor or an array, got {type(x).__name__}") from None


def to_xywh(boxes: np.ndarray, box_format: str) -> np.ndarray:
    """Boxes as ``xywh`` in float64, converted in their own precision (as torchvision's
    ``box_convert`` on the tensor's dtype would)."""
    boxes = boxes.reshape(-1, 4)
    if boxes.dtype.kind != "f":
        boxes = boxes.astype(np.float32)
    if box_format == "cxcywh":
        half = boxes[:, 2:] * boxes.dtype.type(0.5)
        boxes = np.concatenate([boxes[:, :2] - half, boxes[:, :2] + half], axis=1)
        box_format = "xyxy"
    if box_format == "xyxy":
        boxes = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)
    return boxes.astype(np.float64)


def read_images(items, kind: str, box_format: str) -> list[Image]:
    """Validate a list of per-image dicts and convert them to :class:`Image` records."""
    if not isinstance(items, (list, tuple)):
        raise ValueError(f"{kind} must be a list of dicts (one per image), got "
                         f"{type(items).__name__}")
    needed = ("boxes", "scores", "labels") if kind == "preds" else ("boxes", "labels")
    images = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValueError(f"{kind}[{i}] must be a dict, got {type(item).__name__}")
        missing = [key for key in needed if key not in item]
        if missing:
            raise ValueError(f"{kind}[{i}] has no {', '.join(repr(k) for k in missing)} "
                             f"(expected keys {', '.join(needed)})")
        boxes = as_array(item["boxes"], f"{kind}[{i}]['boxes']")
        labels = as_array(item["labels"], f"{kind}[{i}]['labels']").reshape(-1)
        if boxes.size and (boxes.ndim != 2 or boxes.shape[1] != 4):
            raise ValueError(f"{kind}[{i}]['boxes'] must have shape (N, 4), got {boxes.shape}")
        if labels.dtype.kind not in "iub" and labels.size:
            raise ValueError(f"{kind}[{i}]['labels'] must be integers, got {labels.dtype}")
        n = boxes.shape[0] if boxes.size else 0
        fields = {"labels": labels}
        if kind == "preds":
            fields["scores"] = as_array(item["scores"], f"{kind}[{i}]['scores']").reshape(-1)
        else:
            for key in ("iscrowd", "area"):
                if key in item:
                    fields[key] = as_array(item[key], f"{kind}[{i}][{key!r}]").reshape(-1)
        for key, value in fields.items():
            if len(value) != n:
                raise ValueError(f"{kind}[{i}]: {n} boxes but {len(value)} {key}")
        images.append(Image(boxes=to_xywh(boxes, box_format) if n else np.zeros((0, 4)),
                            **fields))
    return images


def _value(x: float) -> Tensor:
    return Tensor._wrap(np.asarray(x, dtype=np.float32))


def _squeezed(values, dtype) -> Tensor:
    """torchmetrics' convention: a one-element result is a 0-d tensor."""
    array = np.asarray(values, dtype=dtype)
    return Tensor._wrap(array.reshape(()) if array.size == 1 else array)


class MeanAveragePrecision:
    """COCO mean average precision and recall of boxes (torchmetrics' interface).

    Args:
        box_format: ``'xyxy'`` (default), ``'xywh'`` or ``'cxcywh'``, for predictions and
            targets alike (absolute image coordinates).
        iou_type: ``'bbox'`` (the only type supported).
        iou_thresholds: IoU thresholds (default 0.50:0.05:0.95).
        rec_thresholds: recall points (default 0:0.01:1, 101 points).
        max_detection_thresholds: three per-image detection limits (default [1, 10, 100]).
        class_metrics: also compute mAP and mAR per class.
        extended_summary: also return ``ious`` (per (image, class)), ``precision``
            (T, R, K, A, M), ``recall`` (T, K, A, M) and ``scores`` (T, R, K, A, M).
        average: ``'macro'`` (mean over classes) or ``'micro'`` (every box one class).

    ``update(preds, target)`` takes one list entry per image: ``preds`` dicts of
    ``boxes`` (N, 4), ``scores`` (N,), ``labels`` (N,); ``target`` dicts of ``boxes``
    (M, 4), ``labels`` (M,) and optionally ``iscrowd`` (M,) and ``area`` (M,) (by default
    the box area). The numbers equal those of pycocotools' ``COCOeval`` on the same
    boxes, with every label that occurs as a category. The default thresholds are
    pycocotools' own (float64 ``np.linspace``); torchmetrics hands COCOeval float32-rounded
    ones, which can only matter for an IoU within 1e-8 of a threshold.
    """

    def __init__(self, box_format: str = "xyxy", iou_type: str = "bbox",
                 iou_thresholds: list[float] | None = None,
                 rec_thresholds: list[float] | None = None,
                 max_detection_thresholds: list[int] | None = None,
                 class_metrics: bool = False, extended_summary: bool = False,
                 average: str = "macro") -> None:
        if box_format not in BOX_FORMATS:
            raise ValueError(f"MeanAveragePrecision: box_format must be one of "
                             f"{', '.join(BOX_FORMATS)}, got {box_format!r}")
        if iou_type != "bbox":
            raise ValueError(f"MeanAveragePrecision: iou_type {iou_type!r} is not supported; "
                             "only 'bbox' (boxes) is")
        if average not in ("macro", "micro"):
            raise ValueError(f"MeanAveragePrecision: average must be 'macro' or 'micro', got "
                             f"{average!r}")
        for name, value in (("class_metrics", class_metrics),
                            ("extended_summary", extended_summary)):
            if not isinstance(value, bool):
                raise ValueError(f"MeanAveragePrecision: {name} must be a bool, got {value!r}")
        for name, value in (("iou_thresholds", iou_thresholds),
                            ("rec_thresholds", rec_thresholds),
                            ("max_detection_thresholds", max_detection_thresholds)):
            if value is not None and not isinstance(value, (list, tuple)):
                raise ValueError(f"MeanAveragePrecision: {name} must be None or a list, got "
                                 f"{value!r}")
        defaults = Params()
        self.params = Params(
            iou_thresholds=defaults.iou_thresholds if iou_thresholds is None else iou_thresholds,
            rec_thresholds=defaults.rec_thresholds if rec_thresholds is None else rec_thresholds,
            max_dets=max_detection_thresholds or defaults.max_dets)
        self.box_format, self.iou_type, self.average = box_format, iou_type, average
        self.class_metrics, self.extended_summary = class_metrics, extended_summary
        self.iou_thresholds = self.params.iou_thresholds.tolist()
        self.rec_thresholds = self.params.rec_thresholds.tolist()
        self.max_detection_thresholds = list(self.params.max_dets)
        self.reset()

    def reset(self) -> None:
        """Forget every image seen so far."""
        self.detections: list[Image] = []
        self.groundtruths: list[Image] = []

    def update(self, preds: list[dict], target: list[dict]) -> None:
        """Add a batch of images: one prediction dict and one target dict per image."""
        detections = read_images(preds, "preds", self.box_format)
        groundtruths = read_images(target, "target", self.box_format)
        if len(detections) != len(groundtruths):
            raise ValueError(f"MeanAveragePrecision.update: {len(detections)} predictions but "
                             f"{len(groundtruths)} targets (one of each per image)")
        self.detections += detections
        self.groundtruths += groundtruths

    def __call__(self, preds: list[dict], target: list[dict]) -> dict:
        """``forward``: the metric of this batch alone; the batch is also accumulated."""
        batch = MeanAveragePrecision(
            self.box_format, self.iou_type, self.iou_thresholds, self.rec_thresholds,
            self.max_detection_thresholds, self.class_metrics, self.extended_summary,
            self.average)
        batch.update(preds, target)
        self.detections += batch.detections
        self.groundtruths += batch.groundtruths
        return batch.compute()

    forward = __call__

    def evaluation(self):
        """The full :class:`~ember.metrics.coco_eval.Evaluation` (precision and recall
        arrays per threshold, class, area and detection limit) of the images so far."""
        gts, dts = self.groundtruths, self.detections
        if self.average == "micro":
            gts = [_one_class(im) for im in gts]
            dts = [_one_class(im) for im in dts]
        return evaluate(gts, dts, self.params)

    def compute(self) -> dict:
        """The summaries (0-d float32 tensors), per-class values and ``classes``."""
        m = self.max_detection_thresholds
        names = ["map", "map_50", "map_75", "map_small", "map_medium", "map_large",
                 f"mar_{m[0]}", f"mar_{m[1]}", f"mar_{m[2]}", "mar_small", "mar_medium",
                 "mar_large"]
        classes = _classes(self.groundtruths, self.detections)
        if not self.groundtruths:
            result = {name: _value(-1.0) for name in names}
            evaluation = None
        else:
            evaluation = self.evaluation()
            result = {name: _value(v) for name, v in zip(names, evaluation.stats, strict=True)}
        if self.class_metrics and evaluation is not None:
            # per class always on the real labels, also when the summaries are micro
            per_class = (evaluation if self.average == "macro"
                         else evaluate(self.groundtruths, self.detections, self.params))
            result["map_per_class"] = _squeezed(
                [per_class.summarize(True, category=c) for c in classes], np.float32)
            result[f"mar_{m[2]}_per_class"] = _squeezed(
                [per_class.summarize(False, max_dets=m[2], category=c) for c in classes],
                np.float32)
        else:
            result["map_per_class"] = _value(-1.0)
            result[f"mar_{m[2]}_per_class"] = _value(-1.0)
        if self.extended_summary and evaluation is not None:
            result["ious"] = {key: Tensor._wrap(value.astype(np.float32))
                              for key, value in evaluation.ious.items()}
            result["precision"] = Tensor._wrap(evaluation.precision)
            result["recall"] = Tensor._wrap(evaluation.recall)
            result["scores"] = Tensor._wrap(evaluation.scores)
        result["classes"] = _squeezed(classes, np.int32)
        return result

    def plot_precision_recall(self, path, iou_threshold: float = 0.5,
                              class_names: list[str] | None = None):
        """Draw the interpolated precision-recall curve of every class at one IoU threshold
        (all areas, the largest detection limit) and write it to ``path``; returns the path.

        Needs matplotlib (``pip install "ember[plot]"``).
        """
        from ember.metrics.detection_plots import plot_precision_recall

        evaluation = evaluate(self.groundtruths, self.detections, self.params)
        t = np.flatnonzero(np.isclose(self.params.iou_thresholds, iou_threshold))
        if t.size == 0:
            raise ValueError(f"plot_precision_recall: IoU threshold {iou_threshold} is not one "
                             f"of {self.iou_thresholds}")
        curves = {}
        for k, c in enumerate(evaluation.categories):
            precision = evaluation.precision[t[0], :, k, 0, -1]
            if precision[0] < 0:
                continue  # no ground truth of this class
            name = class_names[c] if class_names is not None else str(c)
            ap = float(precision.mean())
            curves[f"{name} (AP {ap:.3f})"] = (self.params.rec_thresholds, precision)
        return plot_precision_recall(curves, path, title=f"Precision-recall at IoU "
                                                         f"{iou_threshold:g} (101-point "
                                                         "interpolation)")


def _one_class(image: Image) -> Image:
    """The image with every label set to 0 (micro averaging)."""
    return Image(boxes=image.boxes, labels=np.zeros_like(image.labels), scores=image.scores,
                 iscrowd=image.iscrowd, area=image.area)


def _classes(gts: list[Image], dts: list[Image]) -> list[int]:
    labels = [im.labels for im in (*dts, *gts)]
    return np.unique(np.concatenate(labels)).tolist() if labels else []
