"""The image operations behind the transforms, on NumPy arrays of shape (..., H, W).

Each takes and returns an array (any leading dimensions, e.g. (C, H, W) or (N, C, H, W),
share the same operation) and keeps its dtype; integer images are rounded and clipped
after interpolation. Coordinates follow torchvision: x runs along the width (columns),
y down the height (rows), and pixel (i, j) has its centre at (j + 0.5, i + 0.5).

>>> import numpy as np
>>> image = np.arange(9.0).reshape(1, 3, 3)
>>> hflip(image)[0, 0].tolist()
[2.0, 1.0, 0.0]
>>> rotate(image, 90)[0].tolist()      # counter-clockwise
[[2.0, 5.0, 8.0], [1.0, 4.0, 7.0], [0.0, 3.0, 6.0]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

PADDING_MODES = {"constant": "constant", "edge": "edge", "reflect": "reflect",
                 "symmetric": "symmetric"}
INTERPOLATIONS = ("nearest", "bilinear")


def check_image(image: np.ndarray, op: str) -> None:
    if image.ndim < 2:
        raise ValueError(f"{op}: expects an image of shape (..., H, W), got shape {image.shape}")


def pair(size, name: str) -> tuple[int, int]:
    """An int or a sequence of one or two ints as (height, width)."""
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) in (1, 2):
        h, w = (size[0], size[0]) if len(size) == 1 else size
        return int(h), int(w)
    raise ValueError(f"{name} must be an int or a sequence of 1 or 2 ints (height, width), "
                     f"got {size!r}")


def padding_ltrb(padding) -> tuple[int, int, int, int]:
    """torchvision's padding: an int (all sides), (left/right, top/bottom) or
    (left, top, right, bottom)."""
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
        padding = [int(padding)] * 4
    elif isinstance(padding, Sequence) and len(padding) in (1, 2, 4):
        padding = [int(p) for p in padding]
        if len(padding) == 1:
            padding = padding * 4
        elif len(padding) == 2:
            padding = padding * 2
    else:
        raise ValueError(f"padding must be an int or a sequence of 1, 2 or 4 ints, got "
                         f"{padding!r}")
    if any(p < 0 for p in padding):
        raise ValueError(f"padding must be non-negative, got {padding}")
    return tuple(padding)


def channel_fill(fill, image: np.ndarray, op: str) -> np.ndarray:
    """``fill`` (a number, or one value per channel) as an array broadcasting over image."""
    values = np.asarray(fill, dtype=np.float64)
    if values.ndim == 0 or values.size == 1:
        return values.reshape(())
    if values.ndim != 1 or image.ndim < 3 or values.size != image.shape[-3]:
        raise ValueError(f"{op}: fill must be a number or one value per channel, got {fill!r} "
                         f"for an image of shape {image.shape}")
    return values.reshape(-1, 1, 1)


def to_dtype(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float results back to the image's dtype (rounded and clipped for integer types)."""
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        values = np.clip(np.rint(values), info.min, info.max)
    elif dtype.kind == "b":
        values = values >= 0.5
    return values.astype(dtype, copy=False)


def hflip(image: np.ndarray) -> np.ndarray:
    """Left and right swapped (the last axis reversed)."""
    check_image(image, "hflip")
    return image[..., ::-1].copy()


def vflip(image: np.ndarray) -> np.ndarray:
    """Top and bottom swapped (the second-to-last axis reversed)."""
    check_image(image, "vflip")
    return image[..., ::-1, :].copy()


def pad(image: np.ndarray, padding, fill=0, padding_mode: str = "constant") -> np.ndarray:
    """The image padded on its borders (torchvision's ``pad``).

    Modes, shown padding the row [1 2 3] by 2 on each side: ``constant`` (``fill``:
    0 0 1 2 3 0 0), ``edge`` (1 1 1 2 3 3 3), ``reflect`` (mirror about the border pixel:
    3 2 1 2 3 2 1), ``symmetric`` (mirror repeating it: 2 1 1 2 3 3 2).
    """
    check_image(image, "pad")
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"pad: padding_mode should be 'constant', 'edge', 'reflect' or "
                         f"'symmetric', got {padding_mode!r}")
    left, top, right, bottom = padding_ltrb(padding)
    widths = [(0, 0)] * (image.ndim - 2) + [(top, bottom), (left, right)]
    if padding_mode != "constant":
        return np.pad(image, widths, mode=PADDING_MODES[padding_mode])
    values = channel_fill(fill, image, "pad")  # constant: allocate and copy (faster than np.pad)
    out = np.empty(image.shape[:-2] + (image.shape[-2] + top + bottom,
                                       image.shape[-1] + left + right), image.dtype)
    out[...] = to_dtype(np.broadcast_to(values, out.shape), image.dtype)
    out[..., top:top + image.shape[-2], left:left + image.shape[-1]] = image
    return out


def crop(image: np.ndarray, top: int, left: int, height: int, width: int) -> np.ndarray:
    """The ``height`` x ``width`` window whose top-left pixel is (top, left)."""
    check_image(image, "crop")
    return image[..., top:top + height, left:left + width].copy()


def center_crop(image: np.ndarray, size) -> np.ndarray:
    """The central window of ``size`` (torchvision's rule: offsets round((H - h) / 2));
    zero padding first where the window is larger than the image."""
    check_image(image, "center_crop")
    crop_h, crop_w = pair(size, "center_crop: size")
    h, w = image.shape[-2:]
    if crop_h > h or crop_w > w:
        image = pad(image, [(crop_w - w) // 2 if crop_w > w else 0,
                            (crop_h - h) // 2 if crop_h > h else 0,
                            (crop_w - w + 1) // 2 if crop_w > w else 0,
                            (crop_h - h + 1) // 2 if crop_h > h else 0])
        h, w = image.shape[-2:]
    return crop(image, int(round((h - crop_h) / 2.0)), int(round((w - crop_w) / 2.0)),
                crop_h, crop_w)


def resize_shape(height: int, width: int, size) -> tuple[int, int]:
    """The output (height, width): an int matches the SHORTER side, keeping the aspect
    ratio (the longer side is truncated); a pair is (height, width)."""
    if isinstance(size, Sequence) and len(size) == 1:
        size = size[0]
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        short, long = (width, height) if width <= height else (height, width)
        new_short, new_long = int(size), int(int(size) * long / short)
        return (new_long, new_short) if width <= height else (new_short, new_long)
    return pair(size, "resize: size")


def resize(image: np.ndarray, size, interpolation: str = "bilinear") -> np.ndarray:
    """The image resampled to ``size``, as ``torch.nn.functional.interpolate``.

    ``nearest``: output pixel i takes input pixel floor(i * H_in / H_out).
    ``bilinear`` (``align_corners=False``): output pixel i samples input coordinate
    (i + 0.5) * H_in / H_out - 0.5 (clamped at 0), weighting its two neighbours linearly;
    likewise along the width. (No antialiasing filter when shrinking.)
    """
    check_image(image, "resize")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"resize: interpolation must be 'nearest' or 'bilinear', got "
                         f"{interpolation!r}")
    h, w = image.shape[-2:]
    out_h, out_w = resize_shape(h, w, size)
    if out_h <= 0 or out_w <= 0:
        raise ValueError(f"resize: the output size {(out_h, out_w)} must be positive")
    if (out_h, out_w) == (h, w):
        return image.copy()
    if interpolation == "nearest":
        rows, cols = _nearest_source(h, out_h), _nearest_source(w, out_w)
        return image[..., rows[:, None], cols[None, :]]
    (r0, r1, wr), (c0, c1, wc) = _linear_source(h, out_h), _linear_source(w, out_w)
    x = image.astype(np.float64) if image.dtype.kind != "f" else image
    top = x[..., r0, :] * (1 - wr)[:, None] + x[..., r1, :] * wr[:, None]
    out = top[..., c0] * (1 - wc) + top[..., c1] * wc
    return to_dtype(out, image.dtype)


def _nearest_source(size: int, out: int) -> np.ndarray:
    # PyTorch computes this in float32: floor(i * (float)in / out)
    scale = np.float32(size) / np.float32(out)
    index = np.floor(np.arange(out, dtype=np.float32) * scale).astype(np.int64)
    return np.minimum(index, size - 1)


def _linear_source(size: int, out: int):
    source = (np.arange(out) + 0.5) * (size / out) - 0.5
    source = np.maximum(source, 0.0)
    low = np.minimum(np.floor(source).astype(np.int64), size - 1)
    high = np.minimum(low + 1, size - 1)
    return low, high, source - low


def rotate(image: np.ndarray, angle: float, interpolation: str = "nearest",
           expand: bool = False, center=None, fill=0) -> np.ndarray:
    """The image rotated ``angle`` degrees counter-clockwise (torchvision's ``rotate``).

    Inverse mapping: each output pixel centre p (in coordinates centred on the image)
    reads the input at ``R(angle) (p - c) + c``, with c the rotation centre and
    R = [[cos a, -sin a], [sin a, cos a]] (y pointing down), by ``nearest`` (round to the
    closest pixel) or ``bilinear`` interpolation; points outside the input read ``fill``.

    Args:
        image: array (..., H, W).
        angle: degrees, counter-clockwise.
        interpolation: ``"nearest"`` or ``"bilinear"``.
        expand: enlarge the output to hold the whole rotated image (about the centre).
        center: (x, y) pixel coordinates of the rotation centre; default the image centre.
        fill: value for the area outside the input (a number or one per channel).
    """
    check_image(image, "rotate")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"rotate: interpolation must be 'nearest' or 'bilinear', got "
                         f"{interpolation!r}")
    h, w = image.shape[-2:]
    cx, cy = (0.0, 0.0) if center is None else (center[0] - 0.5 * w, center[1] - 0.5 * h)
    a = math.radians(angle)
    m = np.array([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0]])
    m[:, 2] = [cx, cy] - m[:, :2] @ [cx, cy]  # rotate about the centre: R (p - c) + c
    out_h, out_w = _expanded_shape(m, h, w) if expand else (h, w)
    xs = np.arange(out_w) - 0.5 * out_w + 0.5
    ys = np.arange(out_h) - 0.5 * out_h + 0.5
    # source coordinates in input pixel indices (x: column, y: row)
    src_x = m[0, 0] * xs[None, :] + m[0, 1] * ys[:, None] + m[0, 2] + 0.5 * w - 0.5
    src_y = m[1, 0] * xs[None, :] + m[1, 1] * ys[:, None] + m[1, 2] + 0.5 * h - 0.5
    return _sample(image, src_y, src_x, interpolation, channel_fill(fill, image, "rotate"))


def _expanded_shape(m: np.ndarray, h: int, w: int) -> tuple[int, int]:
    """The size holding the rotated image's corners (torchvision's rule: float32, values
    truncated to 1e-4 so that 25 + 1e-15 does not round up to 26)."""
    corners = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0],
                        [0.5 * w, 0.5 * h, 1.0], [0.5 * w, -0.5 * h, 1.0]], np.float32)
    points = corners @ m.T.astype(np.float32) + np.float32([0.5 * w, 0.5 * h])
    tol = np.float32(1e-4)
    high = np.ceil(np.trunc(points.max(axis=0) / tol) * tol)
    low = np.floor(np.trunc(points.min(axis=0) / tol) * tol)
    out_w, out_h = (high - low).astype(int)
    return int(out_h), int(out_w)


def _sample(image, src_y, src_x, interpolation: str, fill: np.ndarray) -> np.ndarray:
    """image read at the (fractional) pixel coordinates (src_y, src_x); ``fill`` outside."""
    h, w = image.shape[-2:]
    x = image.astype(np.float64) if image.dtype.kind != "f" else image
    pixels = x.reshape(x.shape[:-2] + (h * w,))  # read through flat indices row * w + col
    if interpolation == "nearest":
        rows, cols = np.rint(src_y).astype(np.intp), np.rint(src_x).astype(np.intp)
        inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
        values = pixels[..., np.where(inside, rows * w + cols, 0)]
        return to_dtype(np.where(inside, values, fill), image.dtype)
    row0, col0 = np.floor(src_y).astype(np.intp), np.floor(src_x).astype(np.intp)
    dy, dx = src_y - row0, src_x - col0
    out = 0.0
    for rows, wy in ((row0, 1 - dy), (row0 + 1, dy)):
        for cols, wx in ((col0, 1 - dx), (col0 + 1, dx)):
            inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
            values = pixels[..., np.where(inside, rows * w + cols, 0)]
            out = out + (wy * wx) * np.where(inside, values, fill)
    return to_dtype(out, image.dtype)
