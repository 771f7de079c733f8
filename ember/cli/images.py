"""Images for ``ember predict``: any picture, made to look like the training images.

The training sets have one look: MNIST digits are white strokes on black, fitted into a
20x20 box and centred by their centre of mass in 28x28 (LeCun et al.); Fashion-MNIST
articles are light on black, their longest side scaled to 28; the 8x8 digits fill their
frame. A photo or a drawing is none of these, so :func:`prepare_image`

1. converts to grey (transparent pixels become the background, white),
2. inverts a light background (decided by the mean of the border pixels, or forced),
3. crops to the ink, scales it to the data set's box keeping its aspect ratio, and
   centres it (by centre of mass for MNIST, by its box otherwise),

unless the image already has the training images' size, when only steps 1-2 apply.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# the box the ink is fitted into, and how it is centred, per data set
FIT = {"digits": (8, "box"), "mnist": (20, "mass"), "fashion-mnist": (28, "box")}


def read_image(path: str) -> np.ndarray:
    """A grey image in [0, 1] (H, W) from a PNG/JPEG/... file or a .npy array."""
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"no image file {path}")
    if file.suffix.lower() == ".npy":
        try:
            image = np.load(file, allow_pickle=False).astype(np.float64)
        except ValueError as error:
            raise ValueError(f"{path}: not a readable .npy array ({error})") from None
        if image.ndim == 3 and image.shape[0] in (1, 3, 4):
            image = image.mean(axis=0) if image.shape[0] != 4 else image[:3].mean(axis=0)
        if image.ndim != 2 or image.size == 0:
            raise ValueError(f"{path}: expected a 2-d grey image array, got shape "
                             f"{image.shape}")
        top = image.max()
        return image / (16.0 if top > 1 and top <= 16 else 255.0 if top > 1 else 1.0)
    try:
        from PIL import Image
    except ImportError:
        raise ImportError('reading image files needs Pillow: pip install "ember[plot]"'
                          ) from None
    try:
        with Image.open(file) as handle:
            handle.load()
            if handle.mode in ("RGBA", "LA", "PA") or "transparency" in handle.info:
                rgba = handle.convert("RGBA")
                background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                handle = Image.alpha_composite(background, rgba)
            grey = handle.convert("L")
            return np.asarray(grey, dtype=np.float64) / 255.0
    except OSError as error:
        raise ValueError(f"{path}: not a readable image ({error})") from None


def has_light_background(image: np.ndarray) -> bool:
    """Whether the border of ``image`` is mostly light (dark ink on paper)."""
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    return float(np.median(border)) > 0.5


def prepare_image(image: np.ndarray, size: tuple[int, int], dataset: str,
                  invert: bool | None = None) -> np.ndarray:
    """``image`` (H, W) in [0, 1] as the data set's images look: light ink on black, of
    ``size``, fitted and centred as described in the module docs. ``invert``: None
    decides from the border; True/False forces it."""
    if invert is None:
        invert = has_light_background(image)
    if invert:
        image = 1.0 - image
    if image.shape == tuple(size):
        return image.astype(np.float32)
    box, centring = FIT.get(dataset, (min(size), "box"))
    box = min(box, *size)
    ink = image > max(0.1, 0.25 * float(image.max()))
    if not ink.any():
        return _resize(image, size).astype(np.float32)
    rows, cols = np.nonzero(ink)
    crop = image[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    scale = box / max(crop.shape)
    height = max(1, min(size[0], round(crop.shape[0] * scale)))
    width = max(1, min(size[1], round(crop.shape[1] * scale)))
    fitted = np.clip(_resize(crop, (height, width)), 0.0, 1.0)
    canvas = np.zeros(size, dtype=np.float64)
    if centring == "mass" and fitted.sum() > 0:
        ys, xs = np.indices(fitted.shape)
        cy, cx = (ys * fitted).sum() / fitted.sum(), (xs * fitted).sum() / fitted.sum()
        top = int(round((size[0] - 1) / 2 - cy))
        left = int(round((size[1] - 1) / 2 - cx))
    else:
        top, left = (size[0] - height) // 2, (size[1] - width) // 2
    top = min(max(top, 0), size[0] - height)
    left = min(max(left, 0), size[1] - width)
    canvas[top:top + height, left:left + width] = fitted
    return canvas.astype(np.float32)


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Area-averaging resize (antialiased when shrinking), bilinear when enlarging."""
    from PIL import Image

    pil = Image.fromarray(image.astype(np.float32), mode="F")
    shrinking = size[0] < image.shape[0] or size[1] < image.shape[1]
    method = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
    return np.asarray(pil.resize((size[1], size[0]), method), dtype=np.float64)
