"""Indexing and selection under PyTorch's names: ``x[key]`` in PyTorch's dimension order,
gather and the scatters, the ``index_*`` family, masks, ``take`` and ``take_along_dim``.

Reading through an index is one primitive (``getitem_advanced``: its gradient adds back,
so an element read k times receives k gradients); writing through one is another
(:func:`ember.ops.indexing.index_put`: its gradient reads back). Everything here is those
two, plus ``scatter_reduce``'s max, min and product, which no sum can express.

Where PyTorch and NumPy differ, PyTorch wins: ``x[1, :, idx]`` on a (A, B, C) tensor is
(B, len(idx)) in PyTorch (the integer selects first, as a view) but (len(idx), B) in
NumPy (which treats the integer as one more array index, separated from ``idx``).
"""

from __future__ import annotations

import builtins

import numpy as np

from ember.functions import _dim, _index_part, _t
from ember.ops import compare, elementwise
from ember.ops import indexing as index_ops
from ember.ops import shape as shape_ops
from ember.tensor import Tensor

__all__ = [
    "getitem", "gather", "scatter", "scatter_add", "scatter_reduce", "index_select",
    "index_add", "index_copy", "index_fill", "index_put", "put", "masked_select",
    "masked_fill", "masked_scatter", "take", "take_along_dim", "argwhere", "select",
]


# ----------------------------------------------------------------------------- x[key]


def _is_array(k) -> bool:
    return isinstance(k, np.ndarray)


def split_key(key, ndim: int):
    """``key`` as (basic, advanced): ``x[key]`` in PyTorch's order is
    ``x[basic][advanced]``, where ``basic`` (ints, slices, None, Ellipsis) is a view and
    ``advanced`` holds the array indices, full slices for the other dimensions, and
    ``None`` when there are no arrays."""
    parts = key if isinstance(key, tuple) else (key,)
    parts = tuple(_index_part(k) for k in parts)
    if not builtins.any(_is_array(k) for k in parts):
        return parts, None
    basic, advanced = [], []
    used = builtins.sum(k.ndim if _is_array(k) and k.dtype == bool else 1
                        for k in parts if k is not None and k is not Ellipsis)
    for k in parts:
        if _is_array(k):
            width = k.ndim if k.dtype == bool else 1
            basic += [slice(None)] * width
            advanced.append(k)
        elif k is None:
            basic.append(None)
            advanced.append(slice(None))
        elif k is Ellipsis:
            basic.append(Ellipsis)
            advanced += [slice(None)] * builtins.max(ndim - used, 0)
        elif isinstance(k, slice):
            basic.append(k)
            advanced.append(slice(None))
        else:  # an int: its dimension is gone after the basic step
            basic.append(k)
    return tuple(basic), tuple(advanced)


def getitem(input, key) -> Tensor:
    """``input[key]`` with PyTorch's semantics: ints, slices, None and Ellipsis give a view;
    integer and boolean tensors (or lists) select copies, whose gradient adds back (an
    element picked k times receives k gradients). Integers apply first, so array indices
    separated only by integers stay in place (``x[1, :, idx]``), as in PyTorch.

    >>> import ember as em
    >>> x = em.arange(24).reshape(2, 3, 4)
    >>> x[1, :, em.tensor([0, 3])].shape
    (3, 2)
    """
    x = _t(input)
    basic, advanced = split_key(key, x.ndim)
    if basic != (slice(None),) * len(basic) or advanced is None:
        x = shape_ops.getitem_basic(x, key=basic)
    if advanced is None:
        return x
    return shape_ops.getitem_advanced(x, key=advanced)


def select(input, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim``, which is removed (a view): ``x.select(1, 2)``
    is ``x[:, 2]``."""
    x = _t(input)
    d = _dim(dim, x.ndim, "select")
    n = x.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{x.shape} at dimension {dim}")
    return shape_ops.getitem_basic(x, key=(slice(None),) * d + (builtins.int(index),))


# ----------------------------------------------------------------------------- checks


def _index_array(index, op: str) -> np.ndarray:
    index = _t(index)
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int64 for index, got {index.dtype}")
    return index._data


def _check_bounds(op: str, index: np.ndarray, size: int, dim: int) -> None:
    if index.size and (index.min() < 0 or index.max() >= size):
        bad = index.min() if index.min() < 0 else index.max()
        raise RuntimeError(f"{op}(): index {bad} is out of bounds for dimension {dim} with "
                           f"size {size}")


def _check_index_shape(op: str, x: Tensor, index: np.ndarray, d: int, src=None) -> None:
    """PyTorch's rule for gather and scatter: index has input's number of dimensions and
    is no larger than input outside ``dim`` (and no larger than src anywhere)."""
    if index.ndim != builtins.max(x.ndim, 1) and not (index.ndim <= 1 and x.ndim <= 1):
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions "
                           f"as input tensor (index {tuple(index.shape)}, input {x.shape})")
    too_big = builtins.any(i != d and n > m for i, (n, m) in
                           enumerate(zip(index.shape, x.shape, strict=False)))
    if src is not None:
        too_big |= builtins.any(n > m for n, m in zip(index.shape, src.shape, strict=False))
    if too_big:
        extra = f" and to be smaller size than src {src.shape}" if src is not None else ""
        raise RuntimeError(f"{op}(): Expected index {tuple(index.shape)} to be no larger "
                           f"than self {x.shape} apart from dimension {d}{extra}")


def _scatter_key(index: np.ndarray, d: int) -> tuple:
    """The NumPy index of ``x[..., index[i, j, k], ...]`` at (i, j, k): ``index`` along
    dimension d and the position itself along the others."""
    places = list(np.indices(index.shape, sparse=True))
    places[d] = index
    return tuple(places)


def _source(src: Tensor, shape: tuple) -> Tensor:
    """The leading ``shape`` block of ``src`` (PyTorch reads only that much of it)."""
    if src.shape == shape:
        return src
    return shape_ops.getitem_basic(src, key=tuple(slice(0, n) for n in shape))


def _same_dtype(op: str, x: Tensor, src: Tensor) -> None:
    if x.dtype != src.dtype:
        raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype "
                           f"(got {x.dtype} and {src.dtype})")


# ----------------------------------------------------------------------------- gather / scatter


def gather(input, dim: int, index, *, sparse_grad: bool = False) -> Tensor:
    """out[i][j][k] = input[index[i][j][k]][j][k] for dim = 0 (and so on for other dims).

    ``index`` has input's number of dimensions and may be smaller than input in the other
    dimensions (only the leading block of input is read). The gradient is scattered back
    with addition, so repeated indices accumulate.

    >>> import ember as em
    >>> em.gather(em.tensor([[1, 2, 3], [4, 5, 6]]), 1, em.tensor([[2], [0]]))
    tensor([[3],
            [4]])
    """
    x = _t(input)
    index = _index_array(index, "gather")
    d = _dim(dim, x.ndim, "gather")
    if x.ndim == 0:
        index = index.reshape(())
        _check_bounds("gather", index, 1, dim)
        return shape_ops.getitem_basic(x, key=())
    _check_index_shape("gather", x, index, d)
    _check_bounds("gather", index, x.shape[d], dim)
    block = tuple(x.shape[d] if i == d else n for i, n in enumerate(index.shape))
    return shape_ops.gather(_source(x, block), index, axis=d)


def _scatter_args(op, input, dim, index, src):
    x = _t(input)
    index = _index_array(index, op)
    d = _dim(dim, x.ndim, op)
    src_t = _t(src) if isinstance(src, Tensor) else None
    _check_index_shape(op, x, index, d, src_t)
    _check_bounds(op, index, x.shape[d] if x.ndim else 1, dim)
    if x.ndim == 0:
        return x, (), src_t
    return x, _scatter_key(index, d), None if src_t is None else _source(src_t, index.shape)


def scatter(input, dim: int, index, src=None, *, value=None, reduce: str | None = None):
    """Out-of-place ``scatter_``: a copy of input with ``out[index[i][j]][j] = src[i][j]``
    (dim = 0; likewise for other dims), or ``value`` at every indexed place.

    The gradient of input is zero where it was overwritten; src's is the output's
    gradient read back at its places. ``reduce="add"``/``"multiply"`` (PyTorch's older
    API) combines instead of replacing: see :func:`scatter_reduce`.
    """
    if src is None and value is None:
        raise TypeError("scatter(): expected a src tensor or a value")
    if src is not None and not isinstance(src, Tensor):  # scatter(x, d, i, 1.5)
        src, value = None, src
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError(f"scatter(): reduce argument must be either add or "
                               f"multiply, got {reduce!r}")
        if src is None:
            from ember import creation

            src = creation.full(_t(index).shape, value, dtype=_t(input).dtype)
        return scatter_reduce(input, dim, index, src, "sum" if reduce == "add" else "prod")
    x, key, source = _scatter_args("scatter", input, dim, index, src)
    if source is not None:
        _same_dtype("scatter", x, source)
        return index_ops.index_put(x, source, key=key)
    return index_ops.index_put(x, value._data if isinstance(value, Tensor) else value,
                               key=key)


def scatter_add(input, dim: int, index, src) -> Tensor:
    """A copy of input with ``out[index[i][j]][j] += src[i][j]`` (dim = 0): every source
    element is added, repeated places accumulate. The gradient of src is the output's
    gradient read back at its places (a gather)."""
    x, key, source = _scatter_args("scatter_add", input, dim, index, _t(src))
    _same_dtype("scatter_add", x, source)
    return index_ops.index_put(x, source, key=key, accumulate=True)


_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(input, dim: int, index, src, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """A copy of input where each indexed place becomes the ``reduce`` (``"sum"``,
    ``"prod"``, ``"mean"``, ``"amax"``, ``"amin"``) of the src values scattered there,
    together with input's own value when ``include_self``; other places keep input.

    Gradients as PyTorch's: sum and mean pass the (averaged) gradient to every value; amax
    and amin share it equally among the values that equal the result; prod gives each
    value the product of the others (exact with zeros).

    >>> import ember as em
    >>> x = em.zeros(3)
    >>> em.scatter_reduce(x, 0, em.tensor([0, 0, 2]), em.tensor([1.0, 5.0, 2.0]), "amax",
    ...                   include_self=False)
    tensor([5., 0., 2.])
    """
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)  # (PyTorch accepts both)
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"scatter_reduce(): reduce argument must be one of "
                           f"{', '.join(_REDUCTIONS)}, got {reduce!r}")
    x, key, source = _scatter_args("scatter_reduce", input, dim, index, _t(src))
    _same_dtype("scatter_reduce", x, source)
    if reduce in ("amax", "amin"):
        return index_ops.scatter_extreme(x, source, key=key, largest=reduce == "amax",
                                         include_self=include_self)
    if reduce == "prod":
        return index_ops.scatter_prod(x, source, key=key, include_self=include_self)
    base = x if include_self else index_ops.index_put(x, 0, key=key)
    total = index_ops.index_put(base, source, key=key, accumulate=True)
    if reduce == "sum":
        return total
    count = np.full(x.shape, 1 if include_self else 0, dtype=np.int64)
    np.add.at(count, key, 1)
    count = np.maximum(count, 1)  # places no value reached keep input (divided by 1)
    if x.dtype.kind == "f":
        return total / count.astype(x.dtype)
    return compare.floor_divide(total, count.astype(x.dtype))


# ----------------------------------------------------------------------------- index_*


def _along(op: str, x: Tensor, dim: int, index) -> tuple:
    """(d, the NumPy key ``[:, ..., index]`` selecting ``index`` along dimension d)."""
    index = _index_array(index, op)
    if index.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector, got shape "
                         f"{tuple(index.shape)}")
    d = _dim(dim, x.ndim, op)
    size = x.shape[d] if x.ndim else 1
    if index.size and (index.min() < -size or index.max() >= size):
        raise IndexError(f"{op}(): index out of range in self (index "
                         f"{index.min() if index.min() < -size else index.max()}, dimension "
                         f"{dim} of size {size})")
    return d, (slice(None),) * d + (index.reshape(-1),)


def index_select(input, dim: int, index) -> Tensor:
    """The slices of input at ``index`` (a vector) along ``dim``: that dimension's size
    becomes len(index). The gradient adds back (repeated indices accumulate).

    >>> import ember as em
    >>> em.index_select(em.tensor([[1, 2], [3, 4], [5, 6]]), 0, em.tensor([2, 0]))
    tensor([[5, 6],
            [1, 2]])
    """
    x = _t(input)
    if x.ndim == 0:
        _along("index_select", x, dim, index)
        return shape_ops.getitem_basic(x, key=())
    _, key = _along("index_select", x, dim, index)
    return shape_ops.getitem_advanced(x, key=key)


def _index_write(op, input, dim, index, source, accumulate, alpha=1):
    x = _t(input)
    d, key = _along(op, x, dim, index)
    source = _t(source)
    expected = x.shape[:d] + (len(key[-1]),) + x.shape[d + 1:]
    if source.shape != expected and not (source.ndim == 0 and x.ndim == 0):
        raise RuntimeError(f"{op}(): source of shape {source.shape} should have shape "
                           f"{expected} (input {x.shape}, {len(key[-1])} indices along "
                           f"dimension {dim})")
    _same_dtype(op, x, source)
    if alpha != 1:
        source = source * alpha
    if x.ndim == 0:
        key = ()
    return index_ops.index_put(x, source, key=key, accumulate=accumulate)


def index_add(input, dim: int, index, source, *, alpha=1) -> Tensor:
    """A copy of input with ``alpha * source[..., i, ...]`` added to the slice
    ``index[i]`` along ``dim`` (repeated indices accumulate)."""
    return _index_write("index_add", input, dim, index, source, True, alpha)


def index_copy(input, dim: int, index, source) -> Tensor:
    """A copy of input with the slices at ``index`` along ``dim`` replaced by those of
    ``source``; input's gradient is zero there."""
    return _index_write("index_copy", input, dim, index, source, False)


def index_fill(input, dim: int, index, value) -> Tensor:
    """A copy of input with the slices at ``index`` along ``dim`` filled with ``value`` (a
    number or a 0-d tensor, which then receives the sum of their gradients)."""
    x = _t(input)
    d, key = _along("index_fill", x, dim, index)
    if isinstance(value, Tensor):
        if value.ndim:
            raise IndexError(f"index_fill(): only supports a 0-dimensional value tensor, "
                             f"got shape {value.shape}")
        value = value if value.dtype == x.dtype else value.type(x.dtype)
    return index_ops.index_put(x, value, key=key if x.ndim else ())


def index_put(input, indices, values, accumulate: bool = False) -> Tensor:
    """Out-of-place ``input[indices] = values`` (or ``+=`` with ``accumulate``, where
    repeated places receive every value); ``indices`` is a tuple of index tensors."""
    x = _t(input)
    if not isinstance(indices, (tuple, list)):
        raise TypeError("index_put(): indices must be a tuple of tensors")
    basic, advanced = split_key(tuple(indices), x.ndim)
    key = advanced if advanced is not None else basic
    values = _t(values)
    if values.dtype != x.dtype:
        values = values.type(x.dtype)
    return index_ops.index_put(x, values, key=key, accumulate=builtins.bool(accumulate))


def put(input, index, source, accumulate: bool = False) -> Tensor:
    """Out-of-place ``put_``: input viewed as 1-d, with ``source`` written (or added) at the
    flat positions ``index``."""
    x = _t(input)
    flat = x.reshape(-1)
    index = _index_array(index, "put").reshape(-1)
    source = _t(source).reshape(-1)
    if source.shape[0] != index.shape[0]:
        raise RuntimeError(f"put(): expected source and index to have the same number of "
                           f"elements, got {source.shape[0]} and {index.shape[0]}")
    _same_dtype("put", x, source)
    out = index_ops.index_put(flat, source, key=(index,), accumulate=builtins.bool(accumulate))
    return out.reshape(x.shape)


# ----------------------------------------------------------------------------- masks


def _bool_mask(op: str, mask) -> Tensor:
    mask = _t(mask)
    if mask.dtype != bool:
        raise RuntimeError(f"{op}: expected BoolTensor for mask, got {mask.dtype}")
    return mask


def masked_select(input, mask) -> Tensor:
    """The elements of input where ``mask`` (broadcast together) is True, as a 1-d tensor.

    >>> import ember as em
    >>> x = em.tensor([[1.0, -2.0], [-3.0, 4.0]])
    >>> em.masked_select(x, x > 0)
    tensor([1., 4.])
    """
    x, mask = _t(input), _bool_mask("masked_select", mask)
    shape = np.broadcast_shapes(x.shape, mask.shape)
    if x.shape != shape:
        x = shape_ops.broadcast_to(x, shape=shape)
    return shape_ops.getitem_advanced(x, key=np.broadcast_to(mask._data, shape))


def masked_fill(input, mask, value) -> Tensor:
    """A copy of input with ``value`` (a number or a 0-d tensor) wherever ``mask`` is True;
    the gradient of input is zero there."""
    x, mask = _t(input), _bool_mask("masked_fill", mask)
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"masked_fill only supports a 0-dimensional value tensor, "
                               f"but got tensor with {value.ndim} dimension(s)")
        value = value if value.dtype == x.dtype else value.type(x.dtype)
    elif x.dtype.kind != "f" and isinstance(value, float) and value != builtins.int(value):
        raise RuntimeError(f"masked_fill: value {value} cannot be converted to {x.dtype} "
                           "without overflow")
    else:
        value = np.asarray(value, dtype=x.dtype)
    out = elementwise.where(mask, value, x)
    if out.shape != x.shape:
        raise RuntimeError(f"masked_fill: mask of shape {mask.shape} cannot be broadcast "
                           f"to input of shape {x.shape}")
    return out


def masked_scatter(input, mask, source) -> Tensor:
    """A copy of input whose places where ``mask`` is True take the elements of
    ``source`` in order (row-major); source's gradient is read back from those places."""
    x, mask = _t(input), _bool_mask("masked_scatter", mask)
    keep = np.broadcast_to(mask._data, x.shape)
    count = builtins.int(keep.sum())
    source = _t(source)
    if source.numel() < count:
        raise RuntimeError(f"masked_scatter: expected source to have at least {count} "
                           f"elements, got {source.numel()}")
    _same_dtype("masked_scatter", x, source)
    values = shape_ops.getitem_basic(source.reshape(-1), key=(slice(0, count),))
    return index_ops.index_put(x, values, key=keep)


# ----------------------------------------------------------------------------- take


def take(input, index) -> Tensor:
    """The elements of input (as if flattened) at ``index``; the result has index's shape.

    >>> import ember as em
    >>> em.take(em.tensor([[4, 3], [5, 7]]), em.tensor([0, 3, -1]))
    tensor([4, 7, 7])
    """
    x = _t(input)
    index = _index_array(index, "take")
    n = x.numel()
    if index.size and (index.min() < -n or index.max() >= n):
        raise IndexError(f"take(): index out of range for tensor of {n} elements")
    return shape_ops.getitem_advanced(x.reshape(-1), key=(index,))


def take_along_dim(input, indices, dim: int | None = None) -> Tensor:
    """Values of input at ``indices`` along ``dim`` (input and indices broadcast in the
    other dimensions), as NumPy's ``take_along_axis``; with ``dim=None`` both are
    flattened first. ``x.take_along_dim(x.argsort(1), 1)`` sorts the rows."""
    x = _t(input)
    index = _index_array(indices, "take_along_dim")
    if dim is None:
        return gather(x.reshape(-1), 0, index.reshape(-1))
    d = _dim(dim, x.ndim, "take_along_dim")
    if index.ndim != x.ndim:
        raise RuntimeError(f"take_along_dim(): input and indices should have the same "
                           f"number of dimensions, got {x.ndim} and {index.ndim}")
    outside = np.broadcast_shapes(x.shape[:d] + (1,) + x.shape[d + 1:],
                                  index.shape[:d] + (1,) + index.shape[d + 1:])
    x_shape = outside[:d] + (x.shape[d],) + outside[d + 1:]
    if x.shape != x_shape:
        x = shape_ops.broadcast_to(x, shape=x_shape)
    index = np.broadcast_to(index, outside[:d] + (index.shape[d],) + outside[d + 1:])
    size = x.shape[d]
    if index.size and (index.min() < -size or index.max() >= size):
        raise RuntimeError(f"take_along_dim(): index out of bounds for dimension {dim} with "
                           f"size {size}")
    return shape_ops.gather(x, index % size if index.size else index, axis=d)


def argwhere(input) -> Tensor:
    """The indices of the nonzero elements, one row each: (n, ndim) int64 (as
    ``nonzero``)."""
    return compare.nonzero(_t(input))

