"""From YOLOv1's output grid to a list of boxes: score, threshold, suppress.

For each of the S x S x B predicted boxes (section 2 of the paper, "at test time"):

1. the box: centre ((j + x)/S, (i + y)/S), size (sqrt_w^2, sqrt_h^2), as fractions of the
   image, scaled to pixels and clipped to the image;
2. its class-specific confidence: Pr(class | object) Pr(object) IoU = p_i(c) C, for the
   cell's most probable class c (the raw linear outputs are clipped to [0, 1] first);
3. boxes scoring at most ``conf_threshold`` are dropped;
4. non-maximum suppression within each class (``batched_nms``) at ``iou_threshold``;
5. the ``max_detections`` best-scoring boxes are kept.
"""

from __future__ import annotations

import numpy as np

from ember.models.detection.yolo_loss import cell_boxes
from ember.tensor import Tensor
from ember.vision.ops.nms import batched_nms

__all__ = ["decode"]


def decode(output: Tensor, num_classes: int, boxes_per_cell: int,
           image_size: tuple[int, int], conf_threshold: float = 0.2,
           iou_threshold: float = 0.5, max_detections: int = 100) -> list[dict]:
    """Detections from a YOLOv1 output.

    Args:
        output: (N, S, S, 5B + C).
        num_classes: C.
        boxes_per_cell: B.
        image_size: (height, width) in pixels of the images the boxes are for.
        conf_threshold: keep boxes scoring above this (use a low one, e.g. 0.01, to
            measure mAP over the whole precision-recall curve).
        iou_threshold: the NMS threshold.
        max_detections: at most this many boxes per image.

    Returns:
        one dict per image: ``boxes`` (K, 4) float32 ``xyxy`` pixels, ``scores`` (K,)
        float32 and ``labels`` (K,) int64, by decreasing score.

    >>> import ember as em
    >>> out = em.zeros(1, 2, 2, 7)              # S = 2, B = 1, C = 2
    >>> out[0, 1, 0] = em.tensor([0.5, 0.5, 0.5, 0.5, 0.9, 0.1, 0.8])
    >>> d = decode(out, num_classes=2, boxes_per_cell=1, image_size=(100, 100))[0]
    >>> d["boxes"].tolist(), [round(s, 2) for s in d["scores"].tolist()], d["labels"].tolist()
    ([[12.5, 62.5, 37.5, 87.5]], [0.72], [1])
    """
    data = output.detach().numpy().astype(np.float64)
    depth = 5 * boxes_per_cell + num_classes
    if data.ndim != 4 or data.shape[1] != data.shape[2] or data.shape[3] != depth:
        raise ValueError(f"decode: output must be (N, S, S, 5B + C) = (N, S, S, {depth}), got "
                         f"{data.shape}")
    height, width = image_size
    n, grid = data.shape[0], data.shape[1]
    boxes = data[..., :5 * boxes_per_cell].reshape(n, grid, grid, boxes_per_cell, 5)
    boxes = boxes.transpose(0, 3, 1, 2, 4)  # (N, B, S, S, 5)
    probabilities = np.clip(data[..., 5 * boxes_per_cell:], 0, 1)  # (N, S, S, C)
    best_class = probabilities.argmax(axis=-1)
    best_probability = probabilities.max(axis=-1)
    xyxy = cell_boxes(boxes[..., 0], boxes[..., 1], boxes[..., 2] ** 2, boxes[..., 3] ** 2,
                      grid) * np.array([width, height, width, height])
    xyxy[..., 0::2] = np.clip(xyxy[..., 0::2], 0, width)
    xyxy[..., 1::2] = np.clip(xyxy[..., 1::2], 0, height)
    scores = np.clip(boxes[..., 4], 0, 1) * best_probability[:, None]  # (N, B, S, S)
    labels = np.broadcast_to(best_class[:, None], scores.shape)
    results = []
    for k in range(n):
        keep = scores[k].reshape(-1) > conf_threshold
        b = xyxy[k].reshape(-1, 4)[keep]
        s = scores[k].reshape(-1)[keep]
        c = labels[k].reshape(-1)[keep]
        chosen = batched_nms(b, s, c, iou_threshold).numpy()[:max_detections]
        results.append({"boxes": Tensor._wrap(b[chosen].astype(np.float32)),
                        "scores": Tensor._wrap(s[chosen].astype(np.float32)),
                        "labels": Tensor._wrap(c[chosen].astype(np.int64))})
    return results
