"""``out=``: the functions that PyTorch lets write their result into an existing tensor.

``em.add(a, b, out=c)`` computes ``a + b`` and writes it into ``c``'s memory, as
``torch.add(a, b, out=c)`` does, with PyTorch's rules:

* ``out`` keeps its dtype; the result must be castable to it (no float into an integer
  tensor, no number into a bool one), otherwise a DtypeError (a RuntimeError);
* an ``out`` of the wrong shape is resized, with a warning unless it was empty;
* results are not recorded for backward: with gradients recorded, an argument that
  requires grad is a RuntimeError;
* functions with several results (``max(x, dim)``) take a tuple of tensors.

>>> import ember as em
>>> c = em.empty(2)
>>> em.add(em.tensor([1.0, 2.0]), 1.5, out=c)
tensor([2.5000, 3.5000])
>>> c
tensor([2.5000, 3.5000])

Tensor methods do not take ``out=`` (as in PyTorch).
"""

from __future__ import annotations

import builtins
import functools
import warnings

import numpy as np

from ember.autograd import engine
from ember.errors import DtypeError
from ember.tensor import Tensor

# PyTorch's functions that take out=; those ember has get it (the rest as they arrive)
FUNCTIONS = (
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide",
    "floor_divide", "remainder", "fmod", "pow", "neg", "negative", "abs", "exp", "exp2",
    "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt", "square", "reciprocal", "sin",
    "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh",
    "atanh", "sigmoid", "erf", "erfc", "sign", "floor", "ceil", "round", "trunc", "frac",
    "clamp", "clip", "clamp_min", "clamp_max", "maximum", "minimum", "fmax", "fmin", "lerp",
    "copysign", "hypot", "logaddexp", "nan_to_num", "matmul", "mm", "bmm", "mv", "dot",
    "addmm", "baddbmm", "addbmm", "outer", "sum", "mean", "prod", "std", "var", "amax", "amin",
    "max", "min", "argmax", "argmin", "logsumexp", "all", "any", "norm", "cumsum", "cumprod",
    "cummax", "cummin", "logcumsumexp", "sort", "topk", "kthvalue", "median", "mode",
    "eq", "ne", "lt", "le", "gt", "ge", "greater", "less", "greater_equal", "less_equal",
    "not_equal", "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and",
    "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift",
    "cat", "concat", "concatenate", "stack", "where", "gather", "index_select",
    "masked_select", "take_along_dim", "nonzero", "tril", "triu", "diag",
)


def add_out_keyword(namespace: dict) -> None:
    """Give every function of :data:`FUNCTIONS` in ``namespace`` an ``out=`` keyword."""
    for name in FUNCTIONS:
        function = namespace.get(name)
        if function is not None and not hasattr(function, "without_out"):
            namespace[name] = with_out(function, name)


def with_out(function, name: str):
    """``function`` with an ``out=`` keyword (``function.without_out`` is the original)."""

    @functools.wraps(function)
    def call(*args, out=None, **kwargs):
        if out is None:
            return function(*args, **kwargs)
        if engine._mode.enabled and _any_requires_grad(args, kwargs, out):
            raise RuntimeError(
                f"{name}(): functions with out=... arguments don't support automatic "
                "differentiation, but one of the arguments requires grad")
        result = function(*args, **kwargs)
        if isinstance(result, tuple):
            if not isinstance(out, (tuple, list)) or len(out) != len(result):
                raise TypeError(f"{name}(): out= must be a tuple of {len(result)} tensors")
            for target, value in zip(out, result, strict=True):
                write_out(name, target, value)
            return type(result)(*out) if hasattr(result, "_fields") else tuple(out)
        return write_out(name, out, result)

    call.without_out = function
    return call


def _any_requires_grad(args, kwargs, out) -> bool:
    def requires(x) -> bool:
        if isinstance(x, Tensor):
            return x._requires_grad
        if isinstance(x, (list, tuple)):
            return builtins.any(requires(item) for item in x)
        return False

    return requires(args) or requires(tuple(kwargs.values())) or requires(out)


def write_out(name: str, out, result) -> Tensor:
    """Write ``result`` into ``out`` (resized if its shape differs), keeping out's dtype."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): out= must be a Tensor, got {type(out).__name__}")
    values = result._data if isinstance(result, Tensor) else np.asarray(result)
    order = {"b": 0, "u": 1, "i": 1, "f": 2}
    if order[values.dtype.kind] > order[out.dtype.kind]:
        raise DtypeError(f"{name}(): result type {values.dtype} can't be cast to the desired "
                         f"output type {out.dtype}")
    if values.shape != out._data.shape or not isinstance(out._data, np.ndarray):
        if out._data.size != 0 and values.shape != out._data.shape:
            warnings.warn(
                f"{name}(): an output with one or more elements was resized since it had "
                f"shape {tuple(out._data.shape)}, which does not match the required output "
                f"shape {tuple(values.shape)}", UserWarning, stacklevel=3)
        out._data = np.empty(values.shape, out.dtype)
    np.copyto(out._data, values, casting="unsafe")
    out._vc[0] += 1
    return out
