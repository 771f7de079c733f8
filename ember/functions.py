"""The tensor functions under PyTorch's names and arguments (``em.sum``, ``em.cat``, ...).

Each function normalises its arguments (``dim``/``axis``, ``keepdim``/``keepdims``,
shapes given as a tuple or as separate ints, negative dimensions) and calls a primitive
in :mod:`ember.ops`, or composes primitives. Tensor methods are these same functions
with the tensor first (``x.sum(1)`` is ``em.sum(x, 1)``).

>>> import ember as em
>>> x = em.tensor([[1.0, 5.0], [3.0, 2.0]])
>>> em.sum(x, dim=1)
tensor([6., 5.])
>>> x.max(dim=0)
max(values=tensor([3., 5.]), indices=tensor([1, 0]))
"""

from __future__ import annotations

import builtins
import collections
import math

import numpy as np

from ember import dtypes
from ember.errors import DtypeError, ShapeError
from ember.ops import arithmetic, bitwise, compare, elementwise, reduction, special
from ember.ops import shape as shape_ops
from ember.tensor import Tensor

# ---------------------------------------------------------------------------- helpers


def _t(x) -> Tensor:
    """``x`` as a tensor (arrays, scalars and lists become constant tensors)."""
    if isinstance(x, Tensor):
        return x
    from ember.creation import tensor

    return tensor(x)


def _axis(dim, axis, name: str = "dim"):
    """Merge PyTorch's ``dim`` and NumPy's ``axis``."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"pass {name} or axis, not both")
        return axis
    return dim


def _keep(keepdim, keepdims) -> bool:
    return builtins.bool(keepdims if keepdims is not None else keepdim)


def _dim(d: int, ndim: int, op: str, extra: int = 0) -> int:
    """Dimension ``d`` of an ``ndim``-d tensor as a non-negative int, or an IndexError.

    ``extra`` widens the range (``unsqueeze`` may insert at position ``ndim``).
    """
    n = builtins.max(ndim + extra, 1)
    if not isinstance(d, (builtins.int, np.integer)) or isinstance(d, builtins.bool):
        raise TypeError(f"{op}(): dim must be an int, got {type(d).__name__}")
    if not -n <= d < n:
        raise IndexError(
            f"{op}(): dimension {d} is out of range for a {ndim}-d tensor "
            f"(expected one in [{-n}, {n - 1}])"
        )
    return builtins.int(d) % n


def _dims(dims, ndim: int, op: str):
    """A reduction's dimensions as a sorted tuple, or None for all of them."""
    if dims is None:
        return None
    if isinstance(dims, (builtins.int, np.integer)):
        dims = (dims,)
    dims = tuple(dims)
    if not dims or ndim == 0:
        for d in dims:
            _dim(d, ndim, op)
        return None
    out = tuple(sorted({_dim(d, ndim, op) for d in dims}))
    if len(out) != len(dims):
        raise RuntimeError(f"{op}(): dimension {dims} appears more than once")
    return out


def _shape_args(shape, op: str) -> tuple:
    """``f(2, 3)`` and ``f((2, 3))`` both give ``(2, 3)``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    try:
        return tuple(builtins.int(s) for s in shape)
    except TypeError:
        raise TypeError(f"{op}(): the shape must be ints, got {shape!r}") from None


max_result = collections.namedtuple("max", ["values", "indices"])
min_result = collections.namedtuple("min", ["values", "indices"])

# ---------------------------------------------------------------------------- arithmetic


def add(input, other, *, alpha=1) -> Tensor:
    """input + alpha * other."""
    return arithmetic.add(input, other if alpha == 1 else other * alpha)


def sub(input, other, *, alpha=1) -> Tensor:
    """input - alpha * other."""
    return arithmetic.sub(input, other if alpha == 1 else other * alpha)


subtract = sub


def mul(input, other) -> Tensor:
    """input * other (elementwise, broadcasting)."""
    return arithmetic.mul(input, other)


multiply = mul


def div(input, other, *, rounding_mode: str | None = None) -> Tensor:
    """input / other; ``rounding_mode`` ``"floor"`` or ``"trunc"`` rounds (no gradient)."""
    if rounding_mode is None:
        return arithmetic.div(input, other)
    if rounding_mode == "floor":
        return compare.floor_divide(input, other)
    if rounding_mode == "trunc":
        if _integral(input) and _integral(other):  # integers stay integers, as in PyTorch
            return bitwise.trunc_divide(input, other)
        return elementwise.sign(arithmetic.div(input, other)) * floor(
            abs(arithmetic.div(input, other))
        )
    raise ValueError(
        f"div(): rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}"
    )


divide = true_divide = div


def pow(input, exponent) -> Tensor:
    """input ** exponent."""
    return arithmetic.pow(input, exponent)


def neg(input) -> Tensor:
    """-input."""
    return arithmetic.neg(input)


negative = neg


def matmul(input, other) -> Tensor:
    """Matrix product, batched and broadcast over leading dimensions."""
    return arithmetic.matmul(input, other)


def mm(input, mat2) -> Tensor:
    """Product of two matrices (2-d only; see :func:`matmul` for batches)."""
    if _t(input).ndim != 2 or _t(mat2).ndim != 2:
        raise ShapeError(f"mm: expected two matrices, got shapes {_t(input).shape} and "
                         f"{_t(mat2).shape}")
    return arithmetic.matmul(input, mat2)


def dot(input, other) -> Tensor:
    """Inner product of two vectors (1-d only)."""
    if _t(input).ndim != 1 or _t(other).ndim != 1:
        raise ShapeError(f"dot: expected two vectors, got shapes {_t(input).shape} and "
                         f"{_t(other).shape}")
    return arithmetic.matmul(input, other)


def floor_divide(input, other) -> Tensor:
    return compare.floor_divide(input, other)


# ---------------------------------------------------------------------------- elementwise

exp = elementwise.exp
log = elementwise.log
log1p = elementwise.log1p
sqrt = elementwise.sqrt
abs = elementwise.abs
sign = elementwise.sign
sin = elementwise.sin
cos = elementwise.cos
floor = elementwise.floor
ceil = elementwise.ceil
sigmoid = elementwise.sigmoid
tanh = elementwise.tanh
relu = elementwise.relu
maximum = elementwise.maximum
minimum = elementwise.minimum
erf = special.erf
erfc = special.erfc


def round(input, decimals: int = 0) -> Tensor:
    """Round half to even; zero gradient."""
    return elementwise.round(input, decimals=decimals)


def rsqrt(input) -> Tensor:
    """1 / sqrt(input)."""
    return arithmetic.div(1.0, elementwise.sqrt(input))


def square(input) -> Tensor:
    """input * input (bools square to int64, as in PyTorch)."""
    if getattr(input, "dtype", None) == dtypes.bool_:
        input = _t(input).type(dtypes.int64)
    return arithmetic.mul(input, input)


def clamp(input, min=None, max=None) -> Tensor:
    """Each element limited to [min, max] (either may be None, or a tensor)."""
    if min is None and max is None:
        raise ValueError("clamp(): at least one of min and max must be given")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = input
        if min is not None:
            out = elementwise.maximum(out, min)
        if max is not None:
            out = elementwise.minimum(out, max)
        return out
    return elementwise.clamp(input, min=min, max=max)


clip = clamp


def where(condition, input=None, other=None) -> Tensor:
    """``input`` where ``condition`` holds, else ``other`` (broadcasting).

    With only ``condition``, the indices where it holds (as ``nonzero(as_tuple=True)``).
    """
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    return elementwise.where(condition, input, other)


def nonzero(input, *, as_tuple: bool = False):
    """Indices of the nonzero elements: an (n, ndim) int64 tensor, or a tuple of 1-d ones."""
    x = _t(input)
    indices = compare.nonzero(x)  # (n, ndim)
    if as_tuple:
        return tuple(indices[:, i] for i in range(x.ndim))
    return indices


# ---------------------------------------------------------------------------- reductions


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None) -> Tensor:
    """Sum of the elements (over ``dim``, all by default); integers and bools sum in int64."""
    x = _t(input) if dtype is None else _t(input).type(dtype)
    if x.dtype.kind in "biu" and x.dtype != dtypes.int64:  # as PyTorch: uint8 sums to int64
        x = x.type(dtypes.int64)
    return reduction.sum(x, axis=_dims(_axis(dim, axis), x.ndim, "sum"),
                         keepdims=_keep(keepdim, keepdims))


def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None) -> Tensor:
    """Arithmetic mean of the elements (over ``dim``, all by default)."""
    x = _t(input) if dtype is None else _t(input).type(dtype)
    if x.dtype.kind != "f":
        raise DtypeError(f"mean(): needs a floating-point tensor, got {x.dtype}; "
                         "convert it with .float()")
    return reduction.mean(x, axis=_dims(_axis(dim, axis), x.ndim, "mean"),
                          keepdims=_keep(keepdim, keepdims))


def _correction(correction, unbiased) -> float:
    if unbiased is not None:
        if correction is not None:
            raise TypeError("pass correction or unbiased, not both")
        return 1 if unbiased else 0
    return 1 if correction is None else correction


def var(input, dim=None, *, correction=None, unbiased=None, keepdim=False, axis=None,
        keepdims=None, ddof=None) -> Tensor:
    """Variance: sum (x - mean)^2 / (N - correction); correction=1 (Bessel) by default."""
    x = _t(input)
    c = ddof if ddof is not None else _correction(correction, unbiased)
    return reduction.var(x, axis=_dims(_axis(dim, axis), x.ndim, "var"), correction=c,
                         keepdims=_keep(keepdim, keepdims))


def std(input, dim=None, *, correction=None, unbiased=None, keepdim=False, axis=None,
        keepdims=None, ddof=None) -> Tensor:
    """Standard deviation: sqrt(var); correction=1 (Bessel) by default."""
    x = _t(input)
    c = ddof if ddof is not None else _correction(correction, unbiased)
    return reduction.std(x, axis=_dims(_axis(dim, axis), x.ndim, "std"), correction=c,
                         keepdims=_keep(keepdim, keepdims))


def _extreme(op, input, dim, keepdim, axis, keepdims):
    x = _t(input)
    dim = _axis(dim, axis)
    if isinstance(dim, Tensor):  # max(input, other): elementwise
        return (elementwise.maximum if op == "max" else elementwise.minimum)(x, dim)
    if dim is None:
        if x.numel() == 0:
            raise RuntimeError(f"{op}(): Expected reduction dim to be specified for "
                               "input.numel() == 0. Specify the reduction dim with the 'dim' "
                               "argument.")
        full = reduction.amax if op == "max" else reduction.amin
        return full(x, axis=None, keepdims=False)
    d = _dim(dim, x.ndim, op)
    if x.ndim and x.shape[d] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size.")
    keep = _keep(keepdim, keepdims)
    if x.ndim == 0:
        return (max_result if op == "max" else min_result)(x, Tensor._wrap(np.zeros((), np.int64)))
    along = reduction.max_along if op == "max" else reduction.min_along
    arg = reduction.argmax if op == "max" else reduction.argmin
    result = max_result if op == "max" else min_result
    return result(along(x, axis=d, keepdims=keep), arg(x, axis=d, keepdims=keep))


def max(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The largest element; with ``dim``, a ``(values, indices)`` pair along it;
    with a tensor, the elementwise maximum (all as in PyTorch)."""
    return _extreme("max", input, dim, keepdim, axis, keepdims)


def min(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The smallest element; with ``dim``, a ``(values, indices)`` pair along it;
    with a tensor, the elementwise minimum (all as in PyTorch)."""
    return _extreme("min", input, dim, keepdim, axis, keepdims)


def amax(input, dim=(), keepdim=False, *, axis=None, keepdims=None) -> Tensor:
    """Largest value over ``dim`` (all by default); ties share the gradient equally."""
    x = _t(input)
    return reduction.amax(x, axis=_dims(_axis(dim, axis), x.ndim, "amax"),
                          keepdims=_keep(keepdim, keepdims))


def amin(input, dim=(), keepdim=False, *, axis=None, keepdims=None) -> Tensor:
    """Smallest value over ``dim`` (all by default); ties share the gradient equally."""
    x = _t(input)
    return reduction.amin(x, axis=_dims(_axis(dim, axis), x.ndim, "amin"),
                          keepdims=_keep(keepdim, keepdims))


def argmax(input, dim=None, keepdim=False, *, axis=None, keepdims=None) -> Tensor:
    """Index of the largest element (in the flattened tensor when ``dim`` is None)."""
    x = _t(input)
    dim = _axis(dim, axis)
    if dim is None:
        return reduction.argmax(x)
    return reduction.argmax(x, axis=_dim(dim, x.ndim, "argmax"), keepdims=_keep(keepdim,
                                                                                keepdims))


def argmin(input, dim=None, keepdim=False, *, axis=None, keepdims=None) -> Tensor:
    """Index of the smallest element (in the flattened tensor when ``dim`` is None)."""
    x = _t(input)
    dim = _axis(dim, axis)
    if dim is None:
        return reduction.argmin(x)
    return reduction.argmin(x, axis=_dim(dim, x.ndim, "argmin"), keepdims=_keep(keepdim,
                                                                                keepdims))


def logsumexp(input, dim=None, keepdim=False, *, axis=None, keepdims=None) -> Tensor:
    """log sum exp(x) over ``dim``, computed stably (the max is subtracted first)."""
    x = _t(input)
    return reduction.logsumexp(x, axis=_dims(_axis(dim, axis), x.ndim, "logsumexp"),
                               keepdims=_keep(keepdim, keepdims))


def softmax(input, dim=None, *, axis=None, dtype=None) -> Tensor:
    """exp(x_i) / sum_j exp(x_j) along ``dim`` (stable for any finite logits)."""
    x = _t(input) if dtype is None else _t(input).type(dtype)
    dim = _axis(dim, axis)
    if dim is None:
        raise TypeError("softmax(): pass the dimension to normalise over, e.g. dim=-1")
    return reduction.softmax(x, axis=_dim(dim, x.ndim, "softmax"))


def log_softmax(input, dim=None, *, axis=None, dtype=None) -> Tensor:
    """log softmax(x) along ``dim``, computed without forming softmax (stable)."""
    x = _t(input) if dtype is None else _t(input).type(dtype)
    dim = _axis(dim, axis)
    if dim is None:
        raise TypeError("log_softmax(): pass the dimension to normalise over, e.g. dim=-1")
    return reduction.log_softmax(x, axis=_dim(dim, x.ndim, "log_softmax"))


def all(input, dim=None, keepdim=False, *, axis=None, keepdims=None) -> Tensor:
    """Whether every element (over ``dim``) is nonzero."""
    x = _t(input)
    return compare.all(x, axis=_dims(_axis(dim, axis), x.ndim, "all"),
                       keepdims=_keep(keepdim, keepdims))


def any(input, dim=None, keepdim=False, *, axis=None, keepdims=None) -> Tensor:
    """Whether some element (over ``dim``) is nonzero."""
    x = _t(input)
    return compare.any(x, axis=_dims(_axis(dim, axis), x.ndim, "any"),
                       keepdims=_keep(keepdim, keepdims))


eq, ne, lt, le, gt, ge = compare.eq, compare.ne, compare.lt, compare.le, compare.gt, compare.ge
greater, less = gt, lt
logical_and, logical_or = compare.logical_and, compare.logical_or
logical_xor, logical_not = compare.logical_xor, compare.logical_not
isnan, isinf, isfinite = compare.isnan, compare.isinf, compare.isfinite


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """Whether |input - other| <= atol + rtol |other| everywhere."""
    return builtins.bool(compare.isclose(input, other, rtol=rtol, atol=atol,
                                         equal_nan=equal_nan).all())


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> Tensor:
    """Elementwise |input - other| <= atol + rtol |other|."""
    return compare.isclose(input, other, rtol=rtol, atol=atol, equal_nan=equal_nan)


def equal(input, other) -> bool:
    """Whether both tensors have the same shape and elements (``torch.equal``)."""
    a, b = _t(input), _t(other)
    return a.shape == b.shape and builtins.bool(compare.eq(a, b).all())


# ---------------------------------------------------------------------------- shapes


def reshape(input, *shape) -> Tensor:
    """The same elements in a new shape; one dimension may be -1 (inferred)."""
    x = _t(input)
    target = _shape_args(shape, "reshape")
    known = math.prod(s for s in target if s != -1)
    if target.count(-1) > 1 or builtins.any(s < -1 for s in target):
        raise ShapeError(f"reshape: invalid shape {target}")
    if -1 in target:
        if known == 0 or x.numel() % known:
            raise ShapeError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                             f"({x.numel()} elements) into {target}")
        target = tuple(x.numel() // known if s == -1 else s for s in target)
    elif known != x.numel():
        raise ShapeError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                         f"({x.numel()} elements) into {target}")
    return shape_ops.reshape(x, shape=target)


def view_as(input, other) -> Tensor:
    return reshape(input, _t(other).shape)


reshape_as = view_as


def flatten(input, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Dimensions start_dim..end_dim merged into one."""
    x = _t(input)
    if x.ndim == 0:
        return reshape(x, (1,))
    start, end = _dim(start_dim, x.ndim, "flatten"), _dim(end_dim, x.ndim, "flatten")
    if start > end:
        raise ValueError("flatten(): start_dim must not come after end_dim")
    merged = math.prod(x.shape[start:end + 1])
    return reshape(x, x.shape[:start] + (merged,) + x.shape[end + 1:])


def permute(input, *dims) -> Tensor:
    """Dimensions reordered: output dimension i is input dimension dims[i]."""
    x = _t(input)
    dims = _shape_args(dims, "permute")
    axes = tuple(_dim(d, x.ndim, "permute") for d in dims)
    if sorted(axes) != list(range(x.ndim)):
        raise ShapeError(f"permute(): {dims} is not a permutation of the {x.ndim} dimensions "
                         f"of a tensor of shape {x.shape}")
    return shape_ops.permute(x, axes=axes)


def transpose(input, dim0: int, dim1: int) -> Tensor:
    """Dimensions dim0 and dim1 swapped."""
    x = _t(input)
    axes = list(range(x.ndim))
    a, b = _dim(dim0, x.ndim, "transpose"), _dim(dim1, x.ndim, "transpose")
    axes[a], axes[b] = axes[b], axes[a]
    return shape_ops.permute(x, axes=tuple(axes))


swapaxes = transpose


def t(input) -> Tensor:
    """The transpose of a matrix (tensors of at most 2 dimensions)."""
    x = _t(input)
    if x.ndim > 2:
        raise ShapeError(f"t(): expects a tensor of at most 2 dimensions, got shape {x.shape}")
    return x if x.ndim < 2 else transpose(x, 0, 1)


def squeeze(input, dim=None, *, axis=None) -> Tensor:
    """Size-1 dimensions removed (only those in ``dim`` when given)."""
    x = _t(input)
    dim = _axis(dim, axis)
    if dim is None:
        dims = range(x.ndim)
    else:
        dims = [_dim(d, x.ndim, "squeeze") for d in
                ((dim,) if isinstance(dim, (builtins.int, np.integer)) else dim)]
    target = tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1))
    return reshape(x, target)


def unsqueeze(input, dim: int | None = None, *, axis=None) -> Tensor:
    """A size-1 dimension inserted at position ``dim``."""
    x = _t(input)
    dim = _axis(dim, axis)
    if dim is None:
        raise TypeError("unsqueeze(): missing the dimension to insert (dim=...)")
    d = _dim(dim, x.ndim, "unsqueeze", extra=1)
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


def expand(input, *sizes) -> Tensor:
    """A broadcast view with the given sizes (-1 keeps a dimension's size)."""
    x = _t(input)
    sizes = _shape_args(sizes, "expand")
    if len(sizes) < x.ndim:
        raise ShapeError(f"expand: cannot expand shape {x.shape} to {sizes} (fewer dimensions)")
    lead = len(sizes) - x.ndim
    target = tuple(
        x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes)
    )
    return broadcast_to(x, target)


def expand_as(input, other) -> Tensor:
    return expand(input, _t(other).shape)


def broadcast_to(input, shape) -> Tensor:
    """A view of ``input`` broadcast to ``shape``."""
    x = _t(input)
    shape = tuple(shape)
    if x.shape == shape:
        return x
    try:
        np.broadcast_shapes(x.shape, shape)
    except ValueError:
        raise ShapeError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    if np.broadcast_shapes(x.shape, shape) != shape:
        raise ShapeError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}")
    return shape_ops.broadcast_to(x, shape=shape)


def broadcast_tensors(*tensors) -> tuple:
    """The tensors broadcast to their common shape."""
    tensors = [_t(x) for x in tensors]
    common = np.broadcast_shapes(*(x.shape for x in tensors))
    return tuple(broadcast_to(x, common) for x in tensors)


def repeat(input, *sizes) -> Tensor:
    """The tensor tiled ``sizes[i]`` times along dimension i (``torch.Tensor.repeat``)."""
    x = _t(input)
    sizes = _shape_args(sizes, "repeat")
    if len(sizes) < x.ndim:
        raise ShapeError(f"repeat: needs at least {x.ndim} sizes for shape {x.shape}, "
                         f"got {sizes}")
    return shape_ops.tile(x, reps=sizes)


def flip(input, dims=None, *, axis=None) -> Tensor:
    """Elements reversed along ``dims``."""
    x = _t(input)
    dims = _axis(dims, axis)
    if dims is None:
        raise TypeError("flip(): missing the dimensions to reverse (dims=...)")
    dims = (dims,) if isinstance(dims, (builtins.int, np.integer)) else tuple(dims)
    return shape_ops.flip(x, axis=tuple(_dim(d, x.ndim, "flip") for d in dims))


def split(tensor, split_size_or_sections, dim: int = 0, *, axis=None) -> tuple:
    """Pieces along ``dim``: of size ``split_size`` each (the last may be smaller), or of
    the listed sizes (PyTorch's meaning, not NumPy's number of sections)."""
    x = _t(tensor)
    dim = dim if axis is None else axis
    d = _dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, (builtins.int, np.integer)):
        step = builtins.int(split_size_or_sections)
        if step <= 0:
            raise ValueError(f"split(): split_size must be positive, got {step}")
        sizes = [builtins.min(step, n - s) for s in range(0, n, step)] or [0]
    else:
        sizes = [builtins.int(s) for s in split_size_or_sections]
        if builtins.sum(sizes) != n:
            raise ShapeError(f"split(): sizes {sizes} do not add up to {n}, the size of "
                             f"dimension {dim}")
    pieces, start = [], 0
    for size in sizes:
        key = (slice(None),) * d + (slice(start, start + size),)
        pieces.append(shape_ops.getitem_basic(x, key=key))
        start += size
    return tuple(pieces)


def chunk(input, chunks: int, dim: int = 0, *, axis=None) -> tuple:
    """``chunks`` pieces along ``dim`` of size ceil(n / chunks) (the last may be smaller)."""
    x = _t(input)
    dim = dim if axis is None else axis
    n = x.shape[_dim(dim, x.ndim, "chunk")]
    return split(x, builtins.max(1, -(-n // chunks)), dim)


def unbind(input, dim: int = 0, *, axis=None) -> tuple:
    """The slices along ``dim``, with that dimension removed."""
    x = _t(input)
    dim = dim if axis is None else axis
    d = _dim(dim, x.ndim, "unbind")
    return tuple(shape_ops.getitem_basic(x, key=(slice(None),) * d + (i,))
                 for i in range(x.shape[d]))


def _joinable(tensors, op: str) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}(): expects a list or tuple of tensors")
    if not tensors:
        raise ValueError(f"{op}(): expects a non-empty list of tensors")
    tensors = [_t(x) for x in tensors]
    dtype = tensors[0].dtype
    for x in tensors[1:]:  # PyTorch's promotion, e.g. int64 with float32 gives float32
        if x.dtype != dtype:
            dtype = dtypes.result_type(np.empty((0,), dtype), np.empty((0,), x.dtype))
    return [x if x.dtype == dtype else x.type(dtype) for x in tensors]


def cat(tensors, dim: int = 0, *, axis=None) -> Tensor:
    """The tensors joined along an existing dimension."""
    tensors = _joinable(tensors, "cat")
    first = tensors[0]
    d = _dim(_axis(dim, axis) if axis is not None else dim, first.ndim, "cat")
    for i, x in enumerate(tensors[1:], 1):
        if x.ndim != first.ndim or builtins.any(
            a != b for j, (a, b) in enumerate(zip(x.shape, first.shape, strict=True)) if j != d
        ):
            raise ShapeError(f"cat: tensor {i} has shape {x.shape}, which does not match "
                             f"shape {first.shape} of tensor 0 outside dimension {d}")
    return shape_ops.cat(*tensors, axis=d)


concatenate = concat = cat


def stack(tensors, dim: int = 0, *, axis=None) -> Tensor:
    """The tensors joined along a new dimension (they must have one shape)."""
    tensors = _joinable(tensors, "stack")
    first = tensors[0]
    d = _dim(_axis(dim, axis) if axis is not None else dim, first.ndim, "stack", extra=1)
    for i, x in enumerate(tensors[1:], 1):
        if x.shape != first.shape:
            raise ShapeError(f"stack: tensor {i} has shape {x.shape} but tensor 0 has "
                             f"shape {first.shape}")
    return shape_ops.stack(*tensors, axis=d)


def pad(input, pad, mode: str = "constant", value=None) -> Tensor:
    """Padding as ``torch.nn.functional.pad``: ``pad`` lists (before, after) pairs starting
    from the LAST dimension: ``(left, right, top, bottom)`` pads width then height.

    Modes: ``constant`` (with ``value``, 0 by default), ``reflect``, ``replicate``,
    ``circular``. A negative amount crops that side (before the other sides are padded).
    """
    x = _t(input)
    pad = tuple(builtins.int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ShapeError(f"pad: expects an even number of values, at most 2 per dimension, "
                         f"got {pad} for a tensor of shape {x.shape}")
    if builtins.any(p < 0 for p in pad):  # a negative amount crops (as PyTorch)
        return _pad_and_crop(x, pad, mode, value)
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise ValueError(f"pad: unknown mode {mode!r}; expected 'constant', 'reflect', "
                         "'replicate' or 'circular'")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
        size = x.shape[x.ndim - 1 - i]
        if mode == "reflect" and builtins.max(pad[2 * i], pad[2 * i + 1]) >= size:
            raise ShapeError(f"pad: reflect padding {pad[2 * i:2 * i + 2]} must be smaller "
                             f"than the dimension's size {size}")
        if mode == "circular" and builtins.max(pad[2 * i], pad[2 * i + 1]) > size:
            raise ShapeError(f"pad: circular padding {pad[2 * i:2 * i + 2]} must not exceed "
                             f"the dimension's size {size}")
    if mode != "constant" and value:
        raise ValueError(f"pad: value is only used by mode 'constant', not {mode!r}")
    return shape_ops.pad(x, pad_width=tuple(widths), mode=mode,
                         value=0.0 if value is None else value)


def _pad_and_crop(x: Tensor, amounts: tuple, mode: str, value) -> Tensor:
    """Padding with negative amounts, which crop: PyTorch pads the positive amounts first
    and then crops, except in ``circular`` mode, which crops first (and wraps around
    what is left)."""
    crop = [slice(None)] * x.ndim
    for i in range(len(amounts) // 2):
        d = x.ndim - 1 - i
        before, after = builtins.max(-amounts[2 * i], 0), builtins.max(-amounts[2 * i + 1], 0)
        grown = x.shape[d] + builtins.max(amounts[2 * i], 0) + builtins.max(amounts[2 * i + 1], 0)
        if before + after >= grown:
            raise RuntimeError(f"pad: the padding {amounts} leaves nothing of dimension {d} of "
                               f"size {x.shape[d]} (input of shape {x.shape})")
        crop[d] = (before, after)
    positive = tuple(builtins.max(p, 0) for p in amounts)

    def cropped(t: Tensor) -> Tensor:
        key = tuple(s if isinstance(s, slice) else slice(s[0], t.shape[d] - s[1])
                    for d, s in enumerate(crop))
        return shape_ops.getitem_basic(t, key=key)

    if mode == "circular":
        return pad(cropped(x), positive, mode, value)
    return cropped(pad(x, positive, mode, value))


def clone(input) -> Tensor:
    """A copy that does not share memory (gradients flow through it)."""
    return shape_ops.clone(input)


def contiguous(input) -> Tensor:
    """Self if its memory is already row-major contiguous, else a contiguous copy."""
    x = _t(input)
    return x if x._data.flags.c_contiguous else shape_ops.clone(x, order="C")


def astype(input, dtype) -> Tensor:
    """A copy converted to ``dtype`` (gradients flow back converted to the input's)."""
    return shape_ops.astype(input, dtype=dtypes.as_dtype(dtype))


def _index_key(key):
    """An index with tensors and lists replaced by arrays (NumPy's order; ``x[key]`` in
    PyTorch's order is :func:`ember.tensor_functions.indexing.split_key`)."""
    if isinstance(key, tuple):
        return tuple(_index_part(k) for k in key)
    return _index_part(key)


def _index_part(k):
    """One part of an index as NumPy takes it: tensors and lists become arrays."""
    if isinstance(k, Tensor):  # a 0-d integer tensor selects, as an int (as in PyTorch)
        if k.ndim == 0 and k.dtype.kind in "iu":
            return builtins.int(k._data)
        return k._data
    if isinstance(k, list):
        return np.asarray(k)
    return k


# PyTorch's wider tensor API, one family per module (indexing, sorting, maths, ...)
from ember.tensor_functions import *  # noqa: E402,F403

# ---------------------------------------------------------------------------- bits


def _integral(x) -> bool:
    """Whether ``x`` (a tensor, array or Python number) holds integers or bools."""
    dtype = getattr(x, "dtype", None)
    return dtype.kind in "iub" if dtype is not None else isinstance(x, builtins.int)


bitwise_and, bitwise_or, bitwise_xor = (bitwise.bitwise_and, bitwise.bitwise_or,
                                        bitwise.bitwise_xor)
bitwise_not = bitwise.bitwise_not
bitwise_left_shift, bitwise_right_shift = bitwise.bitwise_left_shift, bitwise.bitwise_right_shift
greater_equal, less_equal, not_equal = ge, le, ne


# out= for the functions PyTorch gives it (ember/out.py); keep this block after every def
from ember import out as _out  # noqa: E402

_out.add_out_keyword(globals())


__all__ = [
    name for name, value in list(globals().items())
    if not name.startswith("_") and callable(value) and not isinstance(value, type)
    and getattr(value, "__module__", "").startswith("ember")
    and name not in ("max_result", "min_result")
]
