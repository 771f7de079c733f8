"""COCO-format detection data: read an annotation file and its images, or write a dataset
as one.

A COCO annotation file is JSON with ``images`` (``id``, ``file_name``, ``width``,
``height``), ``categories`` (``id``, ``name``) and ``annotations`` (``id``, ``image_id``,
``category_id``, ``bbox`` as ``[x, y, width, height]`` in pixels, ``area``, ``iscrowd``).

* :class:`CocoDetection` is torchvision's reader: ``(image, [annotation dicts])``.
* :func:`coco_detection` gives ember's detection samples (``xyxy`` boxes, labels 0..K-1
  in the order of the category ids, which ``classes`` names and ``category_ids`` maps
  back), ready for training and for ``MeanAveragePrecision``.
* :func:`export_coco` writes any detection dataset as PNG files plus an annotation file
  (category ids 1..K) that pycocotools and other tools read.

Images are read and written with Pillow (``pip install "ember[vision]"``), as RGB.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from ember.datasets.detection import DetectionDataset
from ember.tensor import Tensor
from ember.vision.io import read_image, write_image

__all__ = ["CocoDetection", "coco_detection", "export_coco", "read_annotations"]


def read_annotations(annotation_file: str | os.PathLike) -> dict:
    """A COCO annotation file, checked: ``images``, ``annotations`` and ``categories``
    present, every annotation on a listed image and category with a 4-number ``bbox``."""
    path = Path(annotation_file)
    if not path.is_file():
        raise FileNotFoundError(f"no annotation file {path}")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not a JSON file ({error})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a COCO annotation file is a JSON object, got "
                         f"{type(data).__name__}")
    for key in ("images", "annotations", "categories"):
        if not isinstance(data.get(key), list):
            raise ValueError(f"{path}: not a COCO detection file (no {key!r} list)")
    images = {im.get("id") for im in data["images"]}
    categories = {c.get("id") for c in data["categories"]}
    for n, ann in enumerate(data["annotations"]):
        box = ann.get("bbox")
        if not (isinstance(box, list) and len(box) == 4):
            raise ValueError(f"{path}: annotation {n} has no 4-number bbox")
        if ann.get("image_id") not in images:
            raise ValueError(f"{path}: annotation {n} refers to image {ann.get('image_id')!r}, "
                             "which is not in 'images'")
        if ann.get("category_id") not in categories:
            raise ValueError(f"{path}: annotation {n} has category {ann.get('category_id')!r}, "
                             "which is not in 'categories'")
    return data


class CocoDetection(DetectionDataset):
    """torchvision's ``CocoDetection``: sample i is ``(image, annotations)``, the image a
    (3, H, W) float32 tensor in [0, 1] (read when asked for) and the annotations the list
    of the image's annotation dicts as in the file.

    Args:
        root: the folder the ``file_name`` entries are relative to.
        annFile: the annotation file.
        transform, target_transform, transforms: as torchvision's.
    """

    def __init__(self, root: str | os.PathLike, annFile: str | os.PathLike,  # noqa: N803
                 transform=None, target_transform=None, transforms=None) -> None:
        self.root = Path(root)
        self.coco = read_annotations(annFile)
        self.ids = [im["id"] for im in self.coco["images"]]
        self._files = {im["id"]: im.get("file_name") for im in self.coco["images"]}
        self._annotations: dict = {i: [] for i in self.ids}
        for ann in self.coco["annotations"]:
            self._annotations[ann["image_id"]].append(ann)
        categories = sorted(self.coco["categories"], key=lambda c: c["id"])
        self.category_ids = [c["id"] for c in categories]
        self.classes = [str(c.get("name", c["id"])) for c in categories]
        self.transform, self.target_transform = transform, target_transform
        self.transforms = transforms

    def __len__(self) -> int:
        return len(self.ids)

    def image(self, index: int) -> Tensor:
        file = self._files[self.ids[index]]
        if file is None:
            raise ValueError(f"image {self.ids[index]} has no file_name in the annotations")
        pixels = read_image(self.root / file, mode="rgb")
        return Tensor._wrap(pixels.transpose(2, 0, 1).astype(np.float32) / 255)

    def target(self, index: int):
        return self._annotations[self.ids[index]]

    @property
    def image_size(self):
        sizes = {(im.get("height"), im.get("width")) for im in self.coco["images"]}
        return sizes.pop() if len(sizes) == 1 else None


class _CocoBoxes(CocoDetection):
    """COCO data as ember detection samples (see :func:`coco_detection`)."""

    def target(self, index: int) -> dict:
        anns = self._annotations[self.ids[index]]
        label_of = {c: k for k, c in enumerate(self.category_ids)}
        xywh = np.array([a["bbox"] for a in anns], dtype=np.float64).reshape(-1, 4)
        area = np.array([a.get("area", w * h) for a, (_, _, w, h) in zip(anns, xywh,
                                                                          strict=True)])
        boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
        return {"boxes": Tensor._wrap(boxes.astype(np.float32)),
                "labels": Tensor._wrap(np.array([label_of[a["category_id"]] for a in anns],
                                                dtype=np.int64)),
                "area": Tensor._wrap(area.astype(np.float32)),
                "iscrowd": Tensor._wrap(np.array([int(a.get("iscrowd", 0)) for a in anns],
                                                 dtype=np.int64)),
                "image_id": self.ids[index]}


def coco_detection(root: str | os.PathLike, annotation_file: str | os.PathLike,
                   transform=None, target_transform=None, transforms=None) -> CocoDetection:
    """A COCO-format dataset as ember detection samples: ``(image, target)`` with
    ``boxes`` (M, 4) ``xyxy`` float32, ``labels`` (M,) int64 in 0..K-1 (categories sorted
    by id; ``dataset.classes`` names them, ``dataset.category_ids`` gives their COCO ids),
    ``area``, ``iscrowd`` and ``image_id``.

    Args:
        root: the folder of the images (``file_name`` is relative to it).
        annotation_file: the COCO JSON file.
        transform, target_transform, transforms: as :class:`DetectionDataset`.
    """
    return _CocoBoxes(root, annotation_file, transform, target_transform, transforms)


def export_coco(dataset, folder: str | os.PathLike,
                annotation_file: str = "annotations.json") -> str:
    """Write a detection dataset in COCO format: ``folder/images/000000.png``, ... and
    ``folder/annotation_file`` (image ids 0..N-1, category ids 1..K named by
    ``dataset.classes``, ``bbox`` in ``xywh`` pixels, ``area`` the box area). Read it back
    with ``coco_detection(folder / "images", folder / annotation_file)``.

    Returns:
        the annotation file's path.
    """
    folder = Path(folder)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    classes = list(dataset.classes or [])
    images, annotations = [], []
    for i in range(len(dataset)):
        pixels = _pixels(dataset, i)
        name = f"{i:06d}.png"
        write_image(folder / "images" / name, pixels)
        images.append({"id": i, "file_name": name, "height": int(pixels.shape[0]),
                       "width": int(pixels.shape[1])})
        target = dataset.target(i)
        boxes = _numpy(target["boxes"]).reshape(-1, 4).astype(np.float64)
        labels = _numpy(target["labels"]).reshape(-1)
        for box, label in zip(boxes, labels, strict=True):
            w, h = box[2] - box[0], box[3] - box[1]
            annotations.append({"id": len(annotations) + 1, "image_id": i,
                                "category_id": int(label) + 1,
                                "bbox": [float(box[0]), float(box[1]), float(w), float(h)],
                                "area": float(w * h), "iscrowd": 0, "segmentation": []})
            if int(label) >= len(classes):
                classes += [str(k) for k in range(len(classes), int(label) + 1)]
    categories = [{"id": k + 1, "name": name, "supercategory": "shape"}
                  for k, name in enumerate(classes)]
    document = {"info": {"description": "exported by ember"}, "images": images,
                "annotations": annotations, "categories": categories}
    path = folder / annotation_file
    _write_atomically(path, json.dumps(document))
    return str(path)


def _numpy(x) -> np.ndarray:
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x)


def _pixels(dataset, index: int) -> np.ndarray:
    """Image ``index`` as (H, W, 3) uint8."""
    if isinstance(getattr(dataset, "images", None), np.ndarray):
        return dataset.images[index]
    image = _numpy(dataset.image(index)).transpose(1, 2, 0)
    return np.clip(np.round(image * 255), 0, 255).astype(np.uint8)


def _write_atomically(path: Path, text: str) -> None:
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
