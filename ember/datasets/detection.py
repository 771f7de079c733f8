"""Detection datasets: images with a variable number of boxes each, torchvision-style.

A sample is ``(image, target)``: the image a (3, H, W) float32 tensor in [0, 1], the
target a dict of ``boxes`` ((M, 4) float32, ``xyxy`` in pixels), ``labels`` ((M,) int64,
indices into ``classes``), ``image_id``, ``area`` and ``iscrowd`` (as torchvision's
detection models and ``MeanAveragePrecision`` take them). Batches of detection samples
cannot be stacked (the box counts differ): :func:`detection_collate` stacks the images
and keeps the targets as a list.

>>> import numpy as np
>>> data = DetectionDataset(np.zeros((2, 8, 8, 3), np.uint8),
...                         [{"boxes": np.array([[1, 1, 4, 5.]]), "labels": np.array([0])},
...                          {"boxes": np.zeros((0, 4)), "labels": np.zeros(0, np.int64)}],
...                         classes=["thing"])
>>> image, target = data[0]
>>> image.shape, target["boxes"].tolist(), target["labels"].tolist()
((3, 8, 8), [[1.0, 1.0, 4.0, 5.0]], [0])
>>> images, targets = detection_collate([data[0], data[1]])
>>> images.shape, [len(t["labels"]) for t in targets]
((2, 3, 8, 8), [1, 0])
"""

from __future__ import annotations

import numpy as np

from ember.data.dataset import Dataset
from ember.functions import stack
from ember.tensor import Tensor

__all__ = ["DetectionDataset", "detection_collate"]


def _target_arrays(target: dict, index: int) -> dict:
    """A target's boxes (M, 4) float32, labels (M,) int64, area and iscrowd as arrays."""
    boxes = np.asarray(target["boxes"], dtype=np.float32).reshape(-1, 4)
    labels = np.asarray(target["labels"]).reshape(-1).astype(np.int64)
    if len(labels) != len(boxes):
        raise ValueError(f"DetectionDataset: image {index} has {len(boxes)} boxes but "
                         f"{len(labels)} labels")
    area = target.get("area")
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) if area is None else \
        np.asarray(area, dtype=np.float32).reshape(-1)
    iscrowd = np.asarray(target.get("iscrowd", np.zeros(len(boxes))), np.int64).reshape(-1)
    return {"boxes": boxes, "labels": labels, "area": area, "iscrowd": iscrowd}


class DetectionDataset(Dataset):
    """In-memory images with boxes, labels and torchvision-style transforms.

    Args:
        images: (N, H, W, 3) uint8 (or float in [0, 1]) array, or (N, 3, H, W).
        targets: one dict per image with ``boxes`` (M, 4) ``xyxy`` pixels and ``labels``
            (M,) (optionally ``area``, ``iscrowd``).
        classes: the class names, index = label.
        transform: applied to each image tensor.
        target_transform: applied to each target dict.
        transforms: applied to ``(image, target)`` together (for flips and crops, which
            must move the boxes with the pixels).

    Attributes:
        images: (N, H, W, 3) uint8; targets: the dicts (NumPy arrays); classes.
    """

    def __init__(self, images, targets: list[dict], classes=None, transform=None,
                 target_transform=None, transforms=None) -> None:
        images = images.numpy() if isinstance(images, Tensor) else np.asarray(images)
        if images.ndim == 4 and images.shape[1] in (1, 3) and images.shape[-1] not in (1, 3):
            images = images.transpose(0, 2, 3, 1)
        if images.ndim != 4 or images.shape[-1] not in (1, 3):
            raise ValueError(f"DetectionDataset: images must be (N, H, W, 3) or (N, 3, H, W), "
                             f"got shape {images.shape}")
        if images.dtype.kind == "f":
            images = np.clip(np.round(images * 255), 0, 255).astype(np.uint8)
        if len(targets) != len(images):
            raise ValueError(f"DetectionDataset: {len(images)} images but {len(targets)} "
                             "targets")
        self.images = images.astype(np.uint8, copy=False)
        self.targets = [_target_arrays(t, i) for i, t in enumerate(targets)]
        self.classes = list(classes) if classes is not None else None
        self.transform, self.target_transform = transform, target_transform
        self.transforms = transforms

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image_size(self) -> tuple[int, int]:
        """(height, width) of the images."""
        return tuple(self.images.shape[1:3])

    def image(self, index: int) -> Tensor:
        """Image ``index`` as a (3, H, W) float32 tensor in [0, 1]."""
        return Tensor._wrap(self.images[index].transpose(2, 0, 1).astype(np.float32) / 255)

    def target(self, index: int) -> dict:
        """Target ``index`` as a dict of tensors (and its ``image_id``)."""
        target = {key: Tensor._wrap(value.copy()) for key, value in self.targets[index].items()}
        target["image_id"] = int(index)
        return target

    def __getitem__(self, index):
        index = int(index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range for a dataset of {len(self)} "
                             "images")
        index %= len(self)
        image, target = self.image(index), self.target(index)
        if self.transforms is not None:
            image, target = self.transforms(image, target)
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def to_coco(self, folder, annotation_file: str = "annotations.json") -> str:
        """Write the images as PNG files and the boxes as a COCO annotation file into
        ``folder``; returns the annotation file's path (see :func:`ember.datasets.export_coco`)."""
        from ember.datasets.coco import export_coco

        return export_coco(self, folder, annotation_file)


def detection_collate(batch: list) -> tuple:
    """``(images stacked (N, 3, H, W), [target, ...])``: the collate function for detection
    samples (images of one size; targets with different numbers of boxes)."""
    images, targets = zip(*batch, strict=True)
    if all(isinstance(im, Tensor) for im in images) and len({im.shape for im in images}) == 1:
        return stack(list(images)), list(targets)
    return list(images), list(targets)
