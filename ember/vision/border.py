"""Border modes: how a filter sees pixels outside the image (OpenCV's ``BORDER_*``).

With ``|`` marking the image edges, an image row ``abcdefgh`` is extended as

============== ============================ =========================
``border``     extension                    OpenCV
============== ============================ =========================
``reflect101`` ``gfedcb|abcdefgh|gfedcba``  ``BORDER_REFLECT_101``, the default
``reflect``    ``fedcba|abcdefgh|hgfedcb``  ``BORDER_REFLECT``
``replicate``  ``aaaaaa|abcdefgh|hhhhhhh``  ``BORDER_REPLICATE``
``circular``   ``cdefgh|abcdefgh|abcdefg``  ``BORDER_WRAP``
``constant``   ``vvvvvv|abcdefgh|vvvvvvv``  ``BORDER_CONSTANT`` (value ``v``, 0 by default)
============== ============================ =========================

``reflect101`` is PyTorch's ``F.pad(mode="reflect")`` and NumPy's ``"reflect"``;
``reflect`` is NumPy's ``"symmetric"``. A border wider than the image keeps reflecting
(or wrapping), as OpenCV's ``borderInterpolate`` does.

>>> border_index(np.arange(-3, 5), 4, "reflect101").tolist()
[3, 2, 1, 0, 1, 2, 3, 2]
>>> border_index(np.arange(-3, 5), 4, "reflect").tolist()
[2, 1, 0, 0, 1, 2, 3, 3]
"""

from __future__ import annotations

import numpy as np

from ember import functions as fn
from ember.ops import shape as shape_ops
from ember.tensor import Tensor

__all__ = ["BORDERS", "border_mode", "border_index", "pad2d", "pad2d_array"]

BORDERS = ("reflect101", "reflect", "replicate", "circular", "constant")
_ALIASES = {"reflect_101": "reflect101", "default": "reflect101", "symmetric": "reflect",
            "edge": "replicate", "wrap": "circular", "zeros": "constant"}


def border_mode(border: str, op: str = "border") -> str:
    """The canonical name of a border mode (aliases: ``default``, ``reflect_101``,
    ``symmetric``, ``edge``, ``wrap``, ``zeros``), or a ValueError naming them all."""
    name = str(border).lower()
    name = _ALIASES.get(name, name)
    if name not in BORDERS:
        raise ValueError(f"{op}: unknown border {border!r}; expected one of "
                         + ", ".join(BORDERS))
    return name


def border_index(index: np.ndarray, size: int, border: str) -> np.ndarray:
    """Which pixel of a row of ``size`` pixels stands at each position ``index`` (which
    may lie outside ``0 .. size-1``): OpenCV's ``borderInterpolate``, vectorised.
    ``constant`` gives -1 outside the image."""
    border = border_mode(border)
    p = np.array(index, dtype=np.int64)
    outside = (p < 0) | (p >= size)
    if border == "constant":
        return np.where(outside, -1, p)
    if border == "replicate":
        return np.clip(p, 0, size - 1)
    if border == "circular":
        return np.mod(p, size)
    if size == 1:
        return np.zeros_like(p)
    delta = 1 if border == "reflect101" else 0
    while outside.any():  # mirror at whichever edge was crossed, until inside
        low = p < 0
        p = np.where(low, -p - 1 + delta, np.where(p >= size, 2 * size - 1 - p - delta, p))
        outside = (p < 0) | (p >= size)
    return p


def _check(op, pads, border):
    border = border_mode(border, op)
    if any(int(p) < 0 for p in pads):
        raise ValueError(f"{op}: border widths must be non-negative, got {tuple(pads)}")
    return border


_NUMPY_MODES = {"reflect101": "reflect", "reflect": "symmetric", "replicate": "edge",
                "circular": "wrap"}
_PRIMITIVE_MODES = {"reflect101": "reflect", "replicate": "replicate", "circular": "circular"}


def _fits(border: str, pads, height: int, width: int) -> bool:
    """Whether NumPy's padding of that mode equals OpenCV's (one reflection or wrap)."""
    top, bottom, left, right = pads
    limit_h, limit_w = (height - 1, width - 1) if border == "reflect101" else (height, width)
    return border == "replicate" or (max(top, bottom) <= limit_h and max(left, right) <= limit_w)


def pad2d(x: Tensor, pads: tuple[int, int, int, int], border: str = "reflect101",
          value: float = 0.0, op: str = "pad2d") -> Tensor:
    """``x`` (..., H, W) with (top, bottom, left, right) pixels of border added
    (differentiable: the gradient of each border pixel goes to the pixel it copies)."""
    border = _check(op, pads, border)
    top, bottom, left, right = (int(p) for p in pads)
    if not any((top, bottom, left, right)):
        return x
    if border == "constant":
        return fn.pad(x, (left, right, top, bottom), mode="constant", value=value)
    height, width = x.shape[-2:]
    if border in _PRIMITIVE_MODES and _fits(border, (top, bottom, left, right), height, width):
        widths = ((0, 0),) * (x.ndim - 2) + ((top, bottom), (left, right))
        return shape_ops.pad(x, pad_width=widths, mode=_PRIMITIVE_MODES[border])
    # any mode, any width: the border strips by indexing, joined to the image
    rows = border_index(np.arange(-top, height + bottom), height, border)
    cols = border_index(np.arange(-left, width + right), width, border)
    if top or bottom:
        x = fn.cat([x[..., rows[:top], :], x, x[..., rows[height + top:], :]], dim=-2)
    if left or right:
        x = fn.cat([x[..., cols[:left]], x, x[..., cols[width + left:]]], dim=-1)
    return x


def pad2d_array(x: np.ndarray, pads: tuple[int, int, int, int], border: str = "reflect101",
                value: float = 0.0, op: str = "pad2d") -> np.ndarray:
    """:func:`pad2d` on a NumPy array (..., H, W) (no graph)."""
    border = _check(op, pads, border)
    top, bottom, left, right = (int(p) for p in pads)
    widths = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
    if border == "constant":
        return np.pad(x, widths, mode="constant", constant_values=value)
    height, width = x.shape[-2:]
    if _fits(border, (top, bottom, left, right), height, width):
        return np.pad(x, widths, mode=_NUMPY_MODES[border])
    rows = border_index(np.arange(-top, height + bottom), height, border)
    cols = border_index(np.arange(-left, width + right), width, border)
    return x[..., rows[:, None], cols]
