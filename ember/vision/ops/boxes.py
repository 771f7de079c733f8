"""Box arithmetic: formats, areas, IoU and its generalised, distance and complete forms.

torchvision's names and semantics (``torchvision.ops.boxes``). Boxes are ``(..., 4)``
tensors; ``xyxy`` (corners ``x1, y1, x2, y2``, with ``x1 <= x2`` and ``y1 <= y2``) unless
told otherwise. Every function is composed from ember's differentiable tensor ops, so
gradients flow to the coordinates wherever torchvision's do (at kinks, as PyTorch:
``max``/``min`` split the gradient on ties, ``clamp(min=0)`` passes it at 0).

For two boxes A and B with C the smallest box enclosing both, d the distance between
their centres and c the diagonal of C:

* IoU   = |A n B| / |A u B|
* GIoU  = IoU - (|C| - |A u B|) / |C|                       (Rezatofighi et al., 2019)
* DIoU  = IoU - d^2 / c^2                                    (Zheng et al., 2020)
* CIoU  = DIoU - alpha v,  v = 4/pi^2 (atan(w_A/h_A) - atan(w_B/h_B))^2,
  alpha = v / (1 - IoU + v) (held constant in the gradient)  (Zheng et al., 2020)

>>> import ember as em
>>> from ember.vision import ops
>>> a = em.tensor([[0.0, 0.0, 2.0, 2.0]]); b = em.tensor([[1.0, 1.0, 3.0, 3.0]])
>>> ops.box_iou(a, b)          # intersection 1, union 4 + 4 - 1 = 7
tensor([[0.1429]])
>>> ops.generalized_box_iou(a, b)   # enclosing box 3 x 3 = 9: 1/7 - (9 - 7)/9
tensor([[-0.0794]])
"""

from __future__ import annotations

import math

import numpy as np

from ember import dtypes
from ember.autograd.engine import no_grad
from ember.functions import clamp, maximum, minimum, stack
from ember.ops.trigonometric import atan
from ember.tensor import Tensor

__all__ = ["box_convert", "box_area", "box_iou", "generalized_box_iou", "distance_box_iou",
           "complete_box_iou", "remove_small_boxes", "clip_boxes_to_image", "masks_to_boxes"]

FORMATS = ("xyxy", "xywh", "cxcywh")


def as_boxes(boxes, op: str, name: str = "boxes") -> Tensor:
    """``boxes`` as a tensor whose last dimension is 4, or a ValueError naming ``op``."""
    if not isinstance(boxes, Tensor):
        from ember.creation import as_tensor

        boxes = as_tensor(np.asarray(boxes))
    if boxes.ndim == 0 or boxes.shape[-1] != 4:
        raise ValueError(f"{op}: {name} must have shape (..., 4), got {tuple(boxes.shape)}")
    return boxes


def _check_format(fmt: str, op: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"{op}: unsupported box format {fmt!r}; expected one of "
                         f"{', '.join(FORMATS)} (rotated formats are not supported)")


def upcast(t: Tensor) -> Tensor:
    """float16 to float32, small integers to int32: products of coordinates then do not
    overflow (torchvision's ``_upcast``); float32/float64 and int32/int64 are kept."""
    if t.dtype.kind == "f":
        return t if t.dtype in (dtypes.float32, dtypes.float64) else t.float()
    if t.dtype in (dtypes.int32, dtypes.int64):
        return t
    return t.int()


def _corners(boxes: Tensor, fmt: str) -> tuple[Tensor, Tensor]:
    """(top-left, bottom-right) corners, each (..., 2), of boxes in ``fmt``."""
    if fmt == "xyxy":
        return boxes[..., :2], boxes[..., 2:]
    if fmt == "xywh":
        return boxes[..., :2], boxes[..., :2] + boxes[..., 2:]
    half = boxes[..., 2:] / 2
    return boxes[..., :2] - half, boxes[..., :2] + half


def box_convert(boxes, in_fmt: str, out_fmt: str) -> Tensor:
    """Convert boxes between ``'xyxy'`` (corners), ``'xywh'`` (top-left corner, width,
    height) and ``'cxcywh'`` (centre, width, height).

    .. math:: (x_1, y_1, x_2, y_2) = (c_x - w/2,\\ c_y - h/2,\\ c_x + w/2,\\ c_y + h/2)

    Args:
        boxes: (..., 4) boxes in ``in_fmt``.
        in_fmt, out_fmt: ``'xyxy'``, ``'xywh'`` or ``'cxcywh'``.

    Returns:
        (..., 4) boxes in ``out_fmt`` (a copy when the formats are equal).

    >>> import ember as em
    >>> box_convert(em.tensor([[1.0, 2.0, 5.0, 8.0]]), "xyxy", "cxcywh")
    tensor([[3., 5., 4., 6.]])
    """
    boxes = as_boxes(boxes, "box_convert")
    _check_format(in_fmt, "box_convert")
    _check_format(out_fmt, "box_convert")
    if in_fmt == out_fmt:
        return boxes.clone()
    if in_fmt == "xyxy":
        x1, y1, x2, y2 = boxes.unbind(-1)
    elif in_fmt == "xywh":
        x1, y1, w, h = boxes.unbind(-1)
        x2, y2 = x1 + w, y1 + h
    else:  # cxcywh
        cx, cy, w, h = boxes.unbind(-1)
        x1, y1, x2, y2 = cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h
    if out_fmt == "xyxy":
        return stack((x1, y1, x2, y2), dim=-1)
    if out_fmt == "xywh":
        return stack((x1, y1, x2 - x1, y2 - y1), dim=-1)
    return stack(((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1), dim=-1)


def box_area(boxes, fmt: str = "xyxy") -> Tensor:
    """Area of each box: ``(x2 - x1)(y2 - y1)``, or ``w h`` for ``xywh``/``cxcywh``.

    Args:
        boxes: (..., 4) boxes.
        fmt: their format (default ``'xyxy'``).

    Returns:
        (...,) areas; integer boxes give integer areas (int32 at least).

    >>> import ember as em
    >>> box_area(em.tensor([[0, 0, 3, 2], [1, 1, 2, 5]]))
    tensor([6, 4])
    """
    boxes = upcast(as_boxes(boxes, "box_area"))
    _check_format(fmt, "box_area")
    if fmt == "xyxy":
        return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])
    return boxes[..., 2] * boxes[..., 3]


def _check_pair(boxes1: Tensor, boxes2: Tensor, op: str) -> None:
    if boxes1.shape[:-2] != boxes2.shape[:-2] or boxes1.ndim < 2 or boxes2.ndim < 2:
        raise ValueError(f"{op}: expects boxes of shapes (..., N, 4) and (..., M, 4) with the "
                         f"same leading dimensions, got {tuple(boxes1.shape)} and "
                         f"{tuple(boxes2.shape)}")


def _pair_args(boxes1, boxes2, op: str, cast: bool = False) -> tuple[Tensor, Tensor]:
    """Both box sets checked (and upcast with ``cast``) for a pairwise function ``op``."""
    boxes1, boxes2 = as_boxes(boxes1, op, "boxes1"), as_boxes(boxes2, op, "boxes2")
    if cast:
        boxes1, boxes2 = upcast(boxes1), upcast(boxes2)
    _check_pair(boxes1, boxes2, op)
    return boxes1, boxes2


def box_inter_union(boxes1: Tensor, boxes2: Tensor, fmt: str = "xyxy") -> tuple[Tensor, Tensor]:
    """Pairwise intersection and union areas, each (..., N, M)."""
    area1, area2 = box_area(boxes1, fmt), box_area(boxes2, fmt)
    lt1, rb1 = _corners(boxes1, fmt)
    lt2, rb2 = _corners(boxes2, fmt)
    lt = maximum(lt1[..., :, None, :], lt2[..., None, :, :])  # (..., N, M, 2)
    rb = minimum(rb1[..., :, None, :], rb2[..., None, :, :])
    wh = clamp(upcast(rb - lt), min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = area1[..., :, None] + area2[..., None, :] - inter
    return inter, union


def box_iou(boxes1, boxes2, fmt: str = "xyxy") -> Tensor:
    """Intersection over union (the Jaccard index) of every pair of boxes.

    .. math:: \\mathrm{IoU}(A, B) = \\frac{|A \\cap B|}{|A| + |B| - |A \\cap B|}

    Args:
        boxes1: (..., N, 4) boxes.
        boxes2: (..., M, 4) boxes (the same leading dimensions).
        fmt: ``'xyxy'`` (default), ``'xywh'`` or ``'cxcywh'``.

    Returns:
        (..., N, M): IoU of ``boxes1[i]`` with ``boxes2[j]``, in [0, 1] (0/0 gives nan,
        as in torchvision, for two empty boxes).
    """
    _check_format(fmt, "box_iou")
    boxes1, boxes2 = _pair_args(boxes1, boxes2, "box_iou")
    inter, union = box_inter_union(boxes1, boxes2, fmt)
    return inter / union


def _enclosing_wh(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Width and height (..., N, M, 2) of the smallest box enclosing each pair."""
    lti = minimum(boxes1[..., :, None, :2], boxes2[..., None, :, :2])
    rbi = maximum(boxes1[..., :, None, 2:], boxes2[..., None, :, 2:])
    return clamp(upcast(rbi - lti), min=0)


def generalized_box_iou(boxes1, boxes2) -> Tensor:
    """Generalised IoU of every pair of ``xyxy`` boxes: IoU minus the share of the
    enclosing box C that neither box covers; in [-1, 1], and informative (non-zero
    gradient) even for boxes that do not overlap.

    .. math:: \\mathrm{GIoU} = \\mathrm{IoU} - \\frac{|C| - |A \\cup B|}{|C|}

    Args:
        boxes1: (..., N, 4); boxes2: (..., M, 4), ``xyxy``.

    Returns:
        (..., N, M).

    Reference: Rezatofighi et al., "Generalized Intersection over Union", CVPR 2019.
    """
    boxes1, boxes2 = _pair_args(boxes1, boxes2, "generalized_box_iou")
    inter, union = box_inter_union(boxes1, boxes2)
    iou = inter / union
    whi = _enclosing_wh(boxes1, boxes2)
    area_c = whi[..., 0] * whi[..., 1]
    return iou - (area_c - union) / area_c


def _diou_iou(boxes1: Tensor, boxes2: Tensor, eps: float) -> tuple[Tensor, Tensor]:
    """(DIoU, IoU), each (..., N, M)."""
    inter, union = box_inter_union(boxes1, boxes2)
    iou = inter / union
    whi = _enclosing_wh(boxes1, boxes2)
    diagonal_squared = whi[..., 0] ** 2 + whi[..., 1] ** 2 + eps
    x_p = (boxes1[..., 0] + boxes1[..., 2]) / 2
    y_p = (boxes1[..., 1] + boxes1[..., 3]) / 2
    x_g = (boxes2[..., 0] + boxes2[..., 2]) / 2
    y_g = (boxes2[..., 1] + boxes2[..., 3]) / 2
    centres_squared = (upcast(x_p[..., :, None] - x_g[..., None, :]) ** 2
                       + upcast(y_p[..., :, None] - y_g[..., None, :]) ** 2)
    return iou - centres_squared / diagonal_squared, iou


def distance_box_iou(boxes1, boxes2, eps: float = 1e-7) -> Tensor:
    """Distance IoU of every pair of ``xyxy`` boxes: IoU minus the squared distance of the
    centres over the squared diagonal of the enclosing box.

    .. math:: \\mathrm{DIoU} = \\mathrm{IoU} - \\frac{d^2}{c^2 + \\epsilon}

    Args:
        boxes1: (..., N, 4); boxes2: (..., M, 4), ``xyxy``.
        eps: added to c^2 against division by zero (default 1e-7).

    Returns:
        (..., N, M).

    Reference: Zheng et al., "Distance-IoU Loss", AAAI 2020.
    """
    boxes1, boxes2 = _pair_args(boxes1, boxes2, "distance_box_iou", cast=True)
    return _diou_iou(boxes1, boxes2, eps)[0]


def aspect_term(w1: Tensor, h1: Tensor, w2: Tensor, h2: Tensor) -> Tensor:
    """v = 4/pi^2 (atan(w1/h1) - atan(w2/h2))^2: how far two aspect ratios differ."""
    return (4 / math.pi**2) * (atan(w1 / h1) - atan(w2 / h2)) ** 2


def complete_box_iou(boxes1, boxes2, eps: float = 1e-7) -> Tensor:
    """Complete IoU of every pair of ``xyxy`` boxes: DIoU minus an aspect-ratio penalty.

    .. math::
        \\mathrm{CIoU} = \\mathrm{DIoU} - \\alpha v, \\quad
        v = \\frac{4}{\\pi^2}\\left(\\arctan\\frac{w_A}{h_A} - \\arctan\\frac{w_B}{h_B}\\right)^2,
        \\quad \\alpha = \\frac{v}{1 - \\mathrm{IoU} + v + \\epsilon}

    ``alpha`` is a constant in the gradient (computed without recording), as in the paper
    and torchvision.

    Args:
        boxes1: (..., N, 4); boxes2: (..., M, 4), ``xyxy``.
        eps: guards the divisions (default 1e-7).

    Returns:
        (..., N, M).

    Reference: Zheng et al., "Distance-IoU Loss", AAAI 2020.
    """
    boxes1, boxes2 = _pair_args(boxes1, boxes2, "complete_box_iou", cast=True)
    diou, iou = _diou_iou(boxes1, boxes2, eps)
    w1 = (boxes1[..., 2] - boxes1[..., 0])[..., :, None]
    h1 = (boxes1[..., 3] - boxes1[..., 1])[..., :, None]
    w2 = (boxes2[..., 2] - boxes2[..., 0])[..., None, :]
    h2 = (boxes2[..., 3] - boxes2[..., 1])[..., None, :]
    v = aspect_term(w1, h1, w2, h2)
    with no_grad():
        alpha = v / (1 - iou + v + eps)
    return diou - alpha * v


def remove_small_boxes(boxes, min_size: float) -> Tensor:
    """Indices (int64) of the boxes whose width and height are both at least ``min_size``.

    >>> import ember as em
    >>> remove_small_boxes(em.tensor([[0.0, 0.0, 1.0, 5.0], [0.0, 0.0, 4.0, 4.0]]), 2.0)
    tensor([1])
    """
    boxes = as_boxes(boxes, "remove_small_boxes")
    data = boxes.numpy()
    keep = (data[..., 2] - data[..., 0] >= min_size) & (data[..., 3] - data[..., 1] >= min_size)
    return Tensor._wrap(np.flatnonzero(keep).astype(np.int64))


def clip_boxes_to_image(boxes, size: tuple[int, int]) -> Tensor:
    """Boxes clipped to an image of ``size = (height, width)``: x to [0, width], y to
    [0, height] (differentiable: the gradient passes where a coordinate was inside).

    >>> import ember as em
    >>> clip_boxes_to_image(em.tensor([[-2.0, 3.0, 12.0, 9.0]]), (8, 10))
    tensor([[ 0.,  3., 10.,  8.]])
    """
    boxes = as_boxes(boxes, "clip_boxes_to_image")
    if len(size) != 2:
        raise ValueError(f"clip_boxes_to_image: size must be (height, width), got {size!r}")
    height, width = size
    x = clamp(boxes[..., 0::2], min=0, max=width)
    y = clamp(boxes[..., 1::2], min=0, max=height)
    return stack((x, y), dim=-1).reshape(boxes.shape)


def masks_to_boxes(masks) -> Tensor:
    """The ``xyxy`` box around each mask's nonzero pixels: (N, H, W) -> (N, 4) float32
    (inclusive pixel indices, so a one-pixel mask gives x1 = x2; an empty mask gives 0s).

    >>> import ember as em
    >>> m = em.zeros(1, 4, 5); m[0, 1:3, 2:5] = 1
    >>> masks_to_boxes(m)
    tensor([[2., 1., 4., 2.]])
    """
    data = masks.numpy() if isinstance(masks, Tensor) else np.asarray(masks)
    if data.ndim != 3:
        raise ValueError(f"masks_to_boxes: masks must have shape (N, H, W), got {data.shape}")
    out = np.zeros((data.shape[0], 4), dtype=np.float32)
    for i, mask in enumerate(data.astype(bool)):
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if rows.size:
            out[i] = cols[0], rows[0], cols[-1], rows[-1]
    return Tensor._wrap(out)

