"""A segmentation dataset from two folders: images and their masks of class indices.

::

    root/
      images/  0001.png  0002.jpg  ...    RGB or grey images
      masks/   0001.png  0002.png  ...    one mask per image, same file stem: a grey or
                                          palette ("P") PNG whose values are class indices,
                                          or a .npy integer array
      classes.txt                         optional: one class name per line

(Pascal VOC's ``SegmentationClass`` PNGs are palette images of class indices, with 255 on
object outlines: pass ``ignore_index=255`` to the loss and the metrics.)

>>> import ember as em
>>> em.datasets.segmentation_folder("data/my-set")  # doctest: +SKIP
ArrayDataset(
    samples: 120
    ...
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ember.data.dataset import ArrayDataset

__all__ = ["segmentation_folder", "read_mask", "read_image", "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".npy")


def _pillow():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError('reading image files needs Pillow: pip install "ember[plot]"'
                          ) from None
    return Image


def read_image(path: str | Path, mode: str = "RGB") -> np.ndarray:
    """An image file as (C, H, W) float32 in [0, 1] (``mode`` ``"RGB"`` or ``"L"``), or a
    .npy array ((H, W) or (C, H, W); integer arrays are divided by 255)."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        array = _load_npy(path)
        image = array.astype(np.float32) / (255.0 if array.dtype.kind in "iub" else 1.0)
        return image[None] if image.ndim == 2 else image
    Image = _pillow()
    try:
        with Image.open(path) as handle:
            array = np.asarray(handle.convert(mode), dtype=np.float32) / 255.0
    except OSError as error:
        raise ValueError(f"{path}: not a readable image ({error})") from None
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1).copy()


def read_mask(path: str | Path) -> np.ndarray:
    """A mask file as (H, W) int64 class indices: a grey or palette PNG (its values or
    palette indices, not colours) or an integer .npy array."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        mask = _load_npy(path)
    else:
        Image = _pillow()
        try:
            with Image.open(path) as handle:
                if handle.mode not in ("P", "L", "I", "I;16", "1"):
                    raise ValueError(f"{path}: a mask must be a grey or palette image of class "
                                     f"indices, not mode {handle.mode!r} (colours)")
                mask = np.asarray(handle)
        except OSError as error:
            raise ValueError(f"{path}: not a readable image ({error})") from None
    if mask.ndim != 2 or mask.dtype.kind not in "iub":
        raise ValueError(f"{path}: a mask must be a 2-d array of integer class indices, got "
                         f"shape {mask.shape} and dtype {mask.dtype}")
    return mask.astype(np.int64)


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as error:
        raise ValueError(f"{path}: not a readable .npy array ({error})") from None


def segmentation_folder(root: str | Path, images: str = "images", masks: str = "masks",
                        mode: str = "RGB", classes=None, transform=None,
                        target_transform=None) -> ArrayDataset:
    """Read ``root/images`` and ``root/masks`` (pairs by file stem) into memory.

    Args:
        root: the folder.
        images, masks: the sub-folders' names.
        mode: ``"RGB"`` (3 channels) or ``"L"`` (grey, 1 channel).
        classes: the class names; default ``root/classes.txt`` (one per line) if present,
            else ``"0", "1", ...`` up to the largest label (255, an ignore value, aside).
        transform, target_transform: applied to each image / mask Tensor.

    Returns:
        an :class:`~ember.data.ArrayDataset` of ``(image (C, H, W) float32, mask (H, W)
        int64)``, sorted by file name; ``.files`` lists the image paths.

    Raises:
        ValueError: a missing folder or mask, an unreadable file, or images of different
            sizes (resize them first: the samples are stacked into one array).
    """
    root = Path(root)
    image_dir, mask_dir = root / images, root / masks
    for folder in (image_dir, mask_dir):
        if not folder.is_dir():
            raise ValueError(f"segmentation_folder: no folder {folder}")
    image_files = sorted(p for p in image_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not image_files:
        raise ValueError(f"segmentation_folder: no images in {image_dir}")
    masks_by_stem = {p.stem: p for p in sorted(mask_dir.iterdir())
                     if p.suffix.lower() in (".png", ".bmp", ".tif", ".tiff", ".npy")}
    data, targets = [], []
    for file in image_files:
        if file.stem not in masks_by_stem:
            raise ValueError(f"segmentation_folder: no mask for {file.name} in {mask_dir} "
                             f"(expected {file.stem}.png or {file.stem}.npy)")
        image, mask = read_image(file, mode), read_mask(masks_by_stem[file.stem])
        if image.shape[-2:] != mask.shape:
            raise ValueError(f"segmentation_folder: {file.name} is "
                             f"{image.shape[-2]}x{image.shape[-1]} but its mask is "
                             f"{mask.shape[0]}x{mask.shape[1]}")
        if data and image.shape != data[0].shape:
            raise ValueError(f"segmentation_folder: {file.name} has shape {image.shape}, "
                             f"{image_files[0].name} {data[0].shape}; all images must have "
                             "one size (resize them first)")
        data.append(image)
        targets.append(mask)
    targets = np.stack(targets)
    if classes is None:
        names = root / "classes.txt"
        if names.is_file():
            classes = [line.strip() for line in names.read_text().splitlines() if line.strip()]
        else:
            labels = targets[targets != 255]
            classes = [str(c) for c in range(int(labels.max()) + 1 if labels.size else 1)]
    dataset = ArrayDataset(np.stack(data), targets, transform, target_transform,
                           classes=classes)
    dataset.root, dataset.files = str(root), [str(p) for p in image_files]
    return dataset
