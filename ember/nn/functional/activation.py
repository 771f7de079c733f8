"""Activation functions (PyTorch's ``torch.nn.functional`` names, arguments and defaults).

Several are composed from existing ops and need no backward code. The others are
primitives, each with a ``NOTE`` saying why: ``hardtanh`` and ``hardswish`` for PyTorch's
derivative at their kinks; ``elu`` (with ``selu`` and ``celu``), ``softplus`` and
``logsigmoid`` for numerical stability; ``leaky_relu`` (with ``prelu``), ``silu`` and
``gelu`` for speed. At a kink the derivative is PyTorch's, and each docstring states it.
Hot paths select with mask arithmetic rather than ``where``, which NumPy evaluates several
times more slowly on data-dependent masks.

``inplace=`` is accepted for signature compatibility only: ember never changes the input
in place and always returns a new tensor.
"""

from __future__ import annotations

import math

from ember import functions
from ember.autograd.primitives import defvjp, primitive, unbroadcast
from ember.ops import elementwise
from ember.ops.special import erf, erfc, erfc_array
from ember.tensor import Tensor

__all__ = [
    "sigmoid", "tanh", "relu", "softmax", "log_softmax", "softmin", "relu6", "leaky_relu",
    "elu", "selu", "celu", "gelu", "silu", "mish", "softplus", "softsign", "hardtanh",
    "hardsigmoid", "hardswish", "logsigmoid", "tanhshrink", "softshrink", "hardshrink",
    "threshold", "prelu", "glu", "erf", "erfc",
]

sigmoid = elementwise.sigmoid
tanh = elementwise.tanh

# SELU's constants (Klambauer et al., 2017), as in PyTorch
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0);  relu'(0) = 0.

    >>> import ember as em
    >>> em.nn.functional.relu(em.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """
    return elementwise.relu(input)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype=None) -> Tensor:
    """exp(x_i) / sum_j exp(x_j) along ``dim`` (required in ember; PyTorch's implicit
    choice of dimension is deprecated). ``dtype`` casts the input first."""
    return functions.softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype=None) -> Tensor:
    """log softmax(x) along ``dim`` (required), computed stably."""
    return functions.log_softmax(input, dim, dtype=dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype=None) -> Tensor:
    """softmax(-x) along ``dim`` (required): exp(-x_i) / sum_j exp(-x_j).

    >>> import ember as em
    >>> em.nn.functional.softmin(em.tensor([0.0, 0.0]), dim=0)
    tensor([0.5000, 0.5000])
    """
    if dim is None:
        raise TypeError("softmin(): pass the dimension to normalise over, e.g. dim=-1")
    return functions.softmax(-functions._t(input), dim, dtype=dtype)


# ---------------------------------------------------------------------------- piecewise linear


# NOTE: a primitive rather than clamp: PyTorch's derivative is 0 at both boundaries (clamp's is 1).
@primitive(saves="inputs")
def _hardtanh(xp, x, min_val, max_val):
    """clip(x, min_val, max_val);  d/dx = 1 where min_val < x < max_val, else 0."""
    return xp.clip(x, min_val, max_val)


defvjp(_hardtanh, lambda xp, g, ans, x, min_val, max_val: g * ((x > min_val) & (x < max_val)))
_hardtanh.name = "hardtanh"


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """min(max(x, min_val), max_val);  derivative 1 strictly inside, 0 at and beyond the
    boundaries (as PyTorch).

    >>> import ember as em
    >>> em.nn.functional.hardtanh(em.tensor([-2.0, 0.5, 3.0]))
    tensor([-1.0000,  0.5000,  1.0000])
    """
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val "
                         f"({max_val})")
    return _hardtanh(input, min_val=min_val, max_val=max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6) (Krizhevsky, 2010), i.e. hardtanh(x, 0, 6);  derivative 0 at 0 and 6.

    >>> import ember as em
    >>> em.nn.functional.relu6(em.tensor([-1.0, 3.0, 8.0]))
    tensor([0., 3., 6.])
    """
    return _hardtanh(input, min_val=0.0, max_val=6.0)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between (Howard et al., 2019,
    MobileNetV3);  derivative 1/6 strictly inside (-3, 3), 0 at and beyond +-3.

    >>> import ember as em
    >>> em.nn.functional.hardsigmoid(em.tensor([-4.0, 0.0, 1.5]))
    tensor([0.0000, 0.5000, 0.7500])
    """
    return _hardtanh(input, min_val=-3.0, max_val=3.0) / 6 + 0.5


# NOTE: a primitive for PyTorch's derivative at the kinks (0 at -3, 1 at 3).
@primitive(saves="inputs")
def _hardswish(xp, x):
    """x relu6(x + 3) / 6;  d/dx = x/3 + 1/2 strictly inside (-3, 3), 0 for x <= -3,
    1 for x >= 3."""
    return x * xp.clip(x + 3, 0, 6) / 6


def _hardswish_vjp(xp, g, ans, x):
    return g * ((x / 3 + 0.5) * ((x > -3) & (x < 3)) + (x >= 3))


defvjp(_hardswish, _hardswish_vjp)
_hardswish.name = "hardswish"


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x relu6(x + 3) / 6 (Howard et al., 2019, "Searching for MobileNetV3");
    derivative x/3 + 1/2 inside (-3, 3), 0 at -3, 1 at 3 (as PyTorch).

    >>> import ember as em
    >>> em.nn.functional.hardswish(em.tensor([-4.0, 1.0, 4.0]))
    tensor([-0.0000,  0.6667,  4.0000])
    """
    return _hardswish(input)


# NOTE: a primitive for speed (a composed `where` is 15x slower than PyTorch); it also serves
# prelu, whose slope is a tensor.
@primitive(promote=True, saves="inputs")
def _leaky_relu(xp, x, slope):
    """max(x, 0) + slope * min(x, 0);  d/dx = 1 for x > 0, slope for x <= 0;
    d/dslope = min(x, 0)."""
    out = xp.minimum(x, 0) * slope
    out += xp.maximum(x, 0)
    return out


def _leaky_relu_vjp_input(xp, g, ans, x, slope):
    positive = x > 0
    return unbroadcast(g * (~positive * xp.asarray(slope, dtype=x.dtype) + positive), x.shape)


defvjp(_leaky_relu, _leaky_relu_vjp_input,
       lambda xp, g, ans, x, slope: unbroadcast(g * xp.minimum(x, 0), xp.shape(slope)))
_leaky_relu.name = "leaky_relu"


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope * x otherwise (Maas et al., 2013);
    derivative at 0: negative_slope (as PyTorch).

    >>> import ember as em
    >>> em.nn.functional.leaky_relu(em.tensor([-2.0, 3.0]), 0.1)
    tensor([-0.2000,  3.0000])
    """
    return _leaky_relu(input, negative_slope)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x for x > 0, a * x otherwise, with a learnt slope ``weight`` per channel (dim 1)
    or one shared slope (He et al., 2015, "Delving Deep into Rectifiers");
    derivative at 0: a.

    Args:
        input: (N, C, *) (or any shape with a one-element weight).
        weight: (C,) or (1,).

    >>> import ember as em
    >>> em.nn.functional.prelu(em.tensor([[-2.0, 3.0]]), em.tensor([0.25]))
    tensor([[-0.5000,  3.0000]])
    """
    if weight.ndim > 1:
        raise ValueError(f"prelu: weight must be a scalar or 1-d tensor, got shape "
                         f"{tuple(weight.shape)}")
    n = weight.numel()
    if n == 1:
        slope = weight.reshape(())
    else:
        channels = input.shape[1] if input.ndim > 1 else 1
        if channels != n:
            raise ValueError(f"prelu: weight has {n} parameters but the input of shape "
                             f"{tuple(input.shape)} has {channels} channels (dim 1)")
        slope = weight.reshape((n,) + (1,) * (input.ndim - 2))
    return _leaky_relu(input, slope)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else ``value``;  derivative 0 at and below the threshold.

    >>> import ember as em
    >>> em.nn.functional.threshold(em.tensor([0.5, 2.0]), 1.0, -1.0)
    tensor([-1.,  2.])
    """
    return functions.where(input <= threshold, value, input)  # NaN stays NaN, as PyTorch


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd above lambd, x + lambd below -lambd, 0 between:  x - clamp(x, -lambd, lambd);
    derivative 0 on [-lambd, lambd] including its ends (as PyTorch).

    >>> import ember as em
    >>> em.nn.functional.softshrink(em.tensor([-2.0, 0.2, 1.5]))
    tensor([-1.5000,  0.0000,  1.0000])
    """
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be greater or equal to 0, got {lambd}")
    return input - elementwise.clamp(input, min=-lambd, max=lambd)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, else 0;  derivative 0 on [-lambd, lambd] including its ends.

    >>> import ember as em
    >>> em.nn.functional.hardshrink(em.tensor([-2.0, 0.2, 1.5]))
    tensor([-2.0000,  0.0000,  1.5000])
    """
    return input * (functions.abs(input) > lambd)


# ---------------------------------------------------------------------------- smooth


# NOTE: a primitive for stability: expm1 is exact near 0, and exp never overflows in the
# branch that is not taken (a composed `where` would send 0 * inf = NaN back through it).
@primitive(promote=True, saves="inputs")
def _elu(xp, x, alpha, scale, input_scale):
    """scale * x for x > 0, scale * alpha * (exp(input_scale * x) - 1) otherwise;
    d/dx = scale for x > 0, scale * alpha * input_scale * exp(input_scale * x) for x <= 0."""
    out = xp.expm1(xp.minimum(x, 0) * input_scale)  # 0 for x > 0
    out *= alpha * scale
    out += xp.maximum(x, 0) * scale
    return out


def _elu_vjp(xp, g, ans, x, alpha, scale, input_scale):
    positive = x > 0
    negative = xp.exp(xp.minimum(x, 0) * input_scale) * (alpha * scale * input_scale)
    return g * (negative * ~positive + positive * x.dtype.type(scale))


defvjp(_elu, _elu_vjp)
_elu.name = "elu"


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha (e^x - 1) otherwise (Clevert et al., 2015);
    derivative at 0: alpha (as PyTorch).

    >>> import ember as em
    >>> em.nn.functional.elu(em.tensor([-1.0, 2.0]))
    tensor([-0.6321,  2.0000])
    """
    return _elu(input, alpha=alpha, scale=1.0, input_scale=1.0)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with alpha = 1.6733, scale = 1.0507: self-normalising
    (Klambauer et al., 2017, "Self-Normalizing Neural Networks"); derivative at 0:
    scale * alpha.

    >>> import ember as em
    >>> em.nn.functional.selu(em.tensor([-1.0, 1.0]))
    tensor([-1.1113,  1.0507])
    """
    return _elu(input, alpha=SELU_ALPHA, scale=SELU_SCALE, input_scale=1.0)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha (e^(x/alpha) - 1) otherwise (Barron, 2017, "Continuously
    Differentiable Exponential Linear Units"); derivative at 0: 1.

    >>> import ember as em
    >>> em.nn.functional.celu(em.tensor([-1.0, 2.0]), alpha=2.0)
    tensor([-0.7869,  2.0000])
    """
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides the input)")
    return _elu(input, alpha=alpha, scale=1.0, input_scale=1.0 / alpha)


# NOTE: a primitive for stability: log1p(exp(beta x)) overflows above the threshold, and
# a composed `where` would send NaN gradients back through the branch not taken.
@primitive(promote=True, saves="inputs")
def _softplus(xp, x, beta, threshold):
    """log(1 + exp(beta x)) / beta, or x where beta x > threshold;
    d/dx = sigmoid(beta x), or 1 where beta x > threshold."""
    z = x * beta  # `where` is fast here: its mask (the linear regime) is rarely mixed
    return xp.where(z > threshold, x, xp.log1p(xp.exp(xp.minimum(z, threshold))) / beta)


def _softplus_vjp(xp, g, ans, x, beta, threshold):
    z = x * beta
    e = xp.exp(xp.minimum(z, threshold))
    return xp.where(z > threshold, g, g * e / (e + 1))


defvjp(_softplus, _softplus_vjp)
_softplus.name = "softplus"


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """(1/beta) log(1 + exp(beta x)), a smooth relu; exactly x where beta x > threshold
    (PyTorch's linear regime, for stability). Derivative sigmoid(beta x), 1 in the linear
    regime.

    >>> import ember as em
    >>> em.nn.functional.softplus(em.tensor([0.0, 30.0]))
    tensor([ 0.6931, 30.0000])
    """
    return _softplus(input, beta=beta, threshold=threshold)


# NOTE: a primitive for stability: log(sigmoid(x)) is -inf for x < -745 in float64.
@primitive(promote=True, saves="inputs")
def _logsigmoid(xp, x):
    """log sigmoid(x) = min(x, 0) - log(1 + exp(-|x|));  d/dx = 1 - sigmoid(x)."""
    return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))


def _logsigmoid_vjp(xp, g, ans, x):
    # 1 - sigmoid(x) = exp(-max(x, 0)) / (1 + exp(-|x|)): no overflow, no cancellation
    return g * xp.exp(-xp.maximum(x, 0)) / (1 + xp.exp(-xp.abs(x)))


defvjp(_logsigmoid, _logsigmoid_vjp)
_logsigmoid.name = "logsigmoid"


def logsigmoid(input: Tensor) -> Tensor:
    """log(1 / (1 + exp(-x))), stable for any x (x itself far below 0, 0 far above).

    >>> import ember as em
    >>> em.nn.functional.logsigmoid(em.tensor([-1000.0, 0.0]))
    tensor([-1000.0000,    -0.6931])
    """
    return _logsigmoid(input)


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_KAPPA = 0.044715


# NOTE: a primitive for speed: one node instead of eight, and its VJP reuses the output
# (Phi(x) = gelu(x) / x) instead of evaluating erfc a second time.
@primitive(promote=True, saves="all")
def _gelu(xp, x, approximate):
    """x Phi(x) with Phi(x) = erfc(-x / sqrt 2) / 2, or the tanh approximation;
    d/dx = Phi(x) + x phi(x)."""
    if approximate == "tanh":
        inner = (x + _KAPPA * x * x * x) * _SQRT_2_OVER_PI
        return 0.5 * x * (1 + xp.tanh(inner))
    return 0.5 * x * erfc_array(xp, x * -_SQRT_HALF)


def _gelu_vjp(xp, g, ans, x, approximate):
    if approximate == "tanh":
        t = xp.tanh((x + _KAPPA * x * x * x) * _SQRT_2_OVER_PI)
        d_inner = _SQRT_2_OVER_PI * (1 + 3 * _KAPPA * x * x)
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner)
    # Phi(x) = ans / x, except near 0 (and at it) where Phi(x) = 1/2 to working precision
    near_zero = xp.abs(x) < xp.finfo(x.dtype).tiny ** 0.5
    cdf = xp.where(near_zero, 0.5, ans / xp.where(near_zero, 1, x))
    return g * (cdf + x * xp.exp(-0.5 * x * x) * _INV_SQRT_2PI)


defvjp(_gelu, _gelu_vjp)
_gelu.name = "gelu"


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x Phi(x), Phi the standard normal CDF (Hendrycks & Gimpel, 2016, "Gaussian Error
    Linear Units"). With ``approximate='tanh'``:
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).

    >>> import ember as em
    >>> em.nn.functional.gelu(em.tensor([-1.0, 0.0, 1.0]))
    tensor([-0.1587,  0.0000,  0.8413])
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _gelu(input, approximate=approximate)


def _sigmoid(xp, x):
    """sigmoid(x) = exp(min(x, 0)) / (1 + exp(-|x|)), without overflow or `where`."""
    return xp.exp(xp.minimum(x, 0)) / (1 + xp.exp(-xp.abs(x)))


# NOTE: a primitive for speed: one node, and a sigmoid without `where`.
@primitive(promote=True, saves="inputs")
def _silu(xp, x):
    """x sigmoid(x);  d/dx = s (1 + x (1 - s)) with s = sigmoid(x)."""
    return x * _sigmoid(xp, x)


def _silu_vjp(xp, g, ans, x):
    s = _sigmoid(xp, x)
    return g * (s * (1 + x * (1 - s)))


defvjp(_silu, _silu_vjp)
_silu.name = "silu"


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x sigmoid(x), also called swish (Elfwing et al., 2017; Ramachandran et al., 2017).

    >>> import ember as em
    >>> em.nn.functional.silu(em.tensor([-1.0, 0.0, 1.0]))
    tensor([-0.2689,  0.0000,  0.7311])
    """
    return _silu(input)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x tanh(softplus(x)) (Misra, 2019, "Mish: A Self Regularized Non-Monotonic
    Activation Function").

    >>> import ember as em
    >>> em.nn.functional.mish(em.tensor([-1.0, 0.0, 1.0]))
    tensor([-0.3034,  0.0000,  0.8651])
    """
    return input * elementwise.tanh(_softplus(input, beta=1.0, threshold=20.0))


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|);  derivative 1 / (1 + |x|)^2.

    >>> import ember as em
    >>> em.nn.functional.softsign(em.tensor([-3.0, 1.0]))
    tensor([-0.7500,  0.5000])
    """
    return input / (functions.abs(input) + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x).

    >>> import ember as em
    >>> em.nn.functional.tanhshrink(em.tensor([0.0, 1.0]))
    tensor([0.0000, 0.2384])
    """
    return input - elementwise.tanh(input)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: split ``input`` in halves a, b along ``dim``; a * sigmoid(b)
    (Dauphin et al., 2017, "Language Modeling with Gated Convolutional Networks").

    Shape: (*, 2n, *) -> (*, n, *).

    >>> import ember as em
    >>> em.nn.functional.glu(em.tensor([[1.0, 2.0, 0.0, 0.0]]))
    tensor([[0.5000, 1.0000]])
    """
    if input.ndim == 0:
        raise ValueError("glu: does not support 0-d tensors (the halved dimension must exist)")
    d = functions._dim(dim, input.ndim, "glu")
    size = input.shape[d]
    if size % 2:
        raise ValueError(f"glu: the halved dimension must have even size, but dimension {d} "
                         f"of the input of shape {tuple(input.shape)} has size {size}")
    a, b = functions.split(input, size // 2, d)
    return a * elementwise.sigmoid(b)
