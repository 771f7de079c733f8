"""Tensor: an n-dimensional array that can record the ops applied to it, for backprop.

A tensor wraps an array (``.numpy()``), a flag ``requires_grad``, and, once
``backward()`` has run, its gradient ``.grad`` (a Tensor). Its operators and methods call
the primitives in :mod:`ember.ops` through the PyTorch-named functions of
:mod:`ember.functions`; nothing here computes a derivative.

>>> import ember as em
>>> x = em.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x * x).sum()          # y = sum x_i^2
>>> y.backward()               # dy/dx_i = 2 x_i
>>> x.grad
tensor([2., 4., 6.])
"""

from __future__ import annotations

import builtins
import copy

import numpy as np

from ember import devices, dtypes
from ember.autograd import engine
from ember.errors import ShapeError
from ember.size import Size


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    Create tensors with :func:`ember.tensor` and the creation functions (``zeros``,
    ``randn``, ...); ``Tensor(data)`` is the same as ``ember.tensor(data)``, and
    ``Tensor(2, 3)`` (sizes) an uninitialised float tensor, as ``torch.Tensor(2, 3)``.

    Attributes:
        grad: the accumulated gradient (a Tensor), or None before any backward().
        requires_grad: whether ops on this tensor are recorded for backward().
        grad_fn: the node that produced this tensor (None for leaves).
    """

    __slots__ = ("_data", "_grad", "_requires_grad", "_node", "_vc", "_hooks", "__weakref__")
    __array_ufunc__ = None  # NumPy defers `array + tensor` to Tensor.__radd__
    __hash__ = object.__hash__  # `==` is elementwise, so hash by identity, as PyTorch does

    def __init__(self, *data, dtype=None, requires_grad: bool = False, device=None) -> None:
        from ember.creation import _as_array
        from ember.tensor_types import is_sizes

        devices.check_device(device, "Tensor")
        if not data or is_sizes(data):  # Tensor(2, 3): sizes, as torch.Tensor
            size = tuple(data[0]) if len(data) == 1 and isinstance(data[0], tuple) else data
            size = size if data else (0,)
            data = (np.empty(size, dtypes.as_dtype(dtype) or dtypes.get_default_dtype()),)
        if len(data) != 1:
            raise TypeError(f"Tensor(): expected sizes (ints) or one sequence of data, got "
                            f"{len(data)} arguments")
        self._data = _as_array(data[0], dtype, copy=True)
        self._grad = None
        self._node = None
        self._vc = [0]
        self._hooks = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, data, requires_grad: bool = False) -> Tensor:
        """A leaf tensor around ``data`` without copying or checking it (internal)."""
        t = object.__new__(cls)
        t._data = data
        t._grad = None
        t._requires_grad = requires_grad
        t._node = None
        t._vc = [0]
        t._hooks = None
        return t

    # ------------------------------------------------------------------ basic attributes

    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient: a Tensor of this tensor's shape and dtype, or None."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad "
                                f"of type {type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"assigned grad has data of a different size: "
                                   f"{tuple(value._data.shape)}, but the tensor has "
                                   f"{tuple(self._data.shape)}")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(f"assigned grad has data of a different type: "
                                   f"{value._data.dtype}, but the tensor is {self._data.dtype}")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        flag = bool(flag)
        if self._node is not None and not flag:
            raise RuntimeError(
                "requires_grad: can only change the flag of leaf tensors; use detach() "
                "to get a tensor that does not require grad"
            )
        if flag and self._data.dtype.kind != "f":
            raise RuntimeError(
                f"requires_grad: only floating-point tensors can require gradients, "
                f"this one is {self._data.dtype}"
            )
        self._requires_grad = flag

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self (on leaf tensors)."""
        self.requires_grad = requires_grad
        return self

    @property
    def data(self) -> Tensor:
        """The same values as a tensor outside the graph (shares memory and version)."""
        return self.detach()

    @data.setter
    def data(self, value) -> None:
        value = value._data if isinstance(value, Tensor) else np.asarray(value)
        self._data = value
        self._vc[0] += 1

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def device(self) -> devices.device:
        """Where the values live: ``device(type='cpu')`` (ember computes on the CPU)."""
        return devices.CPU

    @property
    def is_cpu(self) -> bool:
        return True

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def grad_fn(self):
        return self._node

    @property
    def _version(self) -> int:
        return self._vc[0]

    @property
    def T(self) -> Tensor:
        """All dimensions reversed (the transpose of a matrix)."""
        return F.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:
        """The last two dimensions swapped (a batch of transposed matrices)."""
        return F.transpose(self, -2, -1)

    def size(self, dim: int | None = None):
        """The shape, or the length of dimension ``dim`` (as ``torch.Tensor.size``)."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[dim]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # ------------------------------------------------------------------ conversion

    def numpy(self) -> np.ndarray:
        """The underlying array (shared memory), for tensors that do not require grad."""
        if self._requires_grad:
            raise RuntimeError(
                "numpy(): this tensor requires grad; use tensor.detach().numpy()"
            )
        return self._data

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        data = self._data
        if dtype is not None and data.dtype != dtype:
            return data.astype(dtype)
        return data.copy() if copy else data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ShapeError(
                f"item(): only one-element tensors can be converted to a Python scalar, "
                f"this one has shape {self.shape}"
            )
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def __float__(self) -> float:
        return builtins.float(self.item())

    def __int__(self) -> int:
        return builtins.int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return builtins.int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of a tensor with {self._data.size} values is ambiguous; "
                "use .any() or .all()"
            )
        return builtins.bool(self._data)

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0 and spec:
            return format(self.item(), spec)
        return format(str(self), spec)

    def to(self, *args, **kwargs) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)`` or ``to(other_tensor)``:
        a converted tensor, or self when nothing changes (``copy=True`` always copies).

        The device must be one ember has (the CPU); another is a DeviceError.
        """
        _, dtype, copy = devices.parse_to(args, kwargs, "to")
        if dtype is not None and dtypes.as_dtype(dtype) != self.dtype:
            return self.type(dtype)
        return F.clone(self) if copy else self

    def cpu(self) -> Tensor:
        return self

    def cuda(self, device=None, non_blocking: bool = False) -> Tensor:
        """A copy on a CUDA GPU: ember has none, so this is a DeviceError."""
        devices.check_device("cuda" if device is None else device, "cuda")
        return self

    def pin_memory(self) -> Tensor:
        raise devices.DeviceError("pin_memory(): pinned memory needs an accelerator, and "
                                  "ember has none")

    def is_pinned(self) -> bool:
        return False

    def type(self, dtype=None, non_blocking: bool = False):
        """Without arguments, the tensor type's name (``'ember.FloatTensor'``); with a
        dtype, a legacy type (``em.LongTensor``) or its name, a converted tensor (or self).
        """
        from ember import tensor_types

        if dtype is None:
            return tensor_types.type_name(self.dtype)
        if isinstance(dtype, str):
            dtype = tensor_types.dtype_of_name(dtype)
        dtype = dtypes.as_dtype(dtype)
        if dtype == self.dtype:
            return self
        return F.astype(self, dtype)

    def astype(self, dtype) -> Tensor:
        """A copy converted to ``dtype`` (NumPy's spelling of ``type(dtype)``)."""
        return self.type(dtype)

    def float(self) -> Tensor:
        return self.type(dtypes.float32)

    def double(self) -> Tensor:
        return self.type(dtypes.float64)

    def half(self) -> Tensor:
        return self.type(dtypes.float16)

    def long(self) -> Tensor:
        return self.type(dtypes.int64)

    def int(self) -> Tensor:
        return self.type(dtypes.int32)

    def bool(self) -> Tensor:
        return self.type(dtypes.bool_)

    # ------------------------------------------------------------------ autograd

    def backward(self, gradient=None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs=None) -> None:
        """Accumulate the gradient of this tensor into the ``.grad`` of every leaf.

        Args:
            gradient: dL/d(self), required unless self has one element (then 1).
            retain_graph: keep the graph's saved values for another backward(); default
                ``create_graph``.
            create_graph: record the backward pass, so that the ``.grad`` it leaves can be
                differentiated again (higher-order derivatives; see ``em.autograd.grad``).
            inputs: accumulate only into these tensors' ``.grad``.
        """
        engine.backward(self, gradient, retain_graph, create_graph, inputs)

    def detach(self) -> Tensor:
        """The same values, cut from the graph (shares memory and the version counter)."""
        t = Tensor._wrap(self._data)
        t._vc = self._vc
        return t

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place, making it a leaf."""
        self._node = None
        self._requires_grad = False
        return self

    def retain_grad(self) -> None:
        """Keep the gradient of this non-leaf tensor in ``.grad`` after backward()."""
        if not self._requires_grad:
            raise RuntimeError("retain_grad(): the tensor does not require grad")
        if self._node is not None:
            self._node.retained = self

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a handle whose ``remove()`` unregisters it."""
        if not self._requires_grad:
            raise RuntimeError("register_hook(): the tensor does not require grad")
        owner = self._node if self._node is not None else self
        if owner is self:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            if owner.hooks is None:
                owner.hooks = []
            hooks = owner.hooks
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` once this leaf's ``.grad`` holds all of a backward pass's
        contributions (not in a pass that gives it no gradient), as PyTorch's;
        DistributedDataParallel starts a gradient reduction there. Returns a handle whose
        ``remove()`` unregisters it."""
        if self._node is not None:
            raise RuntimeError("register_post_accumulate_grad_hook(): post accumulate grad "
                               "hooks cannot be registered on non-leaf tensors")
        if not self._requires_grad:
            raise RuntimeError("register_post_accumulate_grad_hook(): the tensor does not "
                               "require grad")
        hooks = engine.post_accumulate_grad_hooks(self)
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def __deepcopy__(self, memo) -> Tensor:
        if self._node is not None:
            raise RuntimeError(
                "deepcopy: only leaf tensors can be deep-copied; detach() it first"
            )
        new = type(self).__new__(type(self))
        new._data = self._data.copy()
        new._grad = copy.deepcopy(self._grad, memo)
        new._requires_grad = self._requires_grad
        new._node = None
        new._vc = [0]
        new._hooks = None
        memo[id(self)] = new
        return new

    # ------------------------------------------------------------------ in place
    # add_, mul_, relu_, copy_, __setitem__, __iadd__, ...: see ember/inplace.py (installed
    # below), which records them for backward as PyTorch does.

    # ------------------------------------------------------------------ operators

    def __add__(self, other):
        return _ops.add(self, _operand(other))

    def __radd__(self, other):
        return _ops.add(_operand(other), self)

    def __sub__(self, other):
        return _ops.sub(self, _operand(other))

    def __rsub__(self, other):
        return _ops.sub(_operand(other), self)

    def __mul__(self, other):
        return _ops.mul(self, _operand(other))

    def __rmul__(self, other):
        return _ops.mul(_operand(other), self)

    def __truediv__(self, other):
        return _ops.div(self, _operand(other))

    def __rtruediv__(self, other):
        return _ops.div(_operand(other), self)

    def __pow__(self, exponent):
        return _ops.pow(self, _operand(exponent))

    def __rpow__(self, base):
        return _ops.pow(_operand(base), self)

    def __matmul__(self, other):
        return _ops.matmul(self, _operand(other))

    def __rmatmul__(self, other):
        return _ops.matmul(_operand(other), self)

    def __neg__(self):
        return _ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return F.abs(self)

    def __floordiv__(self, other):
        return F.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return F.floor_divide(other, self)

    def __mod__(self, other):
        return F.remainder(self, other)

    def __rmod__(self, other):
        return F.remainder(other, self)

    def __eq__(self, other):
        return F.eq(self, other)

    def __ne__(self, other):
        return F.ne(self, other)

    def __lt__(self, other):
        return F.lt(self, other)

    def __le__(self, other):
        return F.le(self, other)

    def __gt__(self, other):
        return F.gt(self, other)

    def __ge__(self, other):
        return F.ge(self, other)

    def __and__(self, other):
        return F.bitwise_and(self, _operand(other))

    def __rand__(self, other):
        return F.bitwise_and(_operand(other), self)

    def __or__(self, other):
        return F.bitwise_or(self, _operand(other))

    def __ror__(self, other):
        return F.bitwise_or(_operand(other), self)

    def __xor__(self, other):
        return F.bitwise_xor(self, _operand(other))

    def __rxor__(self, other):
        return F.bitwise_xor(_operand(other), self)

    def __invert__(self):
        if self._data.dtype.kind == "f":
            raise TypeError("~ (operator.invert) is only implemented on integer and bool "
                            f"tensors, not {self.dtype}")
        return F.bitwise_not(self)

    def __lshift__(self, other):
        return F.bitwise_left_shift(self, _operand(other))

    def __rlshift__(self, other):
        return F.bitwise_left_shift(_operand(other), self)

    def __rshift__(self, other):
        return F.bitwise_right_shift(self, _operand(other))

    def __rrshift__(self, other):
        return F.bitwise_right_shift(_operand(other), self)

    def __getitem__(self, key):
        return F.getitem(self, key)

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    # ------------------------------------------------------------------ representation

    def __repr__(self) -> str:
        return _format(self)

    __str__ = __repr__

    # ------------------------------------------------------------------ new tensors

    def new_zeros(self, *size, dtype=None, requires_grad=False, device=None) -> Tensor:
        from ember import creation

        return creation.zeros(*size, dtype=dtype or self.dtype, requires_grad=requires_grad,
                              device=device)

    def new_ones(self, *size, dtype=None, requires_grad=False, device=None) -> Tensor:
        from ember import creation

        return creation.ones(*size, dtype=dtype or self.dtype, requires_grad=requires_grad,
                             device=device)

    def new_full(self, size, fill_value, dtype=None, requires_grad=False,
                 device=None) -> Tensor:
        from ember import creation

        return creation.full(size, fill_value, dtype=dtype or self.dtype,
                             requires_grad=requires_grad, device=device)

    def new_empty(self, *size, dtype=None, requires_grad=False, device=None) -> Tensor:
        from ember import creation

        return creation.empty(*size, dtype=dtype or self.dtype, requires_grad=requires_grad,
                              device=device)

    def new_tensor(self, data, dtype=None, requires_grad=False, device=None) -> Tensor:
        from ember import creation

        return creation.tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad,
                               device=device)


class _HookHandle:
    def __init__(self, hooks: list, hook) -> None:
        self.hooks, self.hook = hooks, hook

    def remove(self) -> None:
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


def _operand(x):
    """A second operand as the primitives take it: a Tensor, Python scalar or array."""
    if isinstance(x, (Tensor, builtins.int, builtins.float, np.ndarray, np.generic)):
        return x
    if isinstance(x, (list, tuple)):
        from ember.creation import _as_array

        return _as_array(x, None)
    raise TypeError(f"unsupported operand type {type(x).__name__} for a tensor op")


def _format(t: Tensor) -> str:
    data = t._data
    prefix = "tensor("
    if data.dtype.kind == "f":
        finite = data[np.isfinite(data)]
        integral = finite.size == 0 or builtins.bool(np.all(finite == np.round(finite)))
        body = np.array2string(
            data, separator=", ", prefix=prefix, threshold=1000, edgeitems=3,
            precision=4, floatmode="maxprec" if integral else "fixed",
            suppress_small=True,
        )
    else:
        body = np.array2string(data, separator=", ", prefix=prefix, threshold=1000,
                               edgeitems=3)
    extras = []
    if data.dtype not in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool_):
        extras.append(f"dtype={data.dtype}")
    if t._node is not None:
        extras.append(f"grad_fn=<{t._node.name}>")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    return prefix + body + "".join(", " + e for e in extras) + ")"


# Operators and methods call the functions module, which imports this one: bind late.
from ember import functions as F  # noqa: E402
from ember.ops import arithmetic as _ops  # noqa: E402

# Methods that are the function of the same name with the tensor first: `x.exp()` is
# `em.exp(x)`, `x.sum(dim=1)` is `em.sum(x, dim=1)` (PyTorch generates them the same way).
_FUNCTION_METHODS = (
    "add", "sub", "mul", "div", "true_divide", "pow", "neg", "matmul", "mm", "dot",
    "exp", "log", "log1p", "sqrt", "rsqrt", "abs", "sign", "sin", "cos", "square",
    "floor", "ceil", "round", "clamp", "clip", "sigmoid", "tanh", "relu", "erf", "erfc",
    "maximum", "minimum", "masked_fill",
    "sum", "mean", "var", "std", "max", "min", "amax", "amin", "argmax", "argmin",
    "logsumexp", "softmax", "log_softmax", "all", "any", "isnan", "isinf", "isfinite",
    "eq", "ne", "lt", "le", "gt", "ge",
    "reshape", "view", "flatten", "transpose", "t", "permute", "squeeze", "unsqueeze",
    "expand", "broadcast_to", "split", "chunk", "flip", "gather", "clone",
    "contiguous", "repeat", "view_as", "reshape_as", "expand_as", "unbind",
)
for _name in _FUNCTION_METHODS:
    _function = getattr(F, _name)
    setattr(Tensor, _name, getattr(_function, "without_out", _function))  # methods take no out=
del _name, _function

# The wider tensor API (ember.tensor_functions and ember.linalg) as methods, likewise.
from ember.tensor_functions import shapes as _shapes  # noqa: E402

_MORE_FUNCTION_METHODS = (
    "tan", "asin", "acos", "atan", "atan2", "arcsin", "arccos", "arctan", "arctan2",
    "sinh", "cosh", "asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh", "hypot",
    "log2", "log10", "exp2", "expm1", "logaddexp", "logaddexp2", "trunc", "fix", "frac",
    "fmod", "remainder", "copysign", "lerp", "isneginf", "isposinf", "signbit", "isreal",
    "nan_to_num", "reciprocal", "deg2rad", "rad2deg", "sinc", "logit", "xlogy",
    "float_power", "sgn", "fmax", "fmin", "positive", "clamp_min", "clamp_max", "addcmul",
    "addcdiv", "ldexp", "heaviside", "isin", "isclose", "allclose", "equal",
    "prod", "std_mean", "var_mean", "nansum", "nanmean", "count_nonzero", "aminmax",
    "cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "diff",
    "sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode", "unique",
    "unique_consecutive", "bincount", "histc",
    "gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add",
    "index_copy", "index_fill", "index_put", "put", "masked_select", "masked_fill",
    "masked_scatter", "take", "take_along_dim", "argwhere", "nonzero", "select",
    "dot", "vdot", "inner", "outer", "ger", "mv", "bmm", "baddbmm", "addmm", "addmv",
    "addbmm", "addr", "tensordot", "kron", "trace", "cross", "dist", "norm", "det",
    "logdet", "slogdet", "inverse", "pinverse", "matrix_power", "cholesky", "svd", "qr",
    "tril", "triu", "diag", "diag_embed", "diagonal", "diagflat", "roll", "rot90",
    "fliplr", "flipud", "repeat_interleave", "unflatten", "narrow", "movedim", "moveaxis",
    "swapdims", "swapaxes", "tile", "tensor_split", "hsplit", "vsplit", "dsplit", "ravel",
    "view",
)
for _name in _MORE_FUNCTION_METHODS:
    _function = getattr(F, _name)
    setattr(Tensor, _name, getattr(_function, "without_out", _function))
del _name, _function
Tensor.unfold = _shapes.unfold  # Tensor.unfold(dimension, size, step): sliding windows


def _is_contiguous(self, memory_format=None) -> bool:
    """Whether the elements lie in memory in row-major order without gaps (as PyTorch's
    ``is_contiguous``; ``view`` needs it, ``contiguous()`` makes it so)."""
    return builtins.bool(self._data.flags.c_contiguous)


Tensor.is_contiguous = _is_contiguous


def _where(self, condition, other) -> Tensor:
    """``x.where(condition, y)``: x where condition holds, else y (PyTorch's order)."""
    return F.where(condition, self, other)


Tensor.where = _where

# PyTorch's methods added for issue 13 (the same rule: the function, tensor first)
_API_METHODS = (
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
    "bitwise_right_shift", "logical_and", "logical_or", "logical_xor", "logical_not",
    "floor_divide",
)
for _name in _API_METHODS:
    _function = getattr(F, _name)
    setattr(Tensor, _name, getattr(_function, "without_out", _function))
del _name, _function

# the in-place methods and operators (x.add_(y), x[i] = v, x += y), recorded for backward
from ember import inplace as _inplace  # noqa: E402

_inplace.install()
