"""Datasets: scikit-learn's 8x8 digits (offline), MNIST and Fashion-MNIST (IDX files).

Detection: ``shapes`` (coloured shapes with boxes, generated from a seed, offline),
COCO-format files (``coco_detection``, ``CocoDetection``, ``export_coco``).

Each returns an :class:`ember.data.ArrayDataset` of ``(image, label)`` samples, images
(1, H, W) float32 in [0, 1], with ``.data``, ``.targets`` and ``.classes``, and takes
torchvision's ``transform=`` and ``target_transform=``.

>>> import ember as em
>>> test = em.datasets.digits(train=False)
>>> len(test), test[0][0].shape, test.classes[3]
(359, (1, 8, 8), '3 - three')
"""

from ember.datasets import idx
from ember.datasets.coco import CocoDetection, coco_detection, export_coco
from ember.datasets.detection import DetectionDataset, detection_collate
from ember.datasets.digits import digits
from ember.datasets.mnist import fashion_mnist, mnist
from ember.datasets.shapes import shapes

__all__ = ["digits", "fashion_mnist", "idx", "mnist"]
__all__ += ["CocoDetection", "DetectionDataset", "coco_detection", "detection_collate",
            "export_coco", "shapes"]
