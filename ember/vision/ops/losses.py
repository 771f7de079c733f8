"""Box-regression losses: 1 - GIoU, 1 - DIoU and 1 - CIoU of matched pairs of boxes.

torchvision's ``generalized_box_iou_loss``, ``distance_box_iou_loss`` and
``complete_box_iou_loss``: ``boxes1[i]`` is compared with ``boxes2[i]`` (not every pair),
both ``xyxy`` of the same shape (4,) or (N, 4); the losses are symmetric in the two
arguments. With C the box enclosing both, d the distance of the centres and c the
diagonal of C (``eps`` guards each division):

* GIoU loss = 1 - IoU + (|C| - |A u B|) / |C|
* DIoU loss = 1 - IoU + d^2 / c^2
* CIoU loss = DIoU loss + alpha v  (v, alpha as in :func:`~ember.vision.ops.complete_box_iou`)

Unlike the pairwise functions, the IoU here is ``inter / (union + eps)`` and the
intersection is 0 (and carries no gradient) unless the boxes overlap with positive area.

>>> import ember as em
>>> from ember.vision import ops
>>> pred = em.tensor([[0.0, 0.0, 2.0, 2.0]]); target = em.tensor([[1.0, 1.0, 3.0, 3.0]])
>>> ops.generalized_box_iou_loss(pred, target)
tensor([1.0794])
"""

from __future__ import annotations

from ember.autograd.engine import no_grad
from ember.functions import maximum, minimum, where
from ember.nn.functional.losses_common import check_reduction
from ember.tensor import Tensor
from ember.vision.ops.boxes import as_boxes, aspect_term

__all__ = ["generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss"]


def _float(boxes: Tensor) -> Tensor:
    """Integer boxes as float32 (torchvision's ``_upcast_non_float``)."""
    return boxes if boxes.dtype.kind == "f" else boxes.float()


def _pair(boxes1, boxes2, op: str) -> tuple[Tensor, Tensor]:
    boxes1 = _float(as_boxes(boxes1, op, "boxes1"))
    boxes2 = _float(as_boxes(boxes2, op, "boxes2"))
    if boxes1.shape != boxes2.shape:
        raise ValueError(f"{op}: boxes1 and boxes2 must have the same shape (pairs of boxes), "
                         f"got {tuple(boxes1.shape)} and {tuple(boxes2.shape)}")
    return boxes1, boxes2


def _inter_union(boxes1: Tensor, boxes2: Tensor) -> tuple[Tensor, Tensor]:
    """Intersection (0 unless the overlap has positive width and height) and union."""
    x1, y1, x2, y2 = boxes1.unbind(-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(-1)
    xk1, yk1 = maximum(x1, x1g), maximum(y1, y1g)
    xk2, yk2 = minimum(x2, x2g), minimum(y2, y2g)
    overlap = (yk2 > yk1) & (xk2 > xk1)
    inter = where(overlap, (xk2 - xk1) * (yk2 - yk1), 0.0)
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - inter
    return inter, union


def _enclosing(boxes1: Tensor, boxes2: Tensor) -> tuple[Tensor, Tensor]:
    """Width and height of the box enclosing each pair."""
    x1, y1, x2, y2 = boxes1.unbind(-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(-1)
    return maximum(x2, x2g) - minimum(x1, x1g), maximum(y2, y2g) - minimum(y1, y1g)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.mean() if loss.numel() > 0 else 0.0 * loss.sum()


def generalized_box_iou_loss(boxes1, boxes2, reduction: str = "none",
                             eps: float = 1e-7) -> Tensor:
    """1 - GIoU of matched pairs of ``xyxy`` boxes, in [0, 2].

    .. math:: L = 1 - \\frac{|A \\cap B|}{|A \\cup B| + \\epsilon}
              + \\frac{|C| - |A \\cup B|}{|C| + \\epsilon}

    Args:
        boxes1, boxes2: (N, 4) or (4,) boxes, ``boxes1[i]`` paired with ``boxes2[i]``.
        reduction: ``'none'`` (default), ``'mean'`` or ``'sum'``.
        eps: guards the divisions (default 1e-7).

    Reference: Rezatofighi et al., "Generalized Intersection over Union", CVPR 2019.
    """
    check_reduction("generalized_box_iou_loss", reduction)
    boxes1, boxes2 = _pair(boxes1, boxes2, "generalized_box_iou_loss")
    inter, union = _inter_union(boxes1, boxes2)
    iou = inter / (union + eps)
    width, height = _enclosing(boxes1, boxes2)
    area_c = width * height
    return _reduce(1 - (iou - (area_c - union) / (area_c + eps)), reduction)


def _diou_loss(boxes1: Tensor, boxes2: Tensor, eps: float) -> tuple[Tensor, Tensor]:
    """(1 - DIoU, IoU) of matched pairs."""
    inter, union = _inter_union(boxes1, boxes2)
    iou = inter / (union + eps)
    width, height = _enclosing(boxes1, boxes2)
    diagonal_squared = width**2 + height**2 + eps
    x1, y1, x2, y2 = boxes1.unbind(-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(-1)
    centres_squared = (((x2 + x1) / 2 - (x1g + x2g) / 2) ** 2
                       + ((y2 + y1) / 2 - (y1g + y2g) / 2) ** 2)
    return 1 - iou + centres_squared / diagonal_squared, iou


def distance_box_iou_loss(boxes1, boxes2, reduction: str = "none", eps: float = 1e-7) -> Tensor:
    """1 - DIoU of matched pairs of ``xyxy`` boxes: the IoU loss plus the squared distance
    of the centres over the squared diagonal of the enclosing box.

    .. math:: L = 1 - \\mathrm{IoU} + \\frac{d^2}{c^2 + \\epsilon}

    Args:
        boxes1, boxes2: (N, 4) or (4,) boxes, ``boxes1[i]`` paired with ``boxes2[i]``.
        reduction: ``'none'`` (default), ``'mean'`` or ``'sum'``.
        eps: guards the divisions (default 1e-7).

    Reference: Zheng et al., "Distance-IoU Loss", AAAI 2020.
    """
    check_reduction("distance_box_iou_loss", reduction)
    boxes1, boxes2 = _pair(boxes1, boxes2, "distance_box_iou_loss")
    return _reduce(_diou_loss(boxes1, boxes2, eps)[0], reduction)


def complete_box_iou_loss(boxes1, boxes2, reduction: str = "none", eps: float = 1e-7) -> Tensor:
    """1 - CIoU of matched pairs of ``xyxy`` boxes: the DIoU loss plus ``alpha v``, an
    aspect-ratio penalty (``alpha`` held constant in the gradient).

    .. math:: L = 1 - \\mathrm{IoU} + \\frac{d^2}{c^2 + \\epsilon} + \\alpha v

    Args:
        boxes1, boxes2: (N, 4) or (4,) boxes, ``boxes1[i]`` paired with ``boxes2[i]``.
        reduction: ``'none'`` (default), ``'mean'`` or ``'sum'``.
        eps: guards the divisions (default 1e-7).

    Reference: Zheng et al., "Distance-IoU Loss", AAAI 2020.
    """
    check_reduction("complete_box_iou_loss", reduction)
    boxes1, boxes2 = _pair(boxes1, boxes2, "complete_box_iou_loss")
    diou_loss, iou = _diou_loss(boxes1, boxes2, eps)
    x1, y1, x2, y2 = boxes1.unbind(-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(-1)
    v = aspect_term(x2g - x1g, y2g - y1g, x2 - x1, y2 - y1)
    with no_grad():
        alpha = v / (1 - iou + v + eps)
    return _reduce(diou_loss + alpha * v, reduction)
