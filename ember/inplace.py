"""In-place ops: ``x.relu_()``, ``x.add_(y)``, ``x[i] = v``, ``x += y``, ... as in PyTorch,
recorded for backward when gradients are.

Each in-place op is its out-of-place op whose values are written back into the tensor's
own memory (so its views see them) with its version counter bumped. Two ways:

* **nothing to record** (inside ``no_grad()``, or no tensor involved requires grad): the
  values are computed and written straight into the array, as optimisers and
  initialisers need;
* **recording**: ``x.op_(...)`` computes ``y = op(x.clone(), ...)`` in the graph, writes
  ``y``'s values into ``x`` and makes ``y``'s node ``x``'s ``grad_fn``. The clone keeps
  the values ``op``'s gradient may need, so the result is the gradient PyTorch gives::

      >>> import ember as em
      >>> w = em.tensor([-1.0, 2.0], requires_grad=True)
      >>> h = w * 3
      >>> h.relu_()
      tensor([0., 6.], grad_fn=<ReluBackward0>)
      >>> h.sum().backward()
      >>> w.grad
      tensor([0., 3.])

As in PyTorch, a leaf that requires grad cannot be changed in place while gradients are
recorded (an optimiser's update runs inside ``no_grad()``), and a gradient that needs a
value changed in place since it was saved raises a RuntimeError at ``backward()``.
ember does not rewrite the graph of the tensor a *view* was taken from (PyTorch's
``CopySlices``): changing a view of a recorded tensor in place while recording is a
RuntimeError that says to ``clone()`` first.
"""

from __future__ import annotations

import builtins

import numpy as np

from ember import dtypes, random
from ember import functions as F
from ember.autograd import engine
from ember.errors import DtypeError, ShapeError
from ember.ops import indexing as index_ops
from ember.tensor import Tensor
from ember.tensor_functions.indexing import split_key

# ----------------------------------------------------------------------------- the mechanism


def _recording(self: Tensor, operands) -> bool:
    if not engine._mode.enabled:
        return False
    return self._requires_grad or builtins.any(
        isinstance(o, Tensor) and o._requires_grad for o in operands)


def apply(self: Tensor, name: str, compute, operands=()) -> Tensor:
    """Write ``compute(self)`` (an out-of-place op of ``self`` and ``operands``) into
    ``self`` in place; record it for backward when gradients are recorded. Returns self."""
    if not _recording(self, operands):
        with engine.no_grad():
            result = compute(self)
        return write(self, name, result._data if isinstance(result, Tensor) else result)
    if self._node is None and self._requires_grad:
        raise RuntimeError(
            f"{name}: a leaf tensor that requires grad cannot be changed in place while "
            "gradients are recorded; do it inside em.no_grad(), as optimisers do")
    if (self._node is not None and getattr(self._node.op, "view", False)) or (
            self._node is None and self._data.base is not None):
        raise RuntimeError(
            f"{name}: this tensor is a view of another tensor, and changing a view in place "
            "is not recorded for backward in ember; clone() it first (y = x.clone())")
    result = compute(F.clone(_alias(self)))
    _check_result(self, name, result._data)
    if result.dtype != self.dtype:
        result = result.type(self.dtype)
    write(self, name, result._data)
    self._node, self._requires_grad = result._node, result._requires_grad
    return self


def _alias(self: Tensor) -> Tensor:
    """Another tensor object for self as it is now (its values, node and version counter):
    the graph refers to the tensor objects an op read, and self is about to change."""
    alias = Tensor._wrap(self._data, self._requires_grad)
    alias._node, alias._vc = self._node, self._vc
    return alias


def _writable(self: Tensor) -> np.ndarray:
    """Self's array; a 0-d result held as a NumPy scalar (immutable) becomes a 0-d array."""
    if isinstance(self._data, np.generic):
        self._data = np.array(self._data)
    return self._data


def write(self: Tensor, name: str, values) -> Tensor:
    """Copy ``values`` (broadcast to this shape, cast within its kind) into self's array."""
    _writable(self)
    if isinstance(values, np.ndarray):
        _check_result(self, name, values)
    try:
        np.copyto(self._data, values, casting="unsafe")
    except ValueError as error:
        if not self._data.flags.writeable:
            raise RuntimeError(f"{name}: this tensor is a read-only view (from expand or "
                               "broadcast_to); clone() it before changing it in place") from None
        raise ShapeError(f"{name}: {error}") from None
    self._vc[0] += 1
    return self


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    """Whether an array of ``shape`` broadcasts to ``target`` (without growing it)."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def _check_result(self: Tensor, name: str, values: np.ndarray) -> None:
    """The result must fit self: the same shape (or broadcast to it), a castable dtype."""
    if not _broadcasts_to(values.shape, self._data.shape):
        raise ShapeError(f"{name}: the result of shape {tuple(values.shape)} does not fit "
                         f"the tensor of shape {tuple(self._data.shape)} it is written into")
    if not _can_cast(values.dtype, self._data.dtype):
        raise DtypeError(f"{name}: result type {values.dtype} can't be cast to the desired "
                         f"output type {self._data.dtype}")


def _can_cast(source: np.dtype, target: np.dtype) -> bool:
    """PyTorch's rule for writing a result into an existing tensor: never a float into an
    integer tensor, nor a number into a bool tensor."""
    order = {"b": 0, "u": 1, "i": 1, "f": 2}
    return order[source.kind] <= order[target.kind]


def _inplace(name: str, function):
    """The method ``name_`` of the out-of-place ``function(self, *args, **kwargs)``."""

    def method(self, *args, **kwargs):
        return apply(self, name + "_", lambda s: function(s, *args, **kwargs),
                     args + tuple(kwargs.values()))

    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = (f"In place: ``self = {name}(self, ...)``, written into self's memory "
                      "(recorded for backward when gradients are).")
    return method


# ----------------------------------------------------------------------------- setitem


def setitem(self: Tensor, key, value) -> None:
    """``self[key] = value`` in PyTorch's index order (``x[basic][advanced]``, see
    :func:`ember.tensor_functions.indexing.split_key`), recorded when gradients are.

    Recorded, the write is one ``index_put`` on the flat positions ``key`` selects, so
    the value's gradient is the output gradient read back at those places, and self's old
    values there get none.
    """
    basic, advanced = split_key(key, self.ndim)
    if not _recording(self, (value,)):
        array = _writable(self)
        value = value._data if isinstance(value, Tensor) else value
        try:
            if advanced is None:
                array[basic] = value
            else:
                array[basic][advanced] = value
        except ValueError as error:
            if not array.flags.writeable:
                raise RuntimeError("__setitem__: this tensor is a read-only view (from expand "
                                   "or broadcast_to); clone() it first") from None
            raise ShapeError(f"__setitem__: {error}") from None
        self._vc[0] += 1
        return
    if isinstance(value, Tensor) and value.dtype != self.dtype:
        value = value.type(self.dtype)
    if advanced is None:
        apply(self, "__setitem__", lambda s: index_ops.index_put(s, value, key=basic), (value,))
        return
    # PyTorch's order as flat positions: which elements x[basic][advanced] is
    positions = np.arange(self._data.size).reshape(self._data.shape)[basic][advanced]
    if isinstance(value, Tensor):
        value = F.reshape(F.broadcast_to(value, positions.shape), -1)

    def write(s):
        flat = index_ops.index_put(F.reshape(s, -1), value, key=(positions.reshape(-1),))
        return F.reshape(flat, self._data.shape)

    apply(self, "__setitem__", write, (value,))


# ----------------------------------------------------------------------------- arithmetic


def add_(self, other, *, alpha=1) -> Tensor:
    """self += alpha * other, in place."""
    if not _recording(self, (other,)):
        return _binary_ufunc(self, "add_", np.add, other, alpha)
    return apply(self, "add_", lambda s: F.add(s, other, alpha=alpha), (other,))


def sub_(self, other, *, alpha=1) -> Tensor:
    """self -= alpha * other, in place."""
    if not _recording(self, (other,)):
        return _binary_ufunc(self, "sub_", np.subtract, other, alpha)
    return apply(self, "sub_", lambda s: F.sub(s, other, alpha=alpha), (other,))


def mul_(self, other) -> Tensor:
    """self *= other, in place."""
    if not _recording(self, (other,)):
        return _binary_ufunc(self, "mul_", np.multiply, other)
    return apply(self, "mul_", lambda s: F.mul(s, other), (other,))


def div_(self, other, *, rounding_mode=None) -> Tensor:
    """self /= other, in place (rounded as ``div``'s ``rounding_mode`` says)."""
    if rounding_mode is None and not _recording(self, (other,)):
        return _binary_ufunc(self, "div_", np.true_divide, other)
    return apply(self, "div_", lambda s: F.div(s, other, rounding_mode=rounding_mode),
                 (other,))


def _binary_ufunc(self, name, ufunc, other, alpha=1) -> Tensor:
    """The fast path outside the graph: the ufunc writes into self's array directly."""
    _writable(self)
    other = other._data if isinstance(other, Tensor) else other
    if alpha != 1:
        other = other * alpha
    result = dtypes.result_type(self._data, other)
    if ufunc is np.true_divide and result.kind != "f":
        result = dtypes.get_default_dtype()
    if not _can_cast(result, self._data.dtype):
        raise DtypeError(f"{name}: result type {result} can't be cast to the desired output "
                         f"type {self._data.dtype}")
    try:
        ufunc(self._data, other, out=self._data, casting="unsafe")
    except ValueError as error:
        if not self._data.flags.writeable:
            raise RuntimeError(f"{name}: this tensor is a read-only view (from expand or "
                               "broadcast_to); clone() it before changing it in place") from None
        raise ShapeError(f"{name}: {error} (shapes {tuple(self._data.shape)} and "
                         f"{tuple(np.shape(other))})") from None
    self._vc[0] += 1
    return self


def addcmul_(self, tensor1, tensor2, *, value=1) -> Tensor:
    """self += value * tensor1 * tensor2, in place."""
    return apply(self, "addcmul_", lambda s: s + value * tensor1 * tensor2, (tensor1, tensor2))


def addcdiv_(self, tensor1, tensor2, *, value=1) -> Tensor:
    """self += value * tensor1 / tensor2, in place."""
    return apply(self, "addcdiv_", lambda s: s + value * tensor1 / tensor2, (tensor1, tensor2))


def fill_(self, value) -> Tensor:
    """Fill with ``value``, in place (a 0-d tensor value is recorded for backward)."""
    if not _recording(self, (value,)):
        return write(self, "fill_", value._data if isinstance(value, Tensor) else value)
    return apply(self, "fill_", lambda s: F.where(True, value, s), (value,))


def zero_(self) -> Tensor:
    """Fill with zeros, in place."""
    return fill_(self, 0)


def copy_(self, src, non_blocking: bool = False) -> Tensor:
    """Copy ``src`` (broadcast to this shape, converted to this dtype) into self."""
    if not _recording(self, (src,)):
        _writable(self)
        values = src._data if isinstance(src, Tensor) else np.asarray(src)
        if not _broadcasts_to(values.shape, self._data.shape):
            raise ShapeError(f"copy_: cannot copy a tensor of shape {tuple(values.shape)} "
                             f"into one of shape {tuple(self._data.shape)}")
        np.copyto(self._data, values, casting="unsafe")
        self._vc[0] += 1
        return self
    source = src if src.dtype == self.dtype else src.type(self.dtype)
    return apply(self, "copy_", lambda s: F.where(True, source, s), (src,))


def clamp_(self, min=None, max=None) -> Tensor:
    """Clamp to [min, max], in place."""
    return apply(self, "clamp_", lambda s: F.clamp(s, min, max), (min, max))


def clamp_min_(self, min) -> Tensor:
    """max(self, min), in place."""
    return apply(self, "clamp_min_", lambda s: F.clamp(s, min=min), (min,))


def clamp_max_(self, max) -> Tensor:
    """min(self, max), in place."""
    return apply(self, "clamp_max_", lambda s: F.clamp(s, max=max), (max,))


def masked_fill_(self, mask, value) -> Tensor:
    """``value`` wherever ``mask`` is True, in place."""
    return apply(self, "masked_fill_", lambda s: F.masked_fill(s, mask, value), (value,))


# ----------------------------------------------------------------------------- random fills


def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with samples of U(a, b) from the global generator, in place."""
    values = random.generator().uniform(a, b, self.shape)
    return apply(self, "uniform_", lambda s: F.where(True, values, s))


def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with samples of N(mean, std^2) from the global generator, in place."""
    values = random.generator().normal(mean, std, self.shape)
    return apply(self, "normal_", lambda s: F.where(True, values, s))


def bernoulli_(self, p=0.5) -> Tensor:
    """Fill with 1 with probability ``p`` (a number or a tensor), else 0, in place."""
    probabilities = p._data if isinstance(p, Tensor) else p
    values = random.generator().random(self.shape) < probabilities
    return apply(self, "bernoulli_", lambda s: F.where(True, values, s))


# ----------------------------------------------------------------------------- shape in place


def _reshape_inplace(name: str, function):
    """``unsqueeze_``, ``t_``, ...: self becomes the view ``function(self)`` (a new shape
    over the same memory; recorded for backward when self is)."""

    def method(self, *args):
        view = function(self, *args)
        self._data = view._data
        if view._node is not None:
            self._node = view._node
        return self

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In place: self takes the shape of ``{name[:-1]}(self, ...)``."
    return method


unsqueeze_ = _reshape_inplace("unsqueeze_", F.unsqueeze)
squeeze_ = _reshape_inplace("squeeze_", F.squeeze)
t_ = _reshape_inplace("t_", F.t)
transpose_ = _reshape_inplace("transpose_", F.transpose)


# ----------------------------------------------------------------------------- the table

# in-place methods made from the function of the same name, where ember has that function
# (index_add, scatter, lerp, ... join as soon as they exist)
GENERIC = (
    "neg", "abs", "exp", "log", "log1p", "sqrt", "rsqrt", "sin", "cos", "tan", "tanh",
    "sigmoid", "relu", "sign", "floor", "ceil", "round", "trunc", "frac", "square", "erf",
    "erfc", "pow", "remainder", "fmod", "floor_divide", "true_divide", "clip",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
    "bitwise_right_shift", "logical_and", "logical_or", "logical_xor", "logical_not",
    "reciprocal", "exp2", "log2", "log10", "asin", "acos", "atan", "sinh", "cosh", "asinh",
    "acosh", "atanh", "atan2", "lerp", "copysign", "hypot", "nan_to_num", "cumsum", "cumprod",
    "tril", "triu", "index_add", "index_copy", "index_fill", "scatter", "scatter_add",
    "scatter_reduce", "masked_scatter", "put", "index_put",
)

METHODS = {name + "_": _inplace(name, getattr(F, name)) for name in GENERIC if hasattr(F, name)}
METHODS.update({f.__name__: f for f in (
    add_, sub_, mul_, div_, addcmul_, addcdiv_, fill_, zero_, copy_, clamp_, clamp_min_,
    clamp_max_, masked_fill_, uniform_, normal_, bernoulli_, unsqueeze_, squeeze_, t_,
    transpose_)})
METHODS["clip_"] = clamp_
METHODS["__setitem__"] = setitem

# x op= y is the in-place method, as in PyTorch (a leaf that requires grad refuses it)
OPERATORS = {
    "__iadd__": "add_", "__isub__": "sub_", "__imul__": "mul_", "__itruediv__": "div_",
    "__ifloordiv__": "floor_divide_", "__imod__": "remainder_", "__ipow__": "pow_",
    "__iand__": "bitwise_and_", "__ior__": "bitwise_or_", "__ixor__": "bitwise_xor_",
    "__ilshift__": "bitwise_left_shift_", "__irshift__": "bitwise_right_shift_",
}


def install() -> None:
    """Give Tensor the in-place methods and operators (called once, when ember loads)."""
    for name, method in METHODS.items():
        setattr(Tensor, name, method)
    for operator, name in OPERATORS.items():
        setattr(Tensor, operator, METHODS[name])


# ----------------------------------------------------------------------------- functions


def _function(name: str):
    """PyTorch's module-level form of an in-place method: ``em.relu_(x)`` is ``x.relu_()``."""

    def function(input, *args, **kwargs):
        return METHODS[name](input, *args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``input.{name}(...)``: in place, returns input."
    return function


FUNCTIONS = ("relu_", "sigmoid_", "tanh_", "exp_", "log_", "sqrt_", "abs_", "neg_", "clamp_",
             "clip_", "fill_", "zero_", "square_", "sin_", "cos_", "floor_", "ceil_", "round_",
             "erf_", "erfc_", "rsqrt_", "log1p_", "clamp_min_", "clamp_max_")
__all__ = [name for name in FUNCTIONS if name in METHODS]
globals().update({name: _function(name) for name in __all__})


def functional_inplace(function, name: str):
    """``F.elu_(x, alpha)``: the activation ``function`` written into x, in place."""

    def inplace(input, *args, **kwargs):
        return apply(input, name, lambda s: function(s, *args, **kwargs), args)

    inplace.__name__ = inplace.__qualname__ = name
    inplace.__doc__ = f"``{name[:-1]}`` in place: the result is written into input."
    return inplace
