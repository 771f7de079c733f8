"""Shapes: a detection dataset that ships with ember, drawn on the fly from a seed.

Each image is a colour gradient with noise, on which 1 to ``max_objects`` filled shapes
are painted, later ones over earlier ones (partial occlusion): axis-aligned
**rectangles**, **ellipses** and **triangles** (apex on one side of the box, base along
the opposite side, in one of four orientations), of random size, aspect ratio and colour
(kept apart from the background). The boxes are the shapes' exact bounding boxes in
pixels (``xyxy``, continuous coordinates; pixels are painted where their centre falls
inside the shape). A new shape may cover at most ``max_overlap`` of an earlier shape's box
(and of its own), so every object stays visible.

Image i of a split depends only on ``(seed, split, i)``: the same on every machine and
call, and a smaller dataset is a prefix of a larger one. The training and test splits
come from different streams and never share an image.

>>> import ember as em
>>> data = em.datasets.shapes(train=False, num_images=3, image_size=48)
>>> image, target = data[0]
>>> image.shape, image.dtype, data.classes
((3, 48, 48), dtype('float32'), ['rectangle', 'ellipse', 'triangle'])
>>> target["boxes"].shape[1], target["labels"].dtype
(4, dtype('int64'))
"""

from __future__ import annotations

import functools

import numpy as np

from ember.datasets.detection import DetectionDataset

__all__ = ["shapes", "generate_shapes", "CLASSES"]

CLASSES = ("rectangle", "ellipse", "triangle")


def shapes(train: bool = True, num_images: int | None = None, image_size: int = 64,
           max_objects: int = 4, min_size: float = 10.0, max_size: float = 30.0,
           noise: float = 0.04, max_overlap: float = 0.3, seed: int = 0, transform=None,
           target_transform=None, transforms=None) -> DetectionDataset:
    """The shapes detection dataset (generated in a second or so; nothing to download).

    Args:
        train: the training split (True) or the test split (False).
        num_images: images in the split (default 2,000 for training, 500 for test).
        image_size: the images are image_size x image_size RGB.
        max_objects: at most this many shapes per image (at least one).
        min_size, max_size: range of the shapes' widths and heights, in pixels.
        noise: standard deviation of the Gaussian pixel noise, as a fraction of 255.
        max_overlap: the largest share of a box another shape may cover.
        seed: the dataset's seed (its own generator: independent of ``em.manual_seed``).
        transform, target_transform, transforms: as :class:`DetectionDataset`.

    Returns:
        a :class:`~ember.datasets.detection.DetectionDataset` with ``classes``
        ``['rectangle', 'ellipse', 'triangle']``.
    """
    if num_images is None:
        num_images = 2000 if train else 500
    images, targets = generate_shapes(num_images, image_size, max_objects, min_size, max_size,
                                      noise, max_overlap, seed, split=0 if train else 1)
    dataset = DetectionDataset(images, targets, CLASSES, transform, target_transform,
                               transforms)
    dataset.train, dataset.split = train, "train" if train else "test"
    return dataset


def generate_shapes(num_images: int, image_size: int = 64, max_objects: int = 4,
                    min_size: float = 10.0, max_size: float = 30.0, noise: float = 0.04,
                    max_overlap: float = 0.3, seed: int = 0,
                    split: int = 0) -> tuple[np.ndarray, list[dict]]:
    """``(images (N, S, S, 3) uint8, targets)``: the arrays behind :func:`shapes`."""
    if not 1 <= max_objects:
        raise ValueError(f"shapes: max_objects must be at least 1, got {max_objects}")
    if not 1 <= min_size <= max_size <= image_size:
        raise ValueError(f"shapes: need 1 <= min_size <= max_size <= image_size, got "
                         f"{min_size}, {max_size}, {image_size}")
    if num_images < 0:
        raise ValueError(f"shapes: num_images must be >= 0, got {num_images}")
    images = np.empty((num_images, image_size, image_size, 3), dtype=np.uint8)
    targets = []
    for i in range(num_images):
        rng = np.random.default_rng([int(seed), int(split), i])
        images[i], target = _draw_image(rng, image_size, max_objects, min_size, max_size,
                                        noise, max_overlap)
        targets.append(target)
    return images, targets


@functools.lru_cache(maxsize=4)
def _centres(size: int) -> tuple[np.ndarray, np.ndarray]:
    """(y, x) of every pixel centre, (size, size) each."""
    y, x = np.mgrid[0:size, 0:size] + 0.5
    return y, x


def _background(rng, size: int) -> np.ndarray:
    """A linear gradient between two muted colours, in a random direction."""
    start, end = rng.uniform(40, 215, (2, 3))
    angle = rng.uniform(0, 2 * np.pi)
    y, x = _centres(size)
    t = x * np.cos(angle) + y * np.sin(angle)
    t = (t - t.min()) / max(t.max() - t.min(), 1e-9)
    return start + (end - start) * t[..., None]


def _mask(kind: int, box: np.ndarray, rng, size: int) -> np.ndarray:
    """Pixels whose centre lies inside the shape of class ``kind`` filling ``box``."""
    x1, y1, x2, y2 = box
    y, x = _centres(size)
    if kind == 0:  # rectangle
        return (x >= x1) & (x < x2) & (y >= y1) & (y < y2)
    if kind == 1:  # ellipse
        cx, cy, rx, ry = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) / 2, (y2 - y1) / 2
        return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1.0
    # triangle: the apex on one side of the box, the base along the opposite side
    a = rng.uniform(0.15, 0.85)
    side = rng.integers(0, 4)
    corners = {
        0: [(x1 + a * (x2 - x1), y1), (x2, y2), (x1, y2)],  # apex up
        1: [(x1 + a * (x2 - x1), y2), (x1, y1), (x2, y1)],  # apex down
        2: [(x1, y1 + a * (y2 - y1)), (x2, y1), (x2, y2)],  # apex left
        3: [(x2, y1 + a * (y2 - y1)), (x1, y2), (x1, y1)],  # apex right
    }[int(side)]
    signs = []
    for (ax, ay), (bx, by) in zip(corners, corners[1:] + corners[:1], strict=True):
        signs.append((bx - ax) * (y - ay) - (by - ay) * (x - ax))
    positive = np.all([s >= 0 for s in signs], axis=0)
    negative = np.all([s <= 0 for s in signs], axis=0)
    return positive | negative


def _overlap_ok(box: np.ndarray, boxes: list, limit: float) -> bool:
    """Whether ``box`` covers at most ``limit`` of every earlier box and they of it."""
    for other in boxes:
        w = min(box[2], other[2]) - max(box[0], other[0])
        h = min(box[3], other[3]) - max(box[1], other[1])
        if w <= 0 or h <= 0:
            continue
        inter = w * h
        area_new = (box[2] - box[0]) * (box[3] - box[1])
        area_old = (other[2] - other[0]) * (other[3] - other[1])
        if inter > limit * area_old or inter > limit * area_new:
            return False
    return True


def _colour(rng, background: np.ndarray, box: np.ndarray) -> np.ndarray:
    """A colour far (> 90 in RGB distance) from the background under the box, if one is
    found in 30 draws."""
    x1, y1, x2, y2 = (int(v) for v in box)
    local = background[y1:max(y2, y1 + 1), x1:max(x2, x1 + 1)].reshape(-1, 3).mean(axis=0)
    colour = rng.uniform(0, 255, 3)
    for _ in range(30):
        if np.linalg.norm(colour - local) > 90:
            break
        colour = rng.uniform(0, 255, 3)
    return colour


def _draw_image(rng, size: int, max_objects: int, min_size: float, max_size: float,
                noise: float, max_overlap: float) -> tuple[np.ndarray, dict]:
    background = _background(rng, size)
    image = background.copy()
    boxes, labels = [], []
    for _ in range(int(rng.integers(1, max_objects + 1))):
        for _attempt in range(30):
            w, h = rng.uniform(min_size, max_size, 2)
            x1, y1 = rng.uniform(0, size - w), rng.uniform(0, size - h)
            box = np.array([x1, y1, x1 + w, y1 + h])
            if _overlap_ok(box, boxes, max_overlap):
                break
        else:
            continue  # no room left for this shape
        kind = int(rng.integers(0, len(CLASSES)))
        image[_mask(kind, box, rng, size)] = _colour(rng, background, box)
        boxes.append(box)
        labels.append(kind)
    image += rng.normal(0, noise * 255, image.shape)
    pixels = np.clip(np.round(image), 0, 255).astype(np.uint8)
    target = {"boxes": np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
              "labels": np.asarray(labels, dtype=np.int64)}
    return pixels, target
