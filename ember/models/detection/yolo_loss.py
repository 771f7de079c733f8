"""YOLOv1's loss, exactly as the paper writes it, and the targets it compares against.

With 1^obj_i = 1 when an object's centre falls in cell i, and 1^obj_ij = 1 for the
predictor j of that cell *responsible* for it (the one whose predicted box has the
highest IoU with the object's box), 1^noobj_ij = 1 - 1^obj_ij:

.. math::

    L = \\lambda_{coord} \\sum_{i=0}^{S^2} \\sum_{j=0}^{B} 1^{obj}_{ij}
          [(x_i - \\hat x_i)^2 + (y_i - \\hat y_i)^2]
      + \\lambda_{coord} \\sum_i \\sum_j 1^{obj}_{ij}
          [(\\sqrt{w_i} - \\sqrt{\\hat w_i})^2 + (\\sqrt{h_i} - \\sqrt{\\hat h_i})^2]
      + \\sum_i \\sum_j 1^{obj}_{ij} (C_i - \\hat C_i)^2
      + \\lambda_{noobj} \\sum_i \\sum_j 1^{noobj}_{ij} (C_i - \\hat C_i)^2
      + \\sum_i 1^{obj}_i \\sum_{c} (p_i(c) - \\hat p_i(c))^2

with lambda_coord = 5 and lambda_noobj = 0.5. The network outputs sqrt(w) and sqrt(h)
directly (see :mod:`~ember.models.detection.yolo`). The target confidence of the
responsible predictor is the IoU between its predicted box and the truth ("we want the
confidence score to equal the intersection over union", section 2); with
``rescore=False`` it is 1, as many re-implementations use. The IoU that picks the
responsible predictor and sets the target is a constant (no gradient flows through it).
Sums run over the batch; ``reduction="mean"`` (default) divides by the number of images,
``"sum"`` keeps the total.

A cell holds one object: when several centres fall into one cell, the first one in the
target's order is kept (as darknet's loader does).
"""

from __future__ import annotations

import numpy as np

from ember import dtypes
from ember.nn.module import Module
from ember.tensor import Tensor

__all__ = ["YOLOv1Loss", "encode_targets", "cell_boxes"]


def encode_targets(targets: list[dict], grid: int, num_classes: int,
                   image_size: tuple[int, int], dtype=None) -> Tensor:
    """Ground-truth boxes as YOLO's (N, S, S, 5 + C) target grid.

    For each object, the cell (i, j) containing its centre gets ``x, y`` (the centre's
    offset in the cell), ``w, h`` (width and height as fractions of the image), ``1`` (an
    object is here) and the one-hot class; other cells are 0.

    Args:
        targets: per image, a dict with ``boxes`` (M, 4) ``xyxy`` pixels and ``labels`` (M,).
        grid: S.
        num_classes: C.
        image_size: (height, width) of the images, in pixels.
        dtype: of the result (default: ember's default float type, float32).

    >>> import ember as em
    >>> t = encode_targets([{"boxes": em.tensor([[8.0, 4.0, 24.0, 12.0]]),
    ...                      "labels": em.tensor([1])}], grid=2, num_classes=2,
    ...                    image_size=(32, 32))
    >>> t[0, 0, 1].tolist()   # centre (16, 8): row 0, column 1, offsets (0, 0.5)
    [0.0, 0.5, 0.5, 0.25, 1.0, 0.0, 1.0]
    """
    height, width = image_size
    dtype = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
    out = np.zeros((len(targets), grid, grid, 5 + num_classes), dtype=dtype)
    for n, target in enumerate(targets):
        boxes = _numpy(target["boxes"]).reshape(-1, 4).astype(np.float64)
        labels = _numpy(target["labels"]).reshape(-1).astype(np.int64)
        if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(f"encode_targets: image {n} has labels outside [0, "
                             f"{num_classes - 1}]: {sorted(set(labels.tolist()))}")
        cx = (boxes[:, 0] + boxes[:, 2]) / 2 / width
        cy = (boxes[:, 1] + boxes[:, 3]) / 2 / height
        for k in range(len(labels)):
            j = min(max(int(np.floor(cx[k] * grid)), 0), grid - 1)
            i = min(max(int(np.floor(cy[k] * grid)), 0), grid - 1)
            if out[n, i, j, 4]:
                continue  # one object per cell: the first keeps it
            out[n, i, j, :5] = (cx[k] * grid - j, cy[k] * grid - i,
                                (boxes[k, 2] - boxes[k, 0]) / width,
                                (boxes[k, 3] - boxes[k, 1]) / height, 1.0)
            out[n, i, j, 5 + labels[k]] = 1.0
    return Tensor._wrap(out)


def _numpy(x) -> np.ndarray:
    return x.detach().numpy() if isinstance(x, Tensor) else np.asarray(x)


def cell_boxes(x, y, w, h, grid: int) -> np.ndarray:
    """``xyxy`` boxes (fractions of the image) from cell offsets and sizes on an
    (..., S, S) grid: centre ((j + x)/S, (i + y)/S)."""
    rows = np.arange(grid).reshape(grid, 1)
    cols = np.arange(grid).reshape(1, grid)
    cx, cy = (cols + x) / grid, (rows + y) / grid
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=-1)


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise IoU of ``xyxy`` boxes (..., 4)."""
    w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = w * h
    union = ((a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
             + (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1]) - inter)
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


class YOLOv1Loss(Module):
    """The YOLOv1 loss (see the module notes for the formula).

    Args:
        num_classes: C.
        boxes_per_cell: B.
        lambda_coord: weight of the coordinate terms (5 in the paper).
        lambda_noobj: weight of the confidence of predictors without an object (0.5).
        rescore: the responsible predictor's confidence target is its IoU with the
            truth (the paper, default) or 1.
        reduction: ``"mean"`` (the sum divided by the number of images) or ``"sum"``.

    ``loss(output, target)``: output (N, S, S, 5B + C) from the network, target
    (N, S, S, 5 + C) from :func:`encode_targets`. After each call ``components`` holds
    the five terms (already weighted), as floats, in the same reduction.
    """

    def __init__(self, num_classes: int = 20, boxes_per_cell: int = 2,
                 lambda_coord: float = 5.0, lambda_noobj: float = 0.5, rescore: bool = True,
                 reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in ("mean", "sum"):
            raise ValueError(f"YOLOv1Loss: reduction must be 'mean' or 'sum', got "
                             f"{reduction!r}")
        self.num_classes, self.boxes_per_cell = num_classes, boxes_per_cell
        self.lambda_coord, self.lambda_noobj = lambda_coord, lambda_noobj
        self.rescore, self.reduction = rescore, reduction
        self.components: dict[str, float] = {}

    def forward(self, output: Tensor, target: Tensor) -> Tensor:
        n_boxes, n_classes = self.boxes_per_cell, self.num_classes
        depth = 5 * n_boxes + n_classes
        if output.ndim != 4 or output.shape[1] != output.shape[2] or output.shape[3] != depth:
            raise ValueError(f"YOLOv1Loss: output must be (N, S, S, 5B + C) = (N, S, S, "
                             f"{depth}), got {tuple(output.shape)}")
        expected = (*output.shape[:3], 5 + n_classes)
        if tuple(target.shape) != expected:
            raise ValueError(f"YOLOv1Loss: target must be (N, S, S, 5 + C) = {expected} "
                             f"for output {tuple(output.shape)}, got {tuple(target.shape)}")
        n, grid = output.shape[0], output.shape[1]
        boxes = output[..., :5 * n_boxes].reshape(n, grid, grid, n_boxes, 5)
        t = target.detach().numpy().astype(np.float64)
        obj = t[..., 4]  # (N, S, S): 1^obj_i

        # the responsible predictor: highest IoU with the truth (ties: the first)
        p = boxes.detach().numpy().astype(np.float64)
        predicted = cell_boxes(p[..., 0].transpose(3, 0, 1, 2), p[..., 1].transpose(3, 0, 1, 2),
                               p[..., 2].transpose(3, 0, 1, 2) ** 2,
                               p[..., 3].transpose(3, 0, 1, 2) ** 2, grid)  # (B, N, S, S, 4)
        truth = cell_boxes(t[..., 0], t[..., 1], t[..., 2], t[..., 3], grid)  # (N, S, S, 4)
        iou = _iou(predicted, truth[None]).transpose(1, 2, 3, 0)  # (N, S, S, B)
        responsible = np.argmax(iou, axis=-1)
        one_hot = np.arange(n_boxes) == responsible[..., None]
        resp = (one_hot * obj[..., None]).astype(output.dtype)  # 1^obj_ij (N, S, S, B)
        noobj = (1 - resp).astype(output.dtype)
        confidence = (iou if self.rescore else np.ones_like(iou)) * resp

        def const(array) -> Tensor:
            return Tensor._wrap(np.asarray(array, dtype=output.dtype))

        resp_t = const(resp)
        xy = ((boxes[..., 0] - const(t[..., None, 0])) ** 2
              + (boxes[..., 1] - const(t[..., None, 1])) ** 2)
        wh = ((boxes[..., 2] - const(np.sqrt(t[..., None, 2]))) ** 2
              + (boxes[..., 3] - const(np.sqrt(t[..., None, 3]))) ** 2)
        terms = {
            "xy": self.lambda_coord * (resp_t * xy).sum(),
            "wh": self.lambda_coord * (resp_t * wh).sum(),
            "obj": (resp_t * (boxes[..., 4] - const(confidence)) ** 2).sum(),
            "noobj": self.lambda_noobj * (const(noobj) * boxes[..., 4] ** 2).sum(),
            "class": (const(obj[..., None])
                      * (output[..., 5 * n_boxes:] - const(t[..., 5:])) ** 2).sum(),
        }
        total = terms["xy"] + terms["wh"] + terms["obj"] + terms["noobj"] + terms["class"]
        scale = 1.0 / n if self.reduction == "mean" else 1.0
        self.components = {name: value.item() * scale for name, value in terms.items()}
        return total * scale if scale != 1.0 else total

    def extra_repr(self) -> str:
        return (f"lambda_coord={self.lambda_coord}, lambda_noobj={self.lambda_noobj}, "
                f"rescore={self.rescore}, reduction={self.reduction!r}")
