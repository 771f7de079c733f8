"""Detection operators with torchvision's names and semantics (``torchvision.ops``).

* boxes (:mod:`~ember.vision.ops.boxes`): ``box_convert``, ``box_area``, ``box_iou``,
  ``generalized_box_iou``, ``distance_box_iou``, ``complete_box_iou``,
  ``remove_small_boxes``, ``clip_boxes_to_image``, ``masks_to_boxes``;
* losses (:mod:`~ember.vision.ops.losses`): ``generalized_box_iou_loss``,
  ``distance_box_iou_loss``, ``complete_box_iou_loss``;
* non-maximum suppression (:mod:`~ember.vision.ops.nms`): ``nms``, ``batched_nms``;
* region pooling (:mod:`~ember.vision.ops.roi`): ``roi_pool``, ``roi_align``,
  ``RoIPool``, ``RoIAlign``.

Everything but NMS (a selection) is differentiable where torchvision's is.

>>> import ember as em
>>> from ember.vision import ops
>>> boxes = em.tensor([[0.0, 0.0, 4.0, 4.0], [1.0, 0.0, 5.0, 4.0], [8.0, 8.0, 9.0, 9.0]])
>>> ops.box_iou(boxes[:1], boxes)
tensor([[1.0000, 0.6000, 0.0000]])
>>> ops.nms(boxes, em.tensor([0.6, 0.9, 0.5]), iou_threshold=0.5)
tensor([1, 2])
"""

from ember.vision.ops.boxes import (
    box_area,
    box_convert,
    box_iou,
    clip_boxes_to_image,
    complete_box_iou,
    distance_box_iou,
    generalized_box_iou,
    masks_to_boxes,
    remove_small_boxes,
)
from ember.vision.ops.losses import (
    complete_box_iou_loss,
    distance_box_iou_loss,
    generalized_box_iou_loss,
)
from ember.vision.ops.nms import batched_nms, nms
from ember.vision.ops.roi import RoIAlign, RoIPool, roi_align, roi_pool

__all__ = [
    "box_area", "box_convert", "box_iou", "clip_boxes_to_image", "complete_box_iou",
    "distance_box_iou", "generalized_box_iou", "masks_to_boxes", "remove_small_boxes",
    "complete_box_iou_loss", "distance_box_iou_loss", "generalized_box_iou_loss",
    "batched_nms", "nms", "RoIAlign", "RoIPool", "roi_align", "roi_pool",
]
