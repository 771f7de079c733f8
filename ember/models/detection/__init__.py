"""Object detection models: YOLOv1 with its loss, target encoding and decoding.

>>> import ember as em
>>> model = em.models.detection.yolov1(num_classes=3, grid=8, backbone="small", hidden=64)
>>> loss = em.models.detection.YOLOv1Loss(num_classes=3)
>>> targets = em.models.detection.encode_targets(
...     [{"boxes": em.tensor([[8.0, 8.0, 30.0, 40.0]]), "labels": em.tensor([2])}],
...     grid=8, num_classes=3, image_size=(64, 64))
>>> loss(model(em.zeros(1, 3, 64, 64)), targets).shape
()
"""

from ember.models.detection.yolo import YOLOv1, darknet_backbone, small_backbone, yolov1
from ember.models.detection.yolo_decode import decode
from ember.models.detection.yolo_loss import YOLOv1Loss, encode_targets

__all__ = ["YOLOv1", "YOLOv1Loss", "darknet_backbone", "decode", "encode_targets",
           "small_backbone", "yolov1"]
