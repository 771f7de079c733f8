"""The tensor namespace: NumPy's functions on ember tensors, recorded, for higher-order gradients.

Every vector-Jacobian product (VJP) is written once, against an array module ``xp``::

    defvjp(sin, lambda xp, g, ans, x: g * xp.cos(x))

For ``loss.backward()`` the engine runs it with ``xp = numpy`` on the saved arrays: the
fast path. When the gradient must itself be differentiated (``create_graph=True``,
``em.autograd.grad`` of a gradient, Hessians), the engine runs the *same* function with
``xp = tensors``, the object below, and with ``g``, ``ans`` and the inputs as ember
tensors: every ``xp.cos``, ``*`` or ``.sum(axis=...)`` is then an ember primitive that
records its node, so the gradient carries a graph of its own and can be differentiated
again, to any order.

``tensors`` offers, with NumPy's names, arguments and semantics (``axis``, ``keepdims``,
NumPy's pad modes), the functions VJPs use. Writes into arrays (``out=``, ``a[i] = v``,
``np.add.at``) cannot be recorded: a VJP that needs one calls a primitive instead, through
:meth:`~ember.autograd.primitives.Primitive.on` (a scatter-add is the primitive
``index_backward``, whose own VJP is indexing).

>>> import ember as em
>>> from ember.autograd.namespace import tensors
>>> x = em.tensor([0.0, 1.0], dtype=em.float64, requires_grad=True)
>>> y = tensors.cos(x)              # the primitive cos, recorded
>>> y.grad_fn
<CosBackward0>
"""

from __future__ import annotations

import builtins

import numpy as np

from ember import creation
from ember import functions as F
from ember.ops import arithmetic, elementwise, reduction
from ember.ops import shape as shape_ops
from ember.tensor import Tensor

__all__ = ["TensorNamespace", "tensors"]


def _int_axes(axis, ndim: int):
    """NumPy's ``axis`` (None, an int or a tuple, negatives allowed) as a sorted tuple."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (builtins.int, np.integer)) else tuple(axis)
    return tuple(sorted(builtins.int(a) % builtins.max(ndim, 1) for a in axes))


def _no_out(name: str, out) -> None:
    if out is not None:
        raise TypeError(f"tensors.{name}: out= writes in place, which cannot be recorded; "
                        "use the returned tensor")


class TensorNamespace:
    """NumPy-named functions that take and return ember tensors and record their graph.

    Constants and dtype helpers are NumPy's own (``inf``, ``finfo``, ``float64``).
    Arguments that are arrays or Python numbers become constant tensors.
    """

    inf, nan, pi, newaxis = np.inf, np.nan, np.pi, None
    float16, float32, float64 = np.float16, np.float32, np.float64
    int32, int64, bool_ = np.int32, np.int64, np.bool_
    finfo, iinfo, dtype = np.finfo, np.iinfo, np.dtype
    errstate = staticmethod(np.errstate)

    def __repr__(self) -> str:
        return "<ember tensor namespace>"

    ndarray = Tensor

    # ------------------------------------------------------------------ conversion

    @staticmethod
    def asarray(x, dtype=None):
        """``x`` as a tensor (a tensor itself when it already has ``dtype``)."""
        if not isinstance(x, Tensor):
            return creation.as_tensor(np.asarray(x), dtype=dtype)
        return x if dtype is None or x.dtype == np.dtype(dtype) else x.type(dtype)

    @staticmethod
    def array(x, dtype=None, copy=True):
        out = TensorNamespace.asarray(x, dtype)
        return F.clone(out) if copy and out is x else out

    @staticmethod
    def shape(x) -> tuple:
        return tuple(x.shape) if isinstance(x, Tensor) else np.shape(x)

    @staticmethod
    def ndim(x) -> int:
        return x.ndim if isinstance(x, Tensor) else np.ndim(x)

    @staticmethod
    def result_type(*arrays):
        return np.result_type(*(a._data if isinstance(a, Tensor) else a for a in arrays))

    # ------------------------------------------------------------------ constants

    @staticmethod
    def zeros(shape, dtype=float):
        return _constant(np.zeros(shape, dtype))

    @staticmethod
    def ones(shape, dtype=float):
        return _constant(np.ones(shape, dtype))

    @staticmethod
    def full(shape, fill_value, dtype=None):
        return _constant(np.full(shape, fill_value, dtype))

    @staticmethod
    def zeros_like(x, dtype=None):
        return _constant(np.zeros(TensorNamespace.shape(x), dtype or _dtype(x)))

    @staticmethod
    def ones_like(x, dtype=None):
        return _constant(np.ones(TensorNamespace.shape(x), dtype or _dtype(x)))

    @staticmethod
    def full_like(x, fill_value, dtype=None):
        return _constant(np.full(TensorNamespace.shape(x), fill_value, dtype or _dtype(x)))

    @staticmethod
    def arange(*args, dtype=None):
        return _constant(np.arange(*args, dtype=dtype))

    @staticmethod
    def bincount(x, weights=None, minlength=0):
        if weights is not None:
            raise TypeError("tensors.bincount: weights are not supported; use index_backward")
        return _constant(np.bincount(_data(x), minlength=minlength))

    # ------------------------------------------------------------------ elementwise

    @staticmethod
    def exp(x, out=None):
        _no_out("exp", out)
        return elementwise.exp(x)

    @staticmethod
    def log(x, out=None):
        _no_out("log", out)
        return elementwise.log(x)

    @staticmethod
    def log1p(x):
        return elementwise.log1p(x)

    @staticmethod
    def expm1(x):
        return elementwise.exp(x) - 1

    @staticmethod
    def sqrt(x):
        return elementwise.sqrt(x)

    @staticmethod
    def abs(x):
        return elementwise.abs(x)

    @staticmethod
    def sign(x):
        return elementwise.sign(x)

    @staticmethod
    def sin(x):
        return elementwise.sin(x)

    @staticmethod
    def cos(x):
        return elementwise.cos(x)

    @staticmethod
    def exp2(x):
        return 2.0 ** _operand(x)

    @staticmethod
    def log2(x):
        return elementwise.log(x) / np.log(2.0)

    @staticmethod
    def log10(x):
        return elementwise.log(x) / np.log(10.0)

    @staticmethod
    def trunc(x):
        return elementwise.sign(x) * elementwise.floor(elementwise.abs(x))

    @staticmethod
    def sinh(x):
        e = elementwise.exp(x)
        return (e - 1 / e) / 2

    @staticmethod
    def cosh(x):
        e = elementwise.exp(x)
        return (e + 1 / e) / 2

    @staticmethod
    def tan(x):
        return elementwise.sin(x) / elementwise.cos(x)

    @staticmethod
    def tanh(x, out=None):
        _no_out("tanh", out)
        return elementwise.tanh(x)

    @staticmethod
    def square(x):
        return x * x

    @staticmethod
    def floor(x):
        return elementwise.floor(x)

    @staticmethod
    def ceil(x):
        return elementwise.ceil(x)

    @staticmethod
    def maximum(x, y, out=None):
        _no_out("maximum", out)
        return elementwise.maximum(_operand(x), _operand(y))

    @staticmethod
    def minimum(x, y, out=None):
        _no_out("minimum", out)
        return elementwise.minimum(_operand(x), _operand(y))

    @staticmethod
    def clip(x, a_min=None, a_max=None):
        return elementwise.clamp(x, min=a_min, max=a_max)

    @staticmethod
    def where(condition, x, y):
        return elementwise.where(_operand(condition), _operand(x), _operand(y))

    @staticmethod
    def multiply(x, y, out=None):
        _no_out("multiply", out)
        return _operand(x) * _operand(y)

    @staticmethod
    def add(x, y, out=None):
        _no_out("add", out)
        return _operand(x) + _operand(y)

    @staticmethod
    def subtract(x, y, out=None):
        _no_out("subtract", out)
        return _operand(x) - _operand(y)

    @staticmethod
    def isfinite(x):
        return F.isfinite(_operand(x))

    @staticmethod
    def isnan(x):
        return F.isnan(_operand(x))

    @staticmethod
    def logical_not(x):
        return F.logical_not(_operand(x))

    # ------------------------------------------------------------------ reductions

    @staticmethod
    def sum(x, axis=None, keepdims=False, dtype=None):
        x = _operand(x) if dtype is None else _operand(x).type(dtype)
        axes = _int_axes(axis, x.ndim)
        if axes == ():
            return x
        return reduction.sum(x, axis=axes, keepdims=keepdims)

    @staticmethod
    def mean(x, axis=None, keepdims=False):
        x = _operand(x)
        return reduction.mean(x, axis=_int_axes(axis, x.ndim), keepdims=keepdims)

    @staticmethod
    def max(x, axis=None, keepdims=False):
        x = _operand(x)
        return reduction.amax(x, axis=_int_axes(axis, x.ndim), keepdims=keepdims)

    amax = max

    @staticmethod
    def min(x, axis=None, keepdims=False):
        x = _operand(x)
        return reduction.amin(x, axis=_int_axes(axis, x.ndim), keepdims=keepdims)

    amin = min

    @staticmethod
    def argmax(x, axis=None, keepdims=False):
        return reduction.argmax(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def argmin(x, axis=None, keepdims=False):
        return reduction.argmin(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def any(x, axis=None, keepdims=False):
        return F.any(_operand(x), axis=axis, keepdims=keepdims)

    @staticmethod
    def all(x, axis=None, keepdims=False):
        return F.all(_operand(x), axis=axis, keepdims=keepdims)

    # ------------------------------------------------------------------ shapes

    @staticmethod
    def reshape(x, shape):
        return F.reshape(_operand(x), shape)

    @staticmethod
    def transpose(x, axes=None):
        x = _operand(x)
        axes = tuple(range(x.ndim - 1, -1, -1)) if axes is None else tuple(axes)
        return F.permute(x, axes)

    @staticmethod
    def swapaxes(x, axis1, axis2):
        return F.transpose(_operand(x), axis1, axis2)

    @staticmethod
    def moveaxis(x, source, destination):
        x = _operand(x)
        sources = [a % x.ndim for a in np.atleast_1d(source)]
        targets = [a % x.ndim for a in np.atleast_1d(destination)]
        order = [a for a in range(x.ndim) if a not in sources]
        for target, axis in sorted(zip(targets, sources, strict=True)):
            order.insert(target, axis)
        return F.permute(x, tuple(builtins.int(a) for a in order))

    @staticmethod
    def diagonal(x, offset=0, axis1=0, axis2=1):
        """The ``offset`` diagonal of the (axis1, axis2) planes, as the last axis."""
        planes = TensorNamespace.moveaxis(x, (axis1, axis2), (-2, -1))
        n = builtins.max(0, builtins.min(planes.shape[-2] - builtins.max(-offset, 0),
                                         planes.shape[-1] - builtins.max(offset, 0)))
        rows = np.arange(n) + builtins.max(-offset, 0)
        return planes[..., rows, rows + offset]

    @staticmethod
    def tril(x, k=0):
        x = _operand(x)
        return x * np.tril(np.ones(x.shape[-2:], dtype=bool), k)

    @staticmethod
    def triu(x, k=0):
        x = _operand(x)
        return x * np.triu(np.ones(x.shape[-2:], dtype=bool), k)

    @staticmethod
    def roll(x, shift, axis=None):
        x = _operand(x)
        if axis is None:
            return TensorNamespace.roll(x.reshape(-1), shift, 0).reshape(x.shape)
        for s, a in zip(np.atleast_1d(shift), np.atleast_1d(axis), strict=True):
            n = x.shape[a]
            s = builtins.int(s) % n if n else 0
            if s:
                head = (slice(None),) * (a % x.ndim)
                x = F.cat([x[head + (slice(n - s, None),)], x[head + (slice(0, n - s),)]], a)
        return x

    @staticmethod
    def take(x, indices, axis=None):
        x = _operand(x)
        if axis is None:
            return x.reshape(-1)[_data(indices)]
        return x[(slice(None),) * (axis % x.ndim) + (_data(indices),)]

    @staticmethod
    def eye(n, m=None, k=0, dtype=float):
        return _constant(np.eye(n, m, k, dtype=dtype))

    @staticmethod
    def expand_dims(x, axis):
        x = _operand(x)
        axes = (axis,) if isinstance(axis, (builtins.int, np.integer)) else tuple(axis)
        ndim = x.ndim + len(axes)
        axes = {builtins.int(a) % ndim for a in axes}
        sizes = iter(x.shape)
        return F.reshape(x, tuple(1 if d in axes else next(sizes) for d in range(ndim)))

    @staticmethod
    def squeeze(x, axis=None):
        return F.squeeze(_operand(x), axis)

    @staticmethod
    def broadcast_to(x, shape):
        return F.broadcast_to(_operand(x), tuple(shape))

    @staticmethod
    def flip(x, axis=None):
        x = _operand(x)
        axis = tuple(range(x.ndim)) if axis is None else axis
        return F.flip(x, axis)

    @staticmethod
    def concatenate(arrays, axis=0):
        return F.cat([_operand(a) for a in arrays], axis)

    @staticmethod
    def stack(arrays, axis=0):
        return F.stack([_operand(a) for a in arrays], axis)

    @staticmethod
    def take_along_axis(x, indices, axis):
        return shape_ops.gather(_operand(x), _operand(indices), axis=axis % x.ndim)

    @staticmethod
    def pad(x, pad_width, mode="constant", constant_values=0):
        modes = {"constant": "constant", "reflect": "reflect", "edge": "replicate",
                 "wrap": "circular"}
        x = _operand(x)
        widths = np.broadcast_to(np.asarray(pad_width), (x.ndim, 2))
        widths = tuple((builtins.int(a), builtins.int(b)) for a, b in widths)
        return shape_ops.pad(x, pad_width=widths, mode=modes[mode], value=constant_values)

    # ------------------------------------------------------------------ products

    @staticmethod
    def matmul(x, y, out=None):
        _no_out("matmul", out)
        return arithmetic.matmul(_operand(x), _operand(y))

    @staticmethod
    def dot(x, y):
        return arithmetic.matmul(_operand(x), _operand(y))


class _Accumulating:
    """A NumPy ufunc's call and its ``accumulate`` (``xp.logaddexp.accumulate``), as the
    tensor API's function and scan (``em.logaddexp``, ``em.logcumsumexp``)."""

    def __init__(self, function: str, scan: str) -> None:
        self.function, self.scan = function, scan

    def __call__(self, x, y):
        return getattr(F, self.function)(_operand(x), _operand(y))

    def accumulate(self, x, axis=0):
        return getattr(F, self.scan)(_operand(x), axis)


class _Linalg:
    """``xp.linalg``: the differentiable ``em.linalg`` functions under NumPy's names."""

    def __getattr__(self, name: str):
        import ember.linalg

        return getattr(ember.linalg, name)


def _scan(name: str):
    def scan(x, axis=None, dtype=None):
        x = _operand(x) if dtype is None else _operand(x).type(dtype)
        if axis is None:
            x, axis = x.reshape(-1), 0
        return getattr(F, name)(x, axis)

    scan.__name__ = name
    return staticmethod(scan)


# NumPy functions whose tensor counterparts are primitives of the tensor API (cumulative
# ops, einsum, linear algebra): looked up when a VJP calls them
class _Ufunc:
    """A binary ufunc as VJPs use it: a call (recorded), and ``at`` (``np.add.at``), an
    unbuffered write into an array, allowed on constants only (counts, masks)."""

    def __init__(self, call, ufunc) -> None:
        self.call, self.ufunc = call, ufunc

    def __call__(self, x, y, out=None):
        _no_out(self.ufunc.__name__, out)
        return self.call(x, y)

    def at(self, a, key, b=None) -> None:
        if any(isinstance(t, Tensor) and t.requires_grad for t in (a, b)):
            raise RuntimeError(f"tensors.{self.ufunc.__name__}.at writes in place, which "
                               "cannot be recorded: call a primitive (index_backward) instead")
        from ember.autograd.primitives import _static

        self.ufunc.at(_data(a), _static(key), *(() if b is None else (_data(b),)))


for _name, _ufunc in (("add", np.add), ("multiply", np.multiply), ("maximum", np.maximum),
                      ("minimum", np.minimum)):
    setattr(TensorNamespace, _name, _Ufunc(getattr(TensorNamespace, _name), _ufunc))
del _name, _ufunc

TensorNamespace.cumsum = _scan("cumsum")
TensorNamespace.cumprod = _scan("cumprod")
TensorNamespace.logaddexp = _Accumulating("logaddexp", "logcumsumexp")
TensorNamespace.linalg = _Linalg()
TensorNamespace.einsum = staticmethod(
    lambda subscripts, *operands, optimize=False: F.einsum(subscripts,
                                                           *[_operand(o) for o in operands]))
TensorNamespace.prod = staticmethod(
    lambda x, axis=None, keepdims=False: F.prod(_operand(x), axis, keepdims)
    if axis is not None else F.prod(_operand(x)))

tensors = TensorNamespace()


# ---------------------------------------------------------------------------- helpers


def _data(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _dtype(x):
    return x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype


def _constant(array: np.ndarray) -> Tensor:
    """A constant (leaf, no gradient) tensor around ``array``."""
    return Tensor._wrap(array)


def _operand(x):
    """Tensors and Python scalars as they are; arrays and NumPy scalars as constants."""
    if isinstance(x, (Tensor, builtins.bool, builtins.int, builtins.float)):
        return x
    if isinstance(x, (np.ndarray, np.generic)):
        return _constant(np.asarray(x))
    return x
