"""Segmentation metrics, all from one pixel confusion matrix.

``M[i, j]`` counts the pixels of true class i predicted as class j (rows true, columns
predicted, as :func:`~ember.metrics.confusion_matrix`). For class c, with
``TP = M[c, c]``, ``FP = sum_i M[i, c] - TP`` and ``FN = sum_j M[c, j] - TP``:

    IoU_c  = TP / (TP + FP + FN)             (Jaccard index; mean IoU averages it)
    Dice_c = 2 TP / (2 TP + FP + FN)         (F1 of the pixels; Dice = 2 IoU / (1 + IoU))
    pixel accuracy = trace(M) / sum(M)       (dominated by large classes: background)

A class that appears in neither the target nor the prediction has no IoU or Dice (0/0):
it is NaN and left out of the means. ``ignore_index`` drops the pixels whose *target*
has that value (unlabelled or boundary pixels, 255 in Pascal VOC) before counting.

Predictions are class indices of the target's shape, or scores with one more dimension
(N, C, H, W) for targets (N, H, W), which are argmax-ed over the class dimension. The
order is ``(pred, target)``, as torchmetrics' segmentation functions (the classification
metrics use scikit-learn's ``(target, pred)``).

>>> import numpy as np
>>> target = np.array([[0, 0, 1], [1, 2, 2]])
>>> pred = np.array([[0, 1, 1], [1, 2, 0]])
>>> iou, miou = mean_iou(pred, target, num_classes=3)
>>> iou.round(4), round(miou, 4)
(array([0.3333, 0.6667, 0.5   ]), 0.5)
>>> pixel_accuracy(pred, target)
0.6666666666666666
"""

from __future__ import annotations

import numpy as np

from ember.metrics.classification import _array

__all__ = ["pixel_confusion_matrix", "mean_iou", "pixel_accuracy", "dice_score",
           "boundary_f1", "SegmentationMetrics"]


def _labels(pred, target, op: str) -> tuple[np.ndarray, np.ndarray]:
    """(pred, target) as int64 label maps of one shape; scores are argmax-ed."""
    p, t = _array(pred, f"{op}: pred"), _array(target, f"{op}: target")
    if t.dtype.kind not in "iub":
        if t.dtype.kind != "f" or not np.all(t == np.round(t)):
            raise TypeError(f"{op}: target must hold integer class indices, got dtype "
                            f"{t.dtype}")
    if p.ndim == t.ndim + 1:  # scores: (N, C, H, W) for (N, H, W), or (C, H, W) for (H, W)
        p = p.argmax(axis=1 if t.ndim >= 2 and p.ndim >= 4 else 0)
    elif p.dtype.kind == "f" and not np.all(p == np.round(p)):
        raise TypeError(f"{op}: pred must be class indices of the target's shape or scores "
                        "with one more (class) dimension; got non-integer values of the "
                        "target's shape")
    if p.shape != t.shape:
        raise ValueError(f"{op}: pred of shape {p.shape} does not match target of shape "
                         f"{t.shape} (give class indices of the target's shape, or scores "
                         "(N, C, H, W) for a target (N, H, W))")
    return p.astype(np.int64, copy=False), t.astype(np.int64, copy=False)


def pixel_confusion_matrix(pred, target, num_classes: int,
                           ignore_index: int | None = None) -> np.ndarray:
    """The (C, C) int64 matrix ``M[true, predicted]`` of pixel counts.

    Args:
        pred: class indices (the target's shape) or scores with a class dimension.
        target: class indices in ``[0, num_classes)`` (or ``ignore_index``).
        num_classes: C.
        ignore_index: target value whose pixels are not counted (default None).

    >>> pixel_confusion_matrix([[0, 1], [1, 1]], [[0, 1], [0, 255]], 2, ignore_index=255)
    array([[1, 1],
           [0, 1]])
    """
    op = "pixel_confusion_matrix"
    if not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"{op}: num_classes must be a positive int, got {num_classes!r}")
    p, t = _labels(pred, target, op)
    if ignore_index is not None:
        keep = t != ignore_index
        p, t = p[keep], t[keep]
    p, t = p.ravel(), t.ravel()
    for name, labels in (("target", t), ("pred", p)):
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            bad = labels[(labels < 0) | (labels >= num_classes)][0]
            hint = "" if name == "pred" or ignore_index is not None else \
                " (pass ignore_index for unlabelled pixels)"
            raise ValueError(f"{op}: {name} holds class {bad}, outside 0..{num_classes - 1} for "
                             f"num_classes={num_classes}{hint}")
    counts = np.bincount(t * num_classes + p, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).astype(np.int64)


def _iou(matrix: np.ndarray) -> np.ndarray:
    tp = np.diag(matrix).astype(np.float64)
    union = matrix.sum(0) + matrix.sum(1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, tp / np.where(union > 0, union, 1), np.nan)


def _dice(matrix: np.ndarray) -> np.ndarray:
    tp = np.diag(matrix).astype(np.float64)
    total = matrix.sum(0) + matrix.sum(1)
    return np.where(total > 0, 2 * tp / np.where(total > 0, total, 1), np.nan)


def _nanmean(values: np.ndarray) -> float:
    present = values[~np.isnan(values)]
    return float(present.mean()) if present.size else float("nan")


def mean_iou(pred, target, num_classes: int, ignore_index: int | None = None
             ) -> tuple[np.ndarray, float]:
    """(per-class IoU (C,), mean IoU): ``IoU_c = TP / (TP + FP + FN)`` over all pixels of
    all images, the mean over the classes present in the target or the prediction.

    >>> per_class, miou = mean_iou([[1, 1], [0, 0]], [[1, 0], [0, 0]], num_classes=3)
    >>> per_class.round(4), round(miou, 4)
    (array([0.6667, 0.5   ,    nan]), 0.5833)
    """
    iou = _iou(pixel_confusion_matrix(pred, target, num_classes, ignore_index))
    return iou, _nanmean(iou)


def pixel_accuracy(pred, target, ignore_index: int | None = None) -> float:
    """The share of (non-ignored) pixels whose predicted class is the true one.

    >>> pixel_accuracy([[1, 1], [0, 0]], [[1, 0], [0, 0]])
    0.75
    """
    p, t = _labels(pred, target, "pixel_accuracy")
    if ignore_index is not None:
        keep = t != ignore_index
        p, t = p[keep], t[keep]
    if t.size == 0:
        raise ValueError("pixel_accuracy: no pixels to count")
    return float(np.mean(p == t))


def dice_score(pred, target, num_classes: int, ignore_index: int | None = None
               ) -> np.ndarray:
    """Per-class Dice (F1) ``2 TP / (2 TP + FP + FN)`` over all pixels; NaN for a class
    in neither target nor prediction. (The differentiable *loss* on probabilities is
    :func:`ember.nn.functional.dice_loss`.)

    >>> dice_score([[1, 1], [0, 0]], [[1, 0], [0, 0]], num_classes=2).round(4)
    array([0.8   , 0.6667])
    """
    return _dice(pixel_confusion_matrix(pred, target, num_classes, ignore_index))


# ---------------------------------------------------------------------------- boundaries


def _boundary(mask: np.ndarray) -> np.ndarray:
    """Pixels of ``mask`` (..., H, W) with a 4-neighbour outside it (the image border
    does not count as outside)."""
    inner = mask.copy()
    inner[..., 1:, :] &= mask[..., :-1, :]
    inner[..., :-1, :] &= mask[..., 1:, :]
    inner[..., :, 1:] &= mask[..., :, :-1]
    inner[..., :, :-1] &= mask[..., :, 1:]
    return mask & ~inner


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Every pixel within Euclidean distance ``radius`` of a True pixel of (..., H, W)."""
    out = mask.copy()
    h, w = mask.shape[-2:]
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if (dy or dx) and dy * dy + dx * dx <= radius * radius:
                src = mask[..., max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
                out[..., max(0, dy):h - max(0, -dy), max(0, dx):w - max(0, -dx)] |= src
    return out


def _boundary_counts(p, t, num_classes, tolerance, ignore):
    """Per class: (predicted boundary pixels near a true boundary, predicted boundary
    pixels, true boundary pixels near a predicted boundary, true boundary pixels)."""
    counts = np.zeros((num_classes, 4), dtype=np.int64)
    for c in range(num_classes):
        bp, bt = _boundary(p == c), _boundary(t == c)
        if ignore is not None:
            bp, bt = bp & ~ignore, bt & ~ignore
        counts[c] = ((bp & _dilate(bt, tolerance)).sum(), bp.sum(),
                     (bt & _dilate(bp, tolerance)).sum(), bt.sum())
    return counts


def _boundary_f1_from(counts: np.ndarray) -> np.ndarray:
    matched_p, total_p, matched_t, total_t = counts.T.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(total_p > 0, matched_p / total_p, 0.0)
        recall = np.where(total_t > 0, matched_t / total_t, 0.0)
        f1 = np.where(precision + recall > 0,
                      2 * precision * recall / (precision + recall), 0.0)
    return np.where((total_p + total_t) > 0, f1, np.nan)


def boundary_f1(pred, target, num_classes: int, tolerance: int = 2,
                ignore_index: int | None = None) -> tuple[np.ndarray, float]:
    """(per-class boundary F1, its mean): how well the predicted region *edges* follow
    the true ones (the BF score of Csurka, Larlus & Perronnin, 2013).

    A class's boundary pixels are its pixels with a 4-neighbour of another class. A
    predicted boundary pixel is correct when a true boundary pixel of the same class lies
    within ``tolerance`` pixels (Euclidean), and vice versa:

        precision = matched predicted / predicted boundary pixels
        recall    = matched true / true boundary pixels
        BF        = 2 precision recall / (precision + recall)

    counted over all images; NaN for a class with no boundary in either. IoU barely
    notices a blurred edge on a large region; BF does.

    Args:
        pred, target: as :func:`mean_iou`; (H, W) or (N, H, W).
        num_classes: C.
        tolerance: the distance, in pixels, within which edges match (default 2).
        ignore_index: target value whose pixels are not counted.

    >>> target = np.zeros((8, 8), dtype=int); target[2:6, 2:6] = 1
    >>> shifted = np.zeros((8, 8), dtype=int); shifted[3:7, 3:7] = 1
    >>> boundary_f1(shifted, target, 2, tolerance=1)[0].round(3)
    array([0.875, 0.917])
    >>> boundary_f1(shifted, target, 2, tolerance=2)[1]
    1.0
    """
    if tolerance < 0:
        raise ValueError(f"boundary_f1: tolerance must be non-negative, got {tolerance}")
    p, t = _labels(pred, target, "boundary_f1")
    if t.ndim < 2:
        raise ValueError(f"boundary_f1: expects label maps (H, W) or (N, H, W), got shape "
                         f"{t.shape}")
    ignore = None if ignore_index is None else t == ignore_index
    pixel_confusion_matrix(p, t, num_classes, ignore_index)  # checks the labels
    f1 = _boundary_f1_from(_boundary_counts(p, t, num_classes, int(tolerance), ignore))
    return f1, _nanmean(f1)


class SegmentationMetrics:
    """Accumulate a pixel confusion matrix over batches; read every metric from it.

    Args:
        num_classes: C.
        ignore_index: target value whose pixels are not counted.
        boundary_tolerance: also count boundary matches for :meth:`boundary_f1` (pixels;
            None, the default, skips this slower part).

    >>> import numpy as np
    >>> metrics = SegmentationMetrics(num_classes=2)
    >>> metrics.update(np.array([[1, 1], [0, 0]]), np.array([[1, 0], [0, 0]]))
    >>> metrics.update(np.array([[0, 0]]), np.array([[0, 1]]))
    >>> metrics.iou().round(4), metrics.pixel_accuracy()
    (array([0.6   , 0.3333]), 0.6666666666666666)
    >>> sorted(metrics.compute())
    ['dice', 'iou', 'mean_accuracy', 'mean_dice', 'mean_iou', 'pixel_accuracy']
    """

    def __init__(self, num_classes: int, ignore_index: int | None = None,
                 boundary_tolerance: int | None = None) -> None:
        self.num_classes, self.ignore_index = num_classes, ignore_index
        self.boundary_tolerance = boundary_tolerance
        self.reset()

    def reset(self) -> None:
        self.matrix = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)
        self.boundary = np.zeros((self.num_classes, 4), dtype=np.int64)

    def update(self, pred, target) -> None:
        """Add a batch: ``pred`` indices or scores, ``target`` indices."""
        p, t = _labels(pred, target, "SegmentationMetrics.update")
        self.matrix += pixel_confusion_matrix(p, t, self.num_classes, self.ignore_index)
        if self.boundary_tolerance is not None:
            ignore = None if self.ignore_index is None else t == self.ignore_index
            self.boundary += _boundary_counts(p, t, self.num_classes,
                                              int(self.boundary_tolerance), ignore)

    def iou(self) -> np.ndarray:
        """Per-class IoU (NaN for a class seen in neither target nor prediction)."""
        return _iou(self.matrix)

    def mean_iou(self) -> float:
        return _nanmean(self.iou())

    def dice(self) -> np.ndarray:
        """Per-class Dice (F1)."""
        return _dice(self.matrix)

    def pixel_accuracy(self) -> float:
        total = self.matrix.sum()
        return float(np.trace(self.matrix) / total) if total else float("nan")

    def class_accuracy(self) -> np.ndarray:
        """Per-class recall ``TP / (TP + FN)`` (NaN for a class absent from the target)."""
        support = self.matrix.sum(1)
        return np.where(support > 0, np.diag(self.matrix) / np.maximum(support, 1), np.nan)

    def boundary_f1(self) -> np.ndarray:
        """Per-class boundary F1 (needs ``boundary_tolerance``)."""
        if self.boundary_tolerance is None:
            raise ValueError("SegmentationMetrics: boundary F1 needs boundary_tolerance")
        return _boundary_f1_from(self.boundary)

    def compute(self) -> dict:
        """Every metric by name (per-class arrays and their means)."""
        results = {"iou": self.iou(), "mean_iou": self.mean_iou(), "dice": self.dice(),
                   "mean_dice": _nanmean(self.dice()), "pixel_accuracy": self.pixel_accuracy(),
                   "mean_accuracy": _nanmean(self.class_accuracy())}
        if self.boundary_tolerance is not None:
            results["boundary_f1"] = self.boundary_f1()
            results["mean_boundary_f1"] = _nanmean(results["boundary_f1"])
        return results
