"""Non-maximum suppression: keep the best-scoring box, drop the boxes that overlap it too
much, repeat (torchvision's ``nms`` and ``batched_nms``).

The greedy pass, with boxes visited in order of decreasing score::

    keep = []
    for i in boxes by decreasing score (ties: lower index first):
        if i is not suppressed:
            keep.append(i)
            suppress every later j with IoU(i, j) > iou_threshold

A box is dropped only when its IoU with a kept box is strictly greater than the
threshold. The IoU is computed in the boxes' dtype, as torchvision's kernel does, and
compared with the threshold in float64. NMS selects boxes; it has no gradient.

>>> import ember as em
>>> from ember.vision import ops
>>> boxes = em.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0], [20.0, 20.0, 30.0, 30.0]])
>>> ops.nms(boxes, em.tensor([0.9, 0.8, 0.7]), iou_threshold=0.5)  # IoU(0, 1) = 81/119
tensor([0, 2])
"""

from __future__ import annotations

import numpy as np

from ember.tensor import Tensor
from ember.vision.ops.boxes import as_boxes

__all__ = ["nms", "batched_nms", "nms_steps"]


def _arrays(boxes, scores, op: str) -> tuple[np.ndarray, np.ndarray]:
    boxes = as_boxes(boxes, op).detach().numpy()
    scores = np.asarray(scores.detach().numpy() if isinstance(scores, Tensor) else scores)
    if boxes.ndim != 2 or scores.shape != (boxes.shape[0],):
        raise ValueError(f"{op}: expects boxes (N, 4) and scores (N,), got shapes "
                         f"{boxes.shape} and {scores.shape}")
    return boxes, scores


def _order(scores: np.ndarray) -> np.ndarray:
    """Indices by decreasing score; equal scores keep their index order (stable sort)."""
    return np.argsort(-scores.astype(np.float64), kind="stable")


def _greedy(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float,
            groups: np.ndarray | None = None, trace: list | None = None) -> np.ndarray:
    """The greedy pass; boxes of different ``groups`` never suppress each other."""
    order = _order(scores)
    x1, y1, x2, y2 = (boxes[:, k] for k in range(4))
    areas = (x2 - x1) * (y2 - y1)
    suppressed = np.zeros(len(boxes), dtype=bool)
    keep = []
    for position, i in enumerate(order):
        if suppressed[i]:
            continue
        keep.append(i)
        rest = order[position + 1:]
        rest = rest[~suppressed[rest]]
        if groups is not None:
            rest = rest[groups[rest] == groups[i]]
        w = np.maximum(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0)
        h = np.maximum(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0)
        inter = w * h
        with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 (empty boxes): nan, kept
            iou = inter / (areas[i] + areas[rest] - inter)
        drop = iou.astype(np.float64) > float(iou_threshold)
        suppressed[rest[drop]] = True
        if trace is not None:
            trace.append((int(i), rest.tolist(), iou.astype(np.float64).tolist(), drop.tolist()))
    return np.asarray(keep, dtype=np.int64)


def nms(boxes, scores, iou_threshold: float) -> Tensor:
    """Greedy non-maximum suppression.

    Args:
        boxes: (N, 4) ``xyxy`` boxes.
        scores: (N,) their scores.
        iou_threshold: boxes whose IoU with a kept, higher-scoring box is greater than
            this are dropped.

    Returns:
        int64 (K,): the indices of the kept boxes, by decreasing score (equal scores in
        index order).
    """
    boxes, scores = _arrays(boxes, scores, "nms")
    return Tensor._wrap(_greedy(boxes, scores, iou_threshold))


def batched_nms(boxes, scores, idxs, iou_threshold: float) -> Tensor:
    """Non-maximum suppression within each category: boxes with different ``idxs`` (class
    labels, or image indices) never suppress each other.

    Args:
        boxes: (N, 4) ``xyxy`` boxes.
        scores: (N,) their scores.
        idxs: (N,) integer category of each box.
        iou_threshold: as in :func:`nms`.

    Returns:
        int64 (K,): the indices kept, by decreasing score (equal scores in index order).

    >>> import ember as em
    >>> boxes = em.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0]])
    >>> batched_nms(boxes, em.tensor([0.9, 0.8]), em.tensor([0, 1]), 0.5)  # two classes
    tensor([0, 1])
    """
    boxes, scores = _arrays(boxes, scores, "batched_nms")
    groups = np.asarray(idxs.numpy() if isinstance(idxs, Tensor) else idxs)
    if groups.shape != scores.shape:
        raise ValueError(f"batched_nms: idxs must have shape ({len(scores)},), got "
                         f"{groups.shape}")
    return Tensor._wrap(_greedy(boxes, scores, iou_threshold, groups))


def nms_steps(boxes, scores, iou_threshold: float, idxs=None) -> tuple[np.ndarray, list]:
    """:func:`nms` (or :func:`batched_nms` with ``idxs``) with its working: the kept indices
    and, for each kept box, ``(index, candidates, ious, dropped)`` over the boxes still in
    play after it (for ``ember explain nms``)."""
    boxes, scores = _arrays(boxes, scores, "nms")
    groups = None if idxs is None else np.asarray(idxs)
    trace: list = []
    keep = _greedy(boxes, scores, iou_threshold, groups, trace)
    return keep, trace
