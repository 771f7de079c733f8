"""Elementwise mathematics under PyTorch's names: trigonometry, logarithms and
exponentials, rounding and remainders, interpolation, and the NaN/inf tests.

The functions that are one NumPy ufunc are primitives (:mod:`ember.ops.trigonometric`,
:mod:`ember.ops.exponential`, :mod:`ember.ops.rounding`); the rest are composed here from
primitives, so their gradients need no code (``frac = x - trunc(x)``: d/dx = 1).

>>> import ember as em
>>> em.atan2(em.tensor([1.0]), em.tensor([-1.0]))
tensor([2.3562])
"""

from __future__ import annotations

import math

import numpy as np

from ember import dtypes
from ember.functions import _t
from ember.ops import (
    arithmetic,
    compare,
    elementwise,
    exponential,
    information,
    rounding,
    trigonometric,
)
from ember.tensor import Tensor

__all__ = [
    "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "asinh", "acosh", "atanh",
    "arcsin", "arccos", "arctan", "arctan2", "arcsinh", "arccosh", "arctanh", "hypot",
    "log2", "log10", "exp2", "expm1", "logaddexp", "logaddexp2", "trunc", "fix", "frac",
    "fmod", "remainder", "copysign", "lerp", "isneginf", "isposinf", "signbit", "isreal",
    "nan_to_num", "reciprocal", "deg2rad", "rad2deg", "sinc", "logit", "xlogy",
    "float_power", "sgn", "fmax", "fmin", "positive", "clamp_min", "clamp_max", "addcmul",
    "addcdiv", "ldexp", "heaviside", "isin",
]

tan, atan2, hypot = trigonometric.tan, trigonometric.atan2, trigonometric.hypot
asin, acos, atan = trigonometric.asin, trigonometric.acos, trigonometric.atan
sinh, cosh = trigonometric.sinh, trigonometric.cosh
asinh, acosh, atanh = trigonometric.asinh, trigonometric.acosh, trigonometric.atanh
arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2  # NumPy's names, also PyTorch's
arcsinh, arccosh, arctanh = asinh, acosh, atanh
log2, log10, exp2, expm1 = (exponential.log2, exponential.log10, exponential.exp2,
                            exponential.expm1)
logaddexp, logaddexp2 = exponential.logaddexp, exponential.logaddexp2
xlogy = information.xlogy  # (em.special.xlogy's primitive)
trunc = fix = rounding.trunc
fmod, remainder, copysign = rounding.fmod, rounding.remainder, rounding.copysign


def frac(input) -> Tensor:
    """The fractional part x - trunc(x), with the sign of x;  d/dx = 1."""
    x = _t(input)
    return x - trunc(x)


def lerp(input, end, weight) -> Tensor:
    """Linear interpolation input + weight (end - input) (``weight`` a number or a tensor);
    d/d input = 1 - weight, d/d end = weight, d/d weight = end - input.

    >>> import ember as em
    >>> em.lerp(em.tensor([0.0, 10.0]), em.tensor([10.0, 20.0]), 0.25)
    tensor([ 2.5000, 12.5000])
    """
    return input + weight * (end - input)


def isneginf(input) -> Tensor:
    """True where input is -inf."""
    x = _t(input)
    return compare.isinf(x) & (x < 0)


def isposinf(input) -> Tensor:
    """True where input is +inf."""
    x = _t(input)
    return compare.isinf(x) & (x > 0)


def signbit(input) -> Tensor:
    """True where the sign bit is set (negative numbers, -0.0 and -NaN)."""
    x = _t(input)
    return Tensor._wrap(np.signbit(x._data))


def isreal(input) -> Tensor:
    """True everywhere (ember's dtypes are real)."""
    return Tensor._wrap(np.ones(_t(input).shape, dtype=bool))


def nan_to_num(input, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (by default 0 and
    the dtype's largest and lowest finite values); the gradient is 0 at replaced places.

    >>> import ember as em
    >>> em.nan_to_num(em.tensor([float("nan"), float("inf"), 1.0]), posinf=9.0)
    tensor([0., 9., 1.])
    """
    x = _t(input)
    if x.dtype.kind != "f":
        return x.clone()
    info = np.finfo(x.dtype)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    fill = np.where(np.isnan(x._data), nan, np.where(x._data > 0, posinf, neginf))
    return elementwise.where(compare.isfinite(x), x, fill.astype(x.dtype))


def reciprocal(input) -> Tensor:
    """1 / x (integers give floats);  d/dx = -1/x^2."""
    return arithmetic.div(1.0, input)


def deg2rad(input) -> Tensor:
    """Degrees to radians: x pi / 180."""
    return input * (math.pi / 180.0)


def rad2deg(input) -> Tensor:
    """Radians to degrees: x 180 / pi."""
    return input * (180.0 / math.pi)


def sinc(input) -> Tensor:
    """The normalised sinc, sin(pi x) / (pi x), and 1 at x = 0 (where its derivative,
    also the limit, is 0)."""
    x = _t(input)
    zero = x == 0
    safe = elementwise.where(zero, 1.0, x) * math.pi
    return elementwise.where(zero, 1.0, elementwise.sin(safe) / safe)


def logit(input, eps: float | None = None) -> Tensor:
    """log(p / (1 - p)), the inverse of the sigmoid; with ``eps``, p is first clamped to
    [eps, 1 - eps] (and the gradient is 0 outside)."""
    x = _t(input)
    if eps is not None:
        x = elementwise.clamp(x, min=eps, max=1 - eps)
    return elementwise.log(x / (1 - x))


def float_power(input, exponent) -> Tensor:
    """input ** exponent computed in float64 (the result is float64)."""
    base = _t(input).type(dtypes.float64)
    if isinstance(exponent, Tensor):
        exponent = exponent.type(dtypes.float64)
    return arithmetic.pow(base, float(exponent) if isinstance(exponent, int) else exponent)


def sgn(input) -> Tensor:
    """The sign (-1, 0 or 1) for real tensors;  d/dx = 0."""
    return elementwise.sign(input)


def fmax(input, other) -> Tensor:
    """Elementwise maximum that ignores NaN (NaN only where both are); on ties the
    gradient goes to ``input``, as PyTorch's."""
    x, y = _t(input), _t(other)
    return elementwise.where((x >= y) | compare.isnan(y), x, y)


def fmin(input, other) -> Tensor:
    """Elementwise minimum that ignores NaN (as :func:`fmax`)."""
    x, y = _t(input), _t(other)
    return elementwise.where((x <= y) | compare.isnan(y), x, y)


def positive(input) -> Tensor:
    """input itself (unary plus)."""
    return _t(input)


def clamp_min(input, min) -> Tensor:
    """max(x, min) (``clamp(x, min=min)``)."""
    from ember.functions import clamp

    return clamp(input, min=min)


def clamp_max(input, max) -> Tensor:
    """min(x, max) (``clamp(x, max=max)``)."""
    from ember.functions import clamp

    return clamp(input, max=max)


def addcmul(input, tensor1, tensor2, *, value=1) -> Tensor:
    """input + value * tensor1 * tensor2 (as in Adam's update)."""
    product = tensor1 * tensor2
    return input + (product if value == 1 else value * product)


def addcdiv(input, tensor1, tensor2, *, value=1) -> Tensor:
    """input + value * tensor1 / tensor2."""
    ratio = tensor1 / tensor2
    return input + (ratio if value == 1 else value * ratio)


def ldexp(input, other) -> Tensor:
    """input * 2^other."""
    return input * exponential.exp2(_t(other))


def heaviside(input, values) -> Tensor:
    """The step function: 0 where x < 0, 1 where x > 0, ``values`` where x = 0 (no
    gradient, as in PyTorch)."""
    x, v = _t(input), _t(values)
    out = np.where(x._data == 0, v._data, x._data > 0)
    return Tensor._wrap(out.astype(dtypes.result_type(x._data, v._data)))


def isin(elements, test_elements, *, assume_unique: bool = False,
         invert: bool = False) -> Tensor:
    """True where an element of ``elements`` occurs in ``test_elements``."""
    x = _t(elements)
    test = test_elements._data if isinstance(test_elements, Tensor) else \
        np.asarray(test_elements)
    return Tensor._wrap(np.isin(x._data, test, assume_unique=assume_unique, invert=invert))
