"""Mathematical morphology: erosion, dilation and what is built from them.

With a structuring element S (a small binary mask anchored at its centre),

.. math:: (x \\ominus S)[i, j] = \\min_{(a, b) \\in S} x[i + a, j + b] \\qquad
          (x \\oplus S)[i, j] = \\max_{(a, b) \\in S} x[i + a, j + b]

(offsets (a, b) relative to the anchor, as OpenCV's ``erode``/``dilate``). On a binary
image erosion keeps a pixel only if S fits entirely inside the shape; dilation sets it
if S touches the shape. Then

* opening ``(x ⊖ S) ⊕ S`` removes specks smaller than S, closing ``(x ⊕ S) ⊖ S``
  fills holes and gaps smaller than S;
* morphological gradient ``(x ⊕ S) - (x ⊖ S)`` outlines shapes;
* top hat ``x - opening`` keeps small bright details, black hat ``closing - x`` small
  dark ones.

Pixels outside the image are ignored by default (OpenCV's default border value), or
extended with any border mode of :mod:`ember.vision.border`. A rectangle is applied as a
row pass and a column pass; an ellipse row by row. On a tensor that records a graph the
result is differentiable (the gradient flows to the pixel that was the minimum or
maximum, as in max pooling).
"""

from __future__ import annotations

import numpy as np

from ember import functions as fn
from ember.vision.border import border_mode, pad2d, pad2d_array
from ember.vision.layout import Planes, needs_grad

__all__ = ["structuring_element", "erosion", "dilation", "opening", "closing",
           "morphological_gradient", "top_hat", "black_hat", "SHAPES"]

SHAPES = ("rect", "ellipse", "cross")


def structuring_element(shape: str = "rect", kernel_size=(3, 3), anchor=None) -> np.ndarray:
    """A binary structuring element (``cv2.getStructuringElement``), as a uint8 array.

    Args:
        shape: ``rect`` (all ones), ``ellipse`` (the filled ellipse inscribed in the
            box) or ``cross`` (the anchor's row and column).
        kernel_size: k or (height, width) — note OpenCV's ``ksize`` is (width, height).
        anchor: (row, column) of the cross's centre; default the middle.

    >>> structuring_element("ellipse", (5, 5))
    array([[0, 0, 1, 0, 0],
           [1, 1, 1, 1, 1],
           [1, 1, 1, 1, 1],
           [1, 1, 1, 1, 1],
           [0, 0, 1, 0, 0]], dtype=uint8)
    >>> structuring_element("cross", 3)
    array([[0, 1, 0],
           [1, 1, 1],
           [0, 1, 0]], dtype=uint8)
    """
    name = str(shape).lower()
    if name not in SHAPES:
        raise ValueError(f"structuring_element: unknown shape {shape!r}; expected one of "
                         + ", ".join(SHAPES))
    kh, kw = (kernel_size, kernel_size) if np.ndim(kernel_size) == 0 else kernel_size
    kh, kw = int(kh), int(kw)
    if kh < 1 or kw < 1:
        raise ValueError(f"structuring_element: kernel_size must be positive, got {kernel_size}")
    ay, ax = (kh // 2, kw // 2) if anchor is None else (int(anchor[0]), int(anchor[1]))
    element = np.zeros((kh, kw), np.uint8)
    if name == "rect" or (kh, kw) == (1, 1):
        element[:] = 1
    elif name == "cross":
        element[ay, :] = 1
        element[:, ax] = 1
    else:  # rows of the ellipse with semi-axes (kh // 2, kw // 2), half-widths rounded
        r, c = kh // 2, kw // 2
        for i in range(kh):
            dy = i - r
            if abs(dy) <= r:
                half = int(np.rint(c * np.sqrt((r * r - dy * dy) / (r * r)))) if r else 0
                element[i, max(c - half, 0):min(c + half + 1, kw)] = 1
    return element


def erosion(x, kernel=3, iterations: int = 1, border=None, value=None):
    """Erosion: the minimum over the structuring element (``cv2.erode``).

    Args:
        x: image (see :mod:`ember.vision.layout`), grey or binary (bool, 0/1, 0/255).
        kernel: a structuring element (2-d array, nonzero = member) or k for a k x k
            rectangle (default 3).
        iterations: how many times to apply it.
        border: None (default: pixels outside are ignored, as OpenCV's default) or a
            border mode; ``value`` fills ``constant``.

    >>> import numpy as np
    >>> x = np.zeros((5, 5), np.uint8); x[1:4, 1:4] = 1; x[0, 0] = 1
    >>> erosion(x, 3)                       # only the centre of the square survives
    array([[0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0],
           [0, 0, 1, 0, 0],
           [0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0]], dtype=uint8)
    """
    return _morph(x, kernel, iterations, border, value, "erosion")


def dilation(x, kernel=3, iterations: int = 1, border=None, value=None):
    """Dilation: the maximum over the structuring element (``cv2.dilate``).

    >>> import numpy as np
    >>> x = np.zeros((5, 5), np.uint8); x[2, 2] = 1
    >>> dilation(x, structuring_element("cross", 3))
    array([[0, 0, 0, 0, 0],
           [0, 0, 1, 0, 0],
           [0, 1, 1, 1, 0],
           [0, 0, 1, 0, 0],
           [0, 0, 0, 0, 0]], dtype=uint8)
    """
    return _morph(x, kernel, iterations, border, value, "dilation")


def opening(x, kernel=3, iterations: int = 1, border=None, value=None):
    """Opening: erosion then dilation (``cv2.MORPH_OPEN``); removes bright specks
    smaller than the structuring element and keeps larger shapes as they were."""
    eroded = _morph(x, kernel, iterations, border, value, "erosion")
    return _morph(eroded, kernel, iterations, border, value, "dilation")


def closing(x, kernel=3, iterations: int = 1, border=None, value=None):
    """Closing: dilation then erosion (``cv2.MORPH_CLOSE``); fills dark holes and gaps
    smaller than the structuring element."""
    dilated = _morph(x, kernel, iterations, border, value, "dilation")
    return _morph(dilated, kernel, iterations, border, value, "erosion")


def morphological_gradient(x, kernel=3, iterations: int = 1, border=None, value=None):
    """Dilation minus erosion (``cv2.MORPH_GRADIENT``): the outline of shapes.

    >>> import numpy as np
    >>> x = np.zeros((5, 5), np.uint8); x[1:4, 1:4] = 9
    >>> morphological_gradient(x, 3)[2]
    array([9, 9, 0, 9, 9], dtype=uint8)
    """
    return _subtract(_morph(x, kernel, iterations, border, value, "dilation"),
                     _morph(x, kernel, iterations, border, value, "erosion"))


def top_hat(x, kernel=3, iterations: int = 1, border=None, value=None):
    """The image minus its opening (``cv2.MORPH_TOPHAT``): bright details smaller than
    the structuring element."""
    return _subtract(x, opening(x, kernel, iterations, border, value))


def black_hat(x, kernel=3, iterations: int = 1, border=None, value=None):
    """The closing minus the image (``cv2.MORPH_BLACKHAT``): dark details smaller than
    the structuring element."""
    return _subtract(closing(x, kernel, iterations, border, value), x)


# ----------------------------------------------------------------------------- how


def _element(kernel, op: str) -> np.ndarray:
    if np.ndim(kernel) == 0:
        k = int(kernel)
        if k < 1 or k != kernel:
            raise ValueError(f"{op}: kernel must be a whole number >= 1 or a 2-d array, "
                             f"got {kernel!r}")
        return np.ones((k, k), bool)
    element = np.asarray(kernel.detach().numpy() if hasattr(kernel, "detach") else kernel)
    if element.ndim != 2 or 0 in element.shape:
        raise ValueError(f"{op}: the structuring element must be a non-empty 2-d array, "
                         f"got shape {element.shape}")
    return element != 0


def _outside(dtype: np.dtype, op: str):
    """The fill value that never wins: the type's maximum for erosion, minimum for dilation."""
    erode = op == "erosion"
    if dtype.kind == "b":
        return erode
    if dtype.kind == "f":
        return np.inf if erode else -np.inf
    info = np.iinfo(dtype)
    return info.max if erode else info.min


def _morph(x, kernel, iterations, border, value, op):
    planes = Planes(x, op)
    element = _element(kernel, op)
    if int(iterations) != iterations or iterations < 0:
        raise ValueError(f"{op}: iterations must be a whole number >= 0, got {iterations!r}")
    if border is None:
        border, value = "constant", _outside(planes.dtype, op)
    else:
        border = border_mode(border, op)
        value = 0 if value is None else value
    grad = needs_grad(planes.tensor)
    data = planes.tensor if grad else planes.array
    for _ in range(int(iterations)):
        data = _extreme(data, element, border, value, op, grad)
    return planes.back(data)


def _extreme(x, element: np.ndarray, border: str, value, op: str, grad: bool):
    """min (erosion) or max (dilation) of x over the element, anchored at its centre."""
    if not element.any():
        return x
    kh, kw = element.shape
    ay, ax = kh // 2, kw // 2
    pad = pad2d if grad else pad2d_array
    best = (fn.minimum if grad else np.minimum) if op == "erosion" else (
        fn.maximum if grad else np.maximum)
    padded = pad(x, (ay, kh - 1 - ay, ax, kw - 1 - ax), border, value, op=op)
    height, width = x.shape[-2:]
    runs = _row_runs(element)
    row_pass = {}  # (first column, length) -> extreme over that run of columns
    result = None
    for a, runs_a in runs:
        for start, length in runs_a:
            if (start, length) not in row_pass:
                part = padded[..., start:start + width]
                for b in range(start + 1, start + length):
                    part = best(part, padded[..., b:b + width])
                row_pass[(start, length)] = part
            part = row_pass[(start, length)][..., a:a + height, :]
            result = part if result is None else best(result, part)
    return result


def _row_runs(element: np.ndarray) -> list[tuple[int, list[tuple[int, int]]]]:
    """For each row of the element, its runs of consecutive members as (start, length)."""
    runs = []
    for a, row in enumerate(element):
        padded = np.concatenate([[False], row, [False]]).astype(np.int8)
        edges = np.flatnonzero(np.diff(padded))
        starts, ends = edges[::2], edges[1::2]
        if len(starts):
            runs.append((a, [(int(s), int(e - s)) for s, e in zip(starts, ends, strict=True)]))
    return runs


def _subtract(a, b):
    """a - b for two images of the same kind, saturated at 0 for unsigned integers as
    OpenCV does (with an even-sized element the opening can exceed the image)."""
    if isinstance(a, np.ndarray) and a.dtype.kind == "b":
        return a & ~b
    if isinstance(a, np.ndarray) and a.dtype.kind == "u":
        return np.where(a > b, a - b, 0).astype(a.dtype)
    return a - b
