"""Shape ops: reshape, permute, broadcast, indexing, concatenation, padding, casts.

Views (reshape, permute, broadcast_to, flip, basic indexing) share memory with their input,
and therefore its version counter. The VJP of a shape op moves the gradient back
through the inverse rearrangement; where several outputs read the same input element
(advanced indexing with repeated indices, broadcasting, reflect padding) the gradients
are *summed* into it.
"""

from __future__ import annotations

import math

from ember.autograd.primitives import defvjp, defvjp_argnum, primitive, unbroadcast


@primitive(view=True, saves="none")
def reshape(xp, x, shape):
    """The same elements in a new shape (row-major order);  VJP: reshape back."""
    return xp.reshape(x, shape)


defvjp(reshape, lambda xp, g, ans, x, shape: xp.reshape(g, x.shape))


@primitive(view=True, saves="none")
def permute(xp, x, axes):
    """Axes reordered: output axis i is input axis axes[i];  VJP: the inverse permutation."""
    return xp.transpose(x, axes)


def _permute_vjp(xp, g, ans, x, axes):
    inverse = [0] * len(axes)
    for i, a in enumerate(axes):
        inverse[a] = i
    return xp.transpose(g, inverse)


defvjp(permute, _permute_vjp)


@primitive(view=True, saves="none")
def broadcast_to(xp, x, shape):
    """x repeated (without copying) along new leading and size-1 axes;  VJP: sum back."""
    return xp.broadcast_to(x, shape)


defvjp(broadcast_to, lambda xp, g, ans, x, shape: unbroadcast(g, x.shape))


@primitive(view=True, saves="none")
def flip(xp, x, axis):
    """x reversed along the given axes;  VJP: flip back."""
    return xp.flip(x, axis)


defvjp(flip, lambda xp, g, ans, x, axis: xp.flip(g, axis))


@primitive(saves="none")
def tile(xp, x, reps):
    """x repeated reps[i] times along axis i (``Tensor.repeat``);  VJP: sum the copies."""
    return xp.tile(x, reps)


def _tile_vjp(xp, g, ans, x, reps):
    shape = (1,) * (len(reps) - x.ndim) + x.shape
    split = []
    for r, n in zip(reps, shape, strict=True):
        split += [r, n]
    summed = g.reshape(split).sum(axis=tuple(range(0, 2 * len(reps), 2)))
    return summed.reshape(x.shape)


defvjp(tile, _tile_vjp)


@primitive(view=True, saves="none")
def getitem_basic(xp, x, key):
    """x[key] with ints, slices, None and Ellipsis (a view);  VJP: g placed back in zeros."""
    return x[key]


defvjp(getitem_basic,
       lambda xp, g, ans, x, key: index_backward.on(xp, g, key=key, shape=x.shape))


@primitive(saves="none")
def getitem_advanced(xp, x, key):
    """x[key] with integer or boolean arrays (a copy);
    VJP: scatter-add, so an element picked k times receives k gradients.
    The result is contiguous, as PyTorch's (NumPy's may not be)."""
    return xp.ascontiguousarray(x[key])


defvjp(getitem_advanced,
       lambda xp, g, ans, x, key: index_backward.on(xp, g, key=key, shape=x.shape))


def _is_basic(key) -> bool:
    """Whether an index holds only ints, slices, None and Ellipsis (no arrays)."""
    parts = key if isinstance(key, tuple) else (key,)
    return not any(hasattr(k, "shape") and getattr(k, "ndim", 0) > 0 for k in parts)


# NOTE: a primitive, the adjoint of indexing, so that the VJP of indexing can itself be
# differentiated (its VJP is indexing again).
@primitive(saves="none")
def index_backward(xp, values, key, shape):
    """zeros(shape) with ``values`` added at ``[key]`` (PyTorch's ``index_backward``:
    ``zeros(shape).index_put_(key, values, accumulate=True)``): an element indexed k times
    receives k values. The adjoint of ``x[key]``;  VJP: ``g[key]``.

    >>> import numpy as np
    >>> index_backward.forward(np, np.array([1.0, 2.0, 3.0]), np.array([0, 2, 0]), (3,))
    array([4., 0., 2.])
    """
    out = xp.zeros(shape, dtype=values.dtype)
    if _is_basic(key):  # a view: every element is written once
        out[key] = values
        return out
    index = key[0] if isinstance(key, tuple) and len(key) == 1 else key
    if getattr(index, "dtype", None) is not None and index.dtype.kind in "iu":
        if len(shape) == 1 and values.ndim == 1 and values.dtype.kind == "f":
            # one flat index: bincount adds in one pass (several times faster than add.at)
            weights = xp.bincount(index, weights=values, minlength=shape[0])
            return weights.astype(values.dtype, copy=False)
        if values.shape == index.shape + tuple(shape[1:]) and len(shape) == 2:
            # whole rows (an embedding's gradient): add element by element through flat
            # indices, NumPy's fast path for ufunc.at (4x faster than adding whole rows)
            width = shape[1]
            places = (index.reshape(-1, 1).astype(xp.int64) * width + xp.arange(width))
            xp.add.at(out.reshape(-1), places.reshape(-1), values.reshape(-1))
            return out
    xp.add.at(out, key, values)
    return out


def _index_backward_vjp(xp, g, ans, values, key, shape):
    """The gradient of a scatter is a gather: g read at the same places."""
    if _is_basic(key):
        return getitem_basic.on(xp, g, key=key)
    return getitem_advanced.on(xp, g, key=key)


defvjp(index_backward, _index_backward_vjp)


@primitive(saves="none")
def gather(xp, x, index, axis):
    """out[..., i, ...] = x[..., index[..., i, ...], ...] along ``axis``;
    VJP: scatter-add g into zeros at the same places (repeated indices accumulate)."""
    return xp.ascontiguousarray(xp.take_along_axis(x, index, axis=axis))


defvjp(gather, lambda xp, g, ans, x, index, axis: gather_backward.on(xp, g, index, axis=axis,
                                                                     shape=x.shape), None)


# NOTE: a primitive, the adjoint of gather, so that gather's VJP can be differentiated.
@primitive(saves="none")
def gather_backward(xp, values, index, axis, shape):
    """zeros(shape) with ``values[..., i, ...]`` added at ``[..., index[..., i, ...], ...]``
    along ``axis`` (PyTorch's ``gather_backward``: ``zeros(shape).scatter_add_(axis, index,
    values)``): the adjoint of :func:`gather`;  VJP: ``gather(g, index, axis)``."""
    out = xp.zeros(shape, dtype=values.dtype)
    if index.shape[axis] == 1:  # one index per line: no repeats, a plain write
        xp.put_along_axis(out, index, values, axis=axis)
        return out
    places = list(xp.indices(index.shape, sparse=True))
    places[axis] = index
    xp.add.at(out, tuple(places), values)
    return out


defvjp(gather_backward,
       lambda xp, g, ans, values, index, axis, shape: gather.on(xp, g, index, axis=axis),
       None)


@primitive(saves="none")
def cat(xp, *xs, axis=0):
    """The inputs joined along an existing axis;  VJP: each input's slice of g."""
    return xp.concatenate(xs, axis=axis)


def _cat_vjp(argnum, xp, g, ans, *xs, axis=0):
    start = 0
    for x in xs[:argnum]:
        start += x.shape[axis]
    index = [slice(None)] * g.ndim
    index[axis] = slice(start, start + xs[argnum].shape[axis])
    return g[tuple(index)]


defvjp_argnum(cat, _cat_vjp)


@primitive(saves="none")
def stack(xp, *xs, axis=0):
    """The inputs joined along a new axis;  VJP: each input's slice of g."""
    return xp.stack(xs, axis=axis)


def _stack_vjp(argnum, xp, g, ans, *xs, axis=0):
    index = [slice(None)] * g.ndim
    index[axis] = argnum
    return g[tuple(index)]


defvjp_argnum(stack, _stack_vjp)


_NUMPY_PAD_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@primitive(saves="none")
def pad(xp, x, pad_width, mode="constant", value=0.0):
    """x with borders added: ``pad_width`` is ((before, after), ...) per axis.

    ``constant`` fills with ``value``; ``reflect`` mirrors without repeating the edge;
    ``replicate`` repeats the edge; ``circular`` wraps around.
    VJP: the interior for ``constant``; otherwise each border element's gradient is
    added to the input element it copies.
    """
    if mode == "constant":
        return xp.pad(x, pad_width, mode="constant", constant_values=value)
    return xp.pad(x, pad_width, mode=_NUMPY_PAD_MODE[mode])


def _pad_vjp(xp, g, ans, x, pad_width, mode="constant", value=0.0):
    if mode == "constant":
        return g[tuple(slice(b, b + n) for (b, _), n in zip(pad_width, x.shape, strict=True))]
    # which input element each output element copies: pad an array of flat indices
    size = math.prod(x.shape)
    source = pad.on(xp, xp.arange(size).reshape(x.shape), pad_width=pad_width, mode=mode)
    grad = index_backward.on(xp, g.reshape(-1), key=source.reshape(-1), shape=(size,))
    return grad.reshape(x.shape)


defvjp(pad, _pad_vjp)


@primitive(saves="none")
def astype(xp, x, dtype):
    """x converted to ``dtype``;  VJP: g converted back to x's dtype."""
    return x.astype(dtype)


defvjp(astype, lambda xp, g, ans, x, dtype: g.astype(x.dtype))


@primitive(saves="none")
def clone(xp, x, order="K"):
    """A copy of x that does not share memory, laid out as x (``order="C"``: row-major,
    for ``contiguous``);  VJP: identity."""
    return xp.array(x, copy=True, order=order)


defvjp(clone, lambda xp, g, ans, x, order="K": g)


@primitive(saves="none")
def roll(xp, x, shift, axis):
    """x shifted cyclically by ``shift`` places along ``axis`` (tuples: several);
    VJP: rolled back."""
    return xp.roll(x, shift, axis)


defvjp(roll, lambda xp, g, ans, x, shift, axis: xp.roll(
    g, tuple(-s for s in shift) if isinstance(shift, tuple) else -shift, axis))


def _embed_diagonal(xp, values, shape, offset, axis1, axis2):
    """Zeros of ``shape`` with ``values`` (diagonal index last) on the ``offset``
    diagonal of the (axis1, axis2) planes."""
    out = xp.zeros(shape, dtype=values.dtype)
    planes = xp.moveaxis(out, (axis1, axis2), (-2, -1))  # a writable view of out
    n = values.shape[-1]
    rows = xp.arange(n) + max(-offset, 0)
    planes[..., rows, rows + offset] = values
    return out


@primitive(view=True, saves="none")
def diagonal(xp, x, offset, axis1, axis2):
    """The ``offset`` diagonal of every (axis1, axis2) plane, as the last axis (a view);
    VJP: g embedded on that diagonal of zeros."""
    return xp.diagonal(x, offset, axis1, axis2)


def _diagonal_vjp(xp, g, ans, x, offset, axis1, axis2):
    """g scattered back onto the diagonal of zeros (index_backward, whose own VJP reads
    the diagonal again)."""
    moved = [n for a, n in enumerate(x.shape) if a not in (axis1 % x.ndim, axis2 % x.ndim)]
    moved += [x.shape[axis1], x.shape[axis2]]
    rows = xp.arange(g.shape[-1]) + max(-offset, 0)
    planes = index_backward.on(xp, g, key=(Ellipsis, rows, rows + offset), shape=tuple(moved))
    return xp.moveaxis(planes, (-2, -1), (axis1, axis2))


defvjp(diagonal, _diagonal_vjp)


@primitive(saves="none")
def diag_embed(xp, x, offset, axis1, axis2):
    """Matrices with the last axis of x on their ``offset`` diagonal in the (axis1,
    axis2) planes of the output, zeros elsewhere;  VJP: the diagonal of g."""
    n = x.shape[-1] + abs(offset)
    shape = list(x.shape[:-1])
    for axis in sorted((axis1, axis2)):
        shape.insert(axis, n)
    return _embed_diagonal(xp, x, tuple(shape), offset, axis1, axis2)


defvjp(diag_embed, lambda xp, g, ans, x, offset, axis1, axis2: xp.diagonal(
    g, offset, axis1, axis2))
