"""Sliding windows along one axis as a view (``Tensor.unfold``), and its adjoint.

``unfold(x, axis, size, step, dilation)`` replaces dimension ``axis`` by the number of
windows and appends one of ``size``: out[..., i, ..., a] = x[..., S i + D a, ...]. It is
a strided view (no copy), so overlapping windows share memory. ``fold`` is its adjoint:
each window element is added back to the place it reads, one strided add per window
offset a (never an element-by-element scatter):

.. math:: y[\\ldots, S i + D a, \\ldots] \\mathrel{+}= x[\\ldots, i, \\ldots, a]

Each is the other's VJP (a 1-d im2col and col2im, used by the 3-d convolutions and
pooling along depth).
"""

from __future__ import annotations

from ember.autograd.primitives import defvjp, primitive


def _window_view(xp, x, axis, size, step, dilation):
    count = (x.shape[axis] - dilation * (size - 1) - 1) // step + 1
    shape = x.shape[:axis] + (count,) + x.shape[axis + 1:] + (size,)
    stride = x.strides[axis]
    strides = x.strides[:axis] + (stride * step,) + x.strides[axis + 1:] + (stride * dilation,)
    return xp.lib.stride_tricks.as_strided(x, shape, strides, writeable=False)


def _add_windows(xp, windows, axis, size, step, dilation, length):
    out = xp.zeros(windows.shape[:axis] + (length,) + windows.shape[axis + 1:-1],
                   dtype=windows.dtype)
    count = windows.shape[axis]
    for a in range(size):
        start = a * dilation
        place = (slice(None),) * axis + (slice(start, start + step * (count - 1) + 1, step),)
        out[place] += windows[..., a]
    return out


@primitive(view=True, saves="none")
def unfold(xp, x, axis, size, step, dilation=1):
    """Windows of ``size`` elements, ``step`` apart, ``dilation`` between elements, along
    ``axis`` (a read-only strided view);  VJP: ``fold`` (one strided add per offset)."""
    return _window_view(xp, x, axis, size, step, dilation)


defvjp(unfold, lambda xp, g, ans, x, axis, size, step, dilation=1: fold.on(
    xp, g, axis=axis, size=size, step=step, dilation=dilation, length=x.shape[axis]))


@primitive(saves="none")
def fold(xp, x, axis, size, step, dilation=1, length=None):
    """The adjoint of ``unfold``: x (..., count, ..., size) summed back into ``length``
    places along ``axis``;  VJP: ``unfold`` of the gradient."""
    return _add_windows(xp, x, axis, size, step, dilation, length)


defvjp(fold, lambda xp, g, ans, x, axis, size, step, dilation=1, length=None: unfold.on(
    xp, g, axis=axis, size=size, step=step, dilation=dilation)[
        (slice(None),) * axis + (slice(0, x.shape[axis]),)])
