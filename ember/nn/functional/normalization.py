"""Normalisation: batch, layer, group, instance and local response normalisation.

Each standardises activations with a mean and variance taken over some axes,

.. math:: \\hat{x} = \\frac{x - \\mathrm{E}[x]}{\\sqrt{\\mathrm{Var}[x] + \\epsilon}},
          \\qquad y = \\gamma \\hat{x} + \\beta

(biased variance), and differs in the axes: batch norm over the batch and spatial axes of
each channel, layer norm over the trailing ``normalized_shape``, group norm over groups
of channels of each sample, instance norm over the spatial axes of each sample and
channel. The gradient of the standardisation, over the n values of each group, is

.. math:: \\bar{x} = \\frac{1}{\\sigma} \\Big(\\bar{\\hat{x}} - \\mathrm{mean}(\\bar{\\hat{x}})
          - \\hat{x}\\, \\mathrm{mean}(\\bar{\\hat{x}} \\hat{x})\\Big)

``batch_norm`` and ``layer_norm`` are primitives (a few vectorised passes, one graph node);
group and instance norm reuse them.
"""

from __future__ import annotations

import math

from ember import functions
from ember.autograd.engine import no_grad
from ember.autograd.primitives import defcomposite, defvjp, primitive
from ember.errors import ShapeError
from ember.tensor import Tensor

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "local_response_norm"]


# ---------------------------------------------------------------------------- helpers

_BLOCK = 65536  # elements per block: elementwise passes over a block stay in the CPU cache


def _blocks(n: int, per_item: int) -> list:
    """Slices of a leading axis of length n, each holding about _BLOCK elements. Working
    block by block keeps temporaries in the cache: 2-3x faster than whole-array passes."""
    step = max(1, _BLOCK // max(per_item, 1))
    return [slice(start, start + step) for start in range(0, n, step)]


def _dot_last(xp, a, b):
    """sum(a * b) over the last axis, without forming a * b: a batch of BLAS dot products
    for long rows, einsum for short ones (each several times faster than the other there)."""
    if a.shape[-1] >= 64:
        return xp.matmul(a[..., None, :], b[..., :, None])[..., 0, 0]
    return xp.einsum("...l,...l->...", a, b)


# ---------------------------------------------------------------------------- batch norm


def _centred_dot(xp, x3, mean, other=None):
    """Per channel, sum over N and L of (x - mean) * other (other = x - mean if None),
    for (N, C, L) arrays, block by block along N."""
    total = 0
    for s in _blocks(x3.shape[0], x3.shape[1] * x3.shape[2]):
        centred = x3[s] - mean[:, None]
        partner = centred if other is None else other[s]
        total = total + _dot_last(xp, partner, centred).sum(axis=0)
    return total


def _as_ncl(a):
    """An (N, C, *) array viewed as (N, C, L)."""
    return a.reshape(a.shape[0], a.shape[1], -1)


@primitive(differentiable=False)
def _batch_moments(xp, x):
    """(2, C): each channel's mean and biased variance over the batch and spatial axes."""
    x3 = _as_ncl(x)
    mean = x3.mean(axis=(0, 2))
    var = _centred_dot(xp, x3, mean) / (x3.shape[0] * x3.shape[2])
    return xp.stack([mean, var.astype(mean.dtype, copy=False)])


# NOTE: a primitive for speed: the output is x * a + b with per-channel a and b (two passes),
# and the VJP is two per-channel sums and one fused pass, as in PyTorch's CPU kernel.
@primitive(saves="inputs")
def _batch_norm(xp, x, mean, var, weight, bias, eps, training):
    """(x - mean) / sqrt(var + eps) * weight + bias, per channel (dim 1).

    With ``training``, ``mean`` and ``var`` are the batch's own statistics, so the input's
    VJP includes their dependence on x; otherwise they are constants (running averages).
    """
    scale = 1 / xp.sqrt(var + eps)
    if weight is not None:
        scale = scale * weight
    shift = -mean * scale
    if bias is not None:
        shift = shift + bias
    x3 = _as_ncl(x)
    out = xp.empty(x3.shape, dtype=xp.result_type(x3, scale))
    for s in _blocks(x3.shape[0], x3.shape[1] * x3.shape[2]):
        block = out[s]
        xp.multiply(x3[s], scale[:, None], out=block)
        block += shift[:, None]
    return out.reshape(x.shape)


def _batch_norm_vjp_input(xp, g, ans, x, mean, var, weight, bias, eps, training):
    """dL/dx = w s (g - mean(g) - (x - mean) s^2 mean(g (x - mean))), s = 1/sqrt(var + eps),
    in training; w s g with fixed statistics."""
    invstd = 1 / xp.sqrt(var + eps)
    scale = invstd if weight is None else invstd * weight
    if not training:
        return g * scale.reshape((1, -1) + (1,) * (g.ndim - 2))
    g3, x3 = _as_ncl(g), _as_ncl(x)
    count = g3.shape[0] * g3.shape[2]
    # dL/dx = a g + b (x - mean) + c, with per-channel a, b, c
    b = -scale * invstd * invstd * _centred_dot(xp, x3, mean, g3) / count
    c = -scale * g3.sum(axis=(0, 2)) / count
    grad = xp.empty(g3.shape, dtype=g.dtype)
    for s in _blocks(g3.shape[0], g3.shape[1] * g3.shape[2]):
        block = grad[s]
        xp.subtract(x3[s], mean[:, None], out=block)
        block *= b[:, None]
        block += g3[s] * scale[:, None]
        block += c[:, None]
    return grad.reshape(x.shape)


def _batch_norm_vjp_weight(xp, g, ans, x, mean, var, weight, bias, eps, training):
    """dL/dw = sum over batch and space of g x_hat."""
    return _centred_dot(xp, _as_ncl(x), mean, _as_ncl(g)) / xp.sqrt(var + eps)


def _batch_norm_vjp_bias(xp, g, ans, x, mean, var, weight, bias, eps, training):
    """dL/db = sum over batch and space of g."""
    return _as_ncl(g).sum(axis=(0, 2))


defvjp(_batch_norm, _batch_norm_vjp_input, None, None, _batch_norm_vjp_weight,
       _batch_norm_vjp_bias)
_batch_norm.name = "batch_norm"


def _batch_norm_composite(x, mean, var, weight, bias, eps, training):
    """The same normalisation composed of primitives, for higher-order gradients: in
    training, the mean and (biased) variance are functions of x."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if training:
        axes = (0,) + tuple(range(2, x.ndim))
        mean = functions.mean(x, axis=axes, keepdims=True)
        centred = x - mean
        var = functions.mean(centred * centred, axis=axes, keepdims=True)
    else:
        centred, var = x - mean.reshape(shape), var.reshape(shape)
    out = centred * functions.rsqrt(var + eps)
    if weight is not None:
        out = out * weight.reshape(shape)
    return out if bias is None else out + bias.reshape(shape)


defcomposite(_batch_norm, _batch_norm_composite)


def _check_channels(op: str, input: Tensor, **tensors) -> None:
    channels = input.shape[1]
    for name, t in tensors.items():
        if t is not None and tuple(t.shape) != (channels,):
            raise ShapeError(f"{op}: {name} has shape {tuple(t.shape)} but the input of shape "
                             f"{tuple(input.shape)} has {channels} channels (dim 1)")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalisation (Ioffe & Szegedy, 2015, "Batch Normalization: Accelerating Deep
    Network Training by Reducing Internal Covariate Shift"), per channel (dim 1):

    .. math:: y = \\frac{x - \\mathrm{E}[x]}{\\sqrt{\\mathrm{Var}[x] + \\epsilon}} \\gamma + \\beta

    In training, E and Var are the batch's (over N and the spatial axes; biased variance),
    and the running statistics, when given, are updated in place:
    ``running = (1 - momentum) running + momentum batch``, with the *unbiased* batch
    variance for ``running_var``. Otherwise the running statistics are used.

    Args:
        input: (N, C) or (N, C, *).
        running_mean, running_var: (C,) or None (in training: not tracked).
        weight, bias: (C,) gamma and beta, or None.
        training: use (and track) batch statistics.
        momentum: the running averages' update factor.
        eps: added to the variance.

    >>> import ember as em
    >>> x = em.tensor([[1.0], [3.0]])
    >>> em.nn.functional.batch_norm(x, None, None, training=True)
    tensor([[-1.0000],
            [ 1.0000]])
    """
    if input.ndim < 2:
        raise ShapeError(f"batch_norm: expected an input of shape (N, C) or (N, C, *), got "
                         f"shape {tuple(input.shape)}")
    _check_channels("batch_norm", input, running_mean=running_mean, running_var=running_var,
                    weight=weight, bias=bias)
    if training:
        count = math.prod(input.shape) // input.shape[1]
        if count == 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input of shape {tuple(input.shape)}")
        if eps <= 0:
            raise ValueError(f"batch_norm: eps must be positive in training, got {eps}")
        if momentum is None:
            raise TypeError("batch_norm: momentum must be a number (the BatchNorm modules turn "
                            "momentum=None into a cumulative average)")
        moments = _batch_moments(input)
        mean, var = moments[0], moments[1]
        with no_grad():
            if running_mean is not None:
                running_mean.mul_(1 - momentum).add_(mean * momentum)
            if running_var is not None:
                running_var.mul_(1 - momentum).add_(var * (momentum * count / (count - 1)))
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var must be given when not "
                             "training (or pass training=True to use the batch statistics)")
        if eps < 0:
            raise ValueError(f"batch_norm: eps must be non-negative, got {eps}")
        mean, var = running_mean, running_var
    return _batch_norm(input, mean, var, weight, bias, eps=eps, training=training)


# ---------------------------------------------------------------------------- layer norm


def _standardise(xp, x2, eps, out):
    """Write each row's (x - mean) / sqrt(var + eps) into ``out``; return 1/sqrt(var + eps)
    as an (M, 1) column."""
    xp.subtract(x2, x2.mean(axis=1, keepdims=True), out=out)
    invstd = 1 / xp.sqrt(_dot_last(xp, out, out)[:, None] / x2.shape[1] + eps)
    out *= invstd
    return invstd


# NOTE: a primitive for speed: one node instead of seven, computed block by block of rows.
@primitive(saves="inputs")
def _layer_norm(xp, x, weight, bias, size, eps):
    """(x - mean) / sqrt(var + eps) * weight + bias over the trailing ``size`` elements."""
    x2 = x.reshape(-1, size)
    out = xp.empty_like(x2)
    for s in _blocks(x2.shape[0], size):
        block = out[s]
        _standardise(xp, x2[s], eps, block)
        if weight is not None:
            block *= weight.reshape(1, size)
        if bias is not None:
            block += bias.reshape(1, size)
    return out.reshape(x.shape)


def _layer_norm_vjp_input(xp, g, ans, x, weight, bias, size, eps):
    """dL/dx = s (gw - mean(gw) - x_hat mean(gw x_hat)) per row, gw = g * weight."""
    x2, g2 = x.reshape(-1, size), g.reshape(-1, size)
    grad = xp.empty(g2.shape, dtype=g.dtype)
    for s in _blocks(x2.shape[0], size):
        x_hat = xp.empty_like(x2[s])
        invstd = _standardise(xp, x2[s], eps, x_hat)
        gw = g2[s] if weight is None else g2[s] * weight.reshape(1, size)
        x_hat *= _dot_last(xp, gw, x_hat)[:, None] / size
        block = grad[s]
        xp.subtract(gw, gw.mean(axis=1, keepdims=True), out=block)
        block -= x_hat
        block *= invstd
    return grad.reshape(x.shape)


def _layer_norm_vjp_weight(xp, g, ans, x, weight, bias, size, eps):
    """dL/dw = sum over rows of g x_hat."""
    x2, g2 = x.reshape(-1, size), g.reshape(-1, size)
    total = 0
    for s in _blocks(x2.shape[0], size):
        x_hat = xp.empty_like(x2[s])
        _standardise(xp, x2[s], eps, x_hat)
        total = total + xp.einsum("md,md->d", g2[s], x_hat)
    return total.reshape(weight.shape)


def _layer_norm_vjp_bias(xp, g, ans, x, weight, bias, size, eps):
    """dL/db = sum over rows of g."""
    return g.reshape(-1, size).sum(axis=0).reshape(bias.shape)


defvjp(_layer_norm, _layer_norm_vjp_input, _layer_norm_vjp_weight, _layer_norm_vjp_bias)
_layer_norm.name = "layer_norm"


def _layer_norm_composite(x, weight, bias, size, eps):
    """The same normalisation composed of primitives, for higher-order gradients."""
    x2 = x.reshape(-1, size)
    centred = x2 - functions.mean(x2, axis=1, keepdims=True)
    var = functions.mean(centred * centred, axis=1, keepdims=True)
    out = centred * functions.rsqrt(var + eps)
    if weight is not None:
        out = out * weight.reshape(1, size)
    if bias is not None:
        out = out + bias.reshape(1, size)
    return out.reshape(x.shape)


defcomposite(_layer_norm, _layer_norm_composite)


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Layer normalisation (Ba, Kiros & Hinton, 2016, "Layer Normalization"): standardise
    over the trailing dimensions ``normalized_shape`` of each sample, then scale and shift
    elementwise:  y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias.

    Args:
        input: (*, *normalized_shape).
        normalized_shape: an int or a tuple, the trailing dimensions to normalise over.
        weight, bias: of shape ``normalized_shape``, or None.
        eps: added to the (biased) variance.

    >>> import ember as em
    >>> em.nn.functional.layer_norm(em.tensor([[1.0, 3.0]]), (2,))
    tensor([[-1.0000,  1.0000]])
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else \
        tuple(int(s) for s in normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise ShapeError(f"layer_norm: normalized_shape {shape} does not match the trailing "
                         f"dimensions of the input of shape {tuple(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise ShapeError(f"layer_norm: {name} has shape {tuple(t.shape)}, expected the "
                             f"normalized_shape {shape}")
    return _layer_norm(input, weight, bias, size=math.prod(shape), eps=eps)


# ---------------------------------------------------------------------------- group norm


def _affine(x: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
    """x * weight + bias with (C,) weight and bias applied along dim 1."""
    shape = (-1,) + (1,) * (x.ndim - 2)
    if weight is not None:
        x = x * weight.reshape(shape)
    if bias is not None:
        x = x + bias.reshape(shape)
    return x


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Group normalisation (Wu & He, 2018, "Group Normalization"): split the C channels
    into ``num_groups`` groups and standardise each group of each sample (over its
    channels and spatial positions), then scale and shift per channel.

    Args:
        input: (N, C, *), C divisible by num_groups.
        num_groups: number of groups.
        weight, bias: (C,) or None.
        eps: added to the (biased) variance.

    >>> import ember as em
    >>> em.nn.functional.group_norm(em.tensor([[1.0, 3.0, 0.0, 4.0]]), 2)
    tensor([[-1.0000,  1.0000, -1.0000,  1.0000]])
    """
    if input.ndim < 2:
        raise ShapeError(f"group_norm: expected an input of shape (N, C, *), got shape "
                         f"{tuple(input.shape)}")
    n, channels = input.shape[:2]
    if num_groups <= 0 or channels % num_groups:
        raise ShapeError(f"group_norm: the {channels} channels of the input of shape "
                         f"{tuple(input.shape)} cannot be split into {num_groups} groups")
    _check_channels("group_norm", input, weight=weight, bias=bias)
    if n * channels // num_groups * math.prod(input.shape[2:]) == 1:  # PyTorch's check
        raise ValueError(f"group_norm: expected more than 1 value per channel, got input of "
                         f"shape {tuple(input.shape)} with {num_groups} groups")
    size = math.prod(input.shape[1:]) // num_groups
    grouped = functions.reshape(input, (n, num_groups, size))
    out = _layer_norm(grouped, None, None, size=size, eps=eps)
    return _affine(functions.reshape(out, input.shape), weight, bias)


# ---------------------------------------------------------------------------- instance norm


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Instance normalisation (Ulyanov, Vedaldi & Lempitsky, 2016, "Instance
    Normalization: The Missing Ingredient for Fast Stylization"): standardise each channel
    of each sample over its spatial positions, then scale and shift per channel.

    Computed, as in PyTorch, as batch norm of the input viewed as (1, N*C, *); the running
    statistics (if given) are updated with the average over the batch of each channel's.

    Args:
        input: (N, C, *) with at least one spatial dimension.
        running_mean, running_var: (C,) or None.
        weight, bias: (C,) or None.
        use_input_stats: normalise with each instance's statistics (else the running ones).
        momentum, eps: as in :func:`batch_norm`.

    >>> import ember as em
    >>> em.nn.functional.instance_norm(em.tensor([[[1.0, 3.0]]]))
    tensor([[[-1.0000,  1.0000]]])
    """
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected an input of shape (N, C, *) with a spatial "
                         f"dimension, got shape {tuple(input.shape)}")
    _check_channels("instance_norm", input, running_mean=running_mean,
                    running_var=running_var, weight=weight, bias=bias)
    n, channels = input.shape[:2]
    if use_input_stats and math.prod(input.shape[2:]) == 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element when "
                         f"training, got input of shape {tuple(input.shape)}")
    flat = functions.reshape(input, (1, n * channels) + tuple(input.shape[2:]))

    def tiled(t):
        return None if t is None else functions.repeat(t, n)

    mean, var = tiled(running_mean), tiled(running_var)
    out = batch_norm(flat, mean, var, tiled(weight), tiled(bias), training=use_input_stats,
                     momentum=momentum, eps=eps)
    if use_input_stats:
        with no_grad():
            for running, tracked in ((running_mean, mean), (running_var, var)):
                if running is not None:
                    running.copy_(functions.reshape(tracked, (n, channels)).mean(0))
    return functions.reshape(out, input.shape)


# ---------------------------------------------------------------------------- local response


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """Local response normalisation across channels (Krizhevsky, Sutskever & Hinton, 2012,
    "ImageNet Classification with Deep Convolutional Neural Networks"), as PyTorch:

    .. math:: b_c = a_c \\Big(k + \\frac{\\alpha}{n} \\sum_{c'=c-\\lfloor n/2 \\rfloor}^{
              c+\\lfloor (n-1)/2 \\rfloor} a_{c'}^2\\Big)^{-\\beta}

    with n = ``size``, channels outside [0, C) counting as 0, and the sum divided by n
    even at the borders (PyTorch's average pooling with zero padding).

    Args:
        input: (N, C, *) with at least one spatial dimension.
        size: number of neighbouring channels n.
        alpha, beta, k: the constants above.

    >>> import ember as em
    >>> em.nn.functional.local_response_norm(em.ones(1, 2, 1), size=2, alpha=1.0, beta=1.0)
    tensor([[[0.6667],
             [0.5000]]])
    """
    if input.ndim < 3:
        raise ValueError(f"local_response_norm: expected an input of shape (N, C, *) with at "
                         f"least 3 dimensions, got shape {tuple(input.shape)}")
    if size < 1:
        raise ValueError(f"local_response_norm: size must be positive, got {size}")
    if input.numel() == 0:
        return input
    channels = input.shape[1]
    squares = input * input
    # zero-pad dim 1 by size // 2 before and (size - 1) // 2 after; F.pad lists the last dim first
    padding = (0, 0) * (input.ndim - 2) + (size // 2, (size - 1) // 2)
    padded = functions.pad(squares, padding)
    window = padded[:, 0:channels]
    for offset in range(1, size):
        window = window + padded[:, offset:offset + channels]
    return input / (window * (alpha / size) + k) ** beta
