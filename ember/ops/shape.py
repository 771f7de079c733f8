"""Shape ops: reshape, permute, broadcast, indexing, concatenation, padding, casts.

Views (reshape, permute, broadcast_to, flip, basic indexing) share memory with their input,
and therefore its version counter. The VJP of a shape op moves the gradient back
through the inverse rearrangement; where several outputs read the same input element
(advanced indexing with repeated indices, broadcasting, reflect padding) the gradients
are *summed* into it.
"""

from __future__ import annotations

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


def _getitem_basic_vjp(xp, g, ans, x, key):
    grad = xp.zeros(x.shape, dtype=g.dtype)
    grad[key] = g
    return grad


defvjp(getitem_basic, _getitem_basic_vjp)


@primitive(saves="none")
def getitem_advanced(xp, x, key):
    """x[key] with integer or boolean arrays (a copy);
    VJP: scatter-add, so an element picked k times receives k gradients.
    The result is contiguous, as PyTorch's (NumPy's may not be)."""
    return xp.ascontiguousarray(x[key])


def _getitem_advanced_vjp(xp, g, ans, x, key):
    grad = xp.zeros(x.shape, dtype=g.dtype)
    xp.add.at(grad, key, g)
    return grad


defvjp(getitem_advanced, _getitem_advanced_vjp)


@primitive(saves="none")
def gather(xp, x, index, axis):
    """out[..., i, ...] = x[..., index[..., i, ...], ...] along ``axis``;
    VJP: scatter-add g into zeros at the same places (repeated indices accumulate)."""
    return xp.ascontiguousarray(xp.take_along_axis(x, index, axis=axis))


def _gather_vjp(xp, g, ans, x, index, axis):
    grad = xp.zeros(x.shape, dtype=g.dtype)
    places = list(xp.indices(index.shape, sparse=True))
    places[axis] = index
    xp.add.at(grad, tuple(places), g)
    return grad


defvjp(gather, _gather_vjp, None)


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
    source = xp.pad(xp.arange(x.size).reshape(x.shape), pad_width, mode=_NUMPY_PAD_MODE[mode])
    grad = xp.bincount(source.ravel(), weights=g.ravel(), minlength=x.size)
    return grad.reshape(x.shape).astype(g.dtype, copy=False)


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


defvjp(diagonal, lambda xp, g, ans, x, offset, axis1, axis2: _embed_diagonal(
    xp, g, x.shape, offset, axis1, axis2))


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
