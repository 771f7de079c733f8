"""Drawing results onto images: Hough lines, rectangles, colour-coded labels, and any
result scaled for display (used by ``ember vision`` and the gallery); labelled detection
boxes (torchvision's ``utils.draw_bounding_boxes``, through Pillow, used by ``ember
detect``).

>>> import ember as em
>>> image = em.zeros(3, 20, 30, dtype=em.uint8)
>>> out = draw_bounding_boxes(image, em.tensor([[2.0, 3.0, 12.0, 15.0]]), ["cat"],
...                           colors="red")
>>> out.shape, out.dtype, out[:, 3, 5].tolist()  # the top edge is red
((3, 20, 30), dtype('uint8'), [255, 0, 0])
"""

from __future__ import annotations

import numpy as np

from ember.tensor import Tensor

__all__ = ["to_display", "draw_polar_lines", "draw_rectangle", "color_labels",
           "draw_bounding_boxes", "PALETTE"]


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


#: colours cycled over labels when none are given (matplotlib's "tab10")
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")


def _pil():
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        raise ImportError('drawing boxes needs Pillow: pip install "ember[vision]"') from None
    return Image, ImageDraw, ImageFont


def draw_bounding_boxes(image, boxes, labels: list[str] | None = None, colors=None,
                        fill: bool = False, width: int = 1, font_size: int | None = None,
                        dashed: bool = False) -> Tensor:
    """The image with ``xyxy`` boxes (absolute pixel coordinates) drawn on it.

    Args:
        image: (C, H, W) uint8 in [0, 255] or float in [0, 1]; 1 or 3 channels.
        boxes: (N, 4) ``xyxy`` boxes.
        labels: N strings written above the boxes (optional).
        colors: one colour for all (a name, ``"#rrggbb"`` or an RGB tuple) or one per
            box; by default one of :data:`PALETTE` per distinct label.
        fill: fill the boxes, half transparent.
        width: the line width in pixels.
        font_size: the label font size (Pillow's default font when None).
        dashed: draw dashed outlines (for ground truth next to predictions).

    Returns:
        a (3, H, W) image (grey input comes back in colour) of the input's kind: uint8,
        or float in [0, 1].
    """
    Image, ImageDraw, ImageFont = _pil()
    array = image.detach().numpy() if isinstance(image, Tensor) else np.asarray(image)
    if array.ndim != 3 or array.shape[0] not in (1, 3):
        raise ValueError(f"draw_bounding_boxes: image must be (C, H, W) with 1 or 3 channels, "
                         f"got shape {array.shape}")
    is_float = array.dtype.kind == "f"
    pixels = np.clip(array * 255 + 0.5, 0, 255).astype(np.uint8) if is_float else \
        array.astype(np.uint8)
    if pixels.shape[0] == 1:
        pixels = np.repeat(pixels, 3, axis=0)
    boxes = boxes.detach().numpy() if isinstance(boxes, Tensor) else np.asarray(boxes)
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if labels is not None and len(labels) != len(boxes):
        raise ValueError(f"draw_bounding_boxes: {len(boxes)} boxes but {len(labels)} labels")
    colours = _colours(colors, labels, len(boxes))
    canvas = Image.fromarray(np.ascontiguousarray(pixels.transpose(1, 2, 0)))
    draw = ImageDraw.Draw(canvas, "RGBA" if fill else None)
    font = (ImageFont.load_default() if font_size is None
            else ImageFont.load_default(size=font_size))
    for i, (x1, y1, x2, y2) in enumerate(boxes.tolist()):
        colour = colours[i]
        if dashed:
            _dashed_rectangle(draw, (x1, y1, x2, y2), colour, width)
        else:
            draw.rectangle((x1, y1, x2, y2), outline=colour, width=width,
                           fill=(*_rgb(colour), 90) if fill else None)
        if labels is not None and labels[i]:
            draw.text((x1 + width + 1, y1 + width), str(labels[i]), fill=colour, font=font)
    out = np.asarray(canvas).transpose(2, 0, 1).copy()
    return Tensor._wrap((out / 255.0).astype(array.dtype) if is_float else out)


def _rgb(colour) -> tuple[int, int, int]:
    from PIL import ImageColor

    if isinstance(colour, str):
        return ImageColor.getrgb(colour)[:3]
    return tuple(int(c) for c in colour)[:3]


def _colours(colors, labels, n: int) -> list:
    if colors is None:
        keys = labels if labels is not None else [""] * n
        order = {key: i for i, key in enumerate(dict.fromkeys(keys))}
        return [_rgb(PALETTE[order[key] % len(PALETTE)]) for key in keys]
    if isinstance(colors, (str, tuple)):
        return [_rgb(colors)] * n
    if len(colors) != n:
        raise ValueError(f"draw_bounding_boxes: {n} boxes but {len(colors)} colours")
    return [_rgb(c) for c in colors]


def _dashed_rectangle(draw, box, colour, width: int, dash: int = 4) -> None:
    x1, y1, x2, y2 = box
    for (a, b) in (((x1, y1), (x2, y1)), ((x2, y1), (x2, y2)), ((x2, y2), (x1, y2)),
                   ((x1, y2), (x1, y1))):
        length = max(abs(b[0] - a[0]), abs(b[1] - a[1]))
        steps = max(int(length // dash), 1)
        for s in range(0, steps, 2):
            t0, t1 = s / steps, min((s + 1) / steps, 1.0)
            draw.line((a[0] + (b[0] - a[0]) * t0, a[1] + (b[1] - a[1]) * t0,
                       a[0] + (b[0] - a[0]) * t1, a[1] + (b[1] - a[1]) * t1),
                      fill=colour, width=width)
