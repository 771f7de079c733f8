"""Drawing results onto images: Hough lines, rectangles, colour-coded labels, and any
result scaled for display (used by ``ember vision`` and the gallery)."""

from __future__ import annotations

import numpy as np

__all__ = ["to_display", "draw_polar_lines", "draw_rectangle", "color_labels"]


def to_display(image) -> np.ndarray:
    """An (H, W) or (H, W, 3) uint8 image for viewing: uint8 as it is, booleans as 0/255,
    signed results (derivatives) as |x| scaled so the largest is 255, others scaled to
    0..255 from their minimum and maximum.

    >>> to_display(np.array([[-2.0, 0.0, 4.0]])).tolist()
    [[128, 0, 255]]
    """
    array = np.asarray(image)
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    array = array.astype(np.float64)
    if array.min() < 0:
        array = np.abs(array)
        low, high = 0.0, array.max()
    else:
        low, high = array.min(), array.max()
    if high <= low:
        return np.zeros(array.shape, np.uint8)
    return np.rint((array - low) * (255.0 / (high - low))).astype(np.uint8)


def _colour(image: np.ndarray) -> np.ndarray:
    image = to_display(image)
    return np.repeat(image[:, :, None], 3, axis=2) if image.ndim == 2 else image.copy()


def draw_polar_lines(image, lines, color=(255, 0, 0)) -> np.ndarray:
    """An RGB copy of ``image`` with each line ``rho = x cos(theta) + y sin(theta)``
    drawn across it (one pixel wide).

    >>> canvas = draw_polar_lines(np.zeros((4, 5), np.uint8), [(2.0, np.pi / 2)])
    >>> canvas[:, :, 0].tolist()[2]
    [255, 255, 255, 255, 255]
    """
    out = _colour(image)
    height, width = out.shape[:2]
    for rho, theta in np.asarray(lines, dtype=np.float64).reshape(-1, 2)[:, :2]:
        c, s = np.cos(theta), np.sin(theta)
        if abs(s) > abs(c):  # more horizontal: one point per column
            xs = np.arange(width)
            ys = np.rint((rho - xs * c) / s).astype(int)
        else:
            ys = np.arange(height)
            xs = np.rint((rho - ys * s) / c).astype(int)
        inside = (xs >= 0) & (xs < width) & (ys >= 0) & (ys < height)
        out[ys[inside], xs[inside]] = color
    return out


def draw_rectangle(image, top: int, left: int, height: int, width: int, color=(255, 0, 0),
                   thickness: int = 2) -> np.ndarray:
    """An RGB copy of ``image`` with a rectangle outline (clipped to the image)."""
    out = _colour(image)
    rows, cols = out.shape[:2]
    for t in range(thickness):
        r0, r1 = max(top - t, 0), min(top + height - 1 + t, rows - 1)
        c0, c1 = max(left - t, 0), min(left + width - 1 + t, cols - 1)
        out[r0, c0:c1 + 1] = out[r1, c0:c1 + 1] = color
        out[r0:r1 + 1, c0] = out[r0:r1 + 1, c1] = color
    return out


def color_labels(labels, seed: int = 0) -> np.ndarray:
    """An RGB image with one random colour per label (label 0, the background, black).

    >>> color_labels(np.array([[0, 1], [1, 2]])).shape
    (2, 2, 3)
    """
    labels = np.asarray(labels)
    palette = np.random.default_rng(seed).integers(64, 256, (int(labels.max()) + 1, 3))
    palette[0] = 0
    return palette[labels].astype(np.uint8)
