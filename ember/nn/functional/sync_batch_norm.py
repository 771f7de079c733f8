"""Synchronised batch normalisation: the batch statistics of all the ranks' batches together.

In data-parallel training each rank normalises its share of the batch. Plain batch norm
would use each share's own mean and variance; synchronised batch norm uses those of the
whole batch, so that R ranks with B/R samples each compute exactly what one process with
all B samples computes. Over ranks r with n_r values per channel, local means m_r and
(biased) variances v_r, the global statistics are (Chan et al.'s parallel combination,
stable where sums of squares are not)

.. math:: N = \\sum_r n_r, \\quad \\mu = \\frac{1}{N} \\sum_r n_r m_r, \\quad
          \\sigma^2 = \\frac{1}{N} \\sum_r n_r \\big(v_r + (m_r - \\mu)^2\\big)

one all-gather of (n_r, m_r, v_r) per layer and step. The input gradient needs the
global sums of g and of g (x - mu) per channel (one all-reduce in the backward pass):

.. math:: \\bar{x} = \\frac{\\gamma}{\\sigma} \\Big(g - \\frac{1}{N}\\sum g
          - \\frac{x - \\mu}{\\sigma^2} \\frac{1}{N} \\sum g (x - \\mu)\\Big)

while the gradients of gamma and beta are this rank's sums (DistributedDataParallel
averages them with the other parameters' gradients). As PyTorch's SyncBatchNorm.

``group`` is an :class:`ember.distributed.ProcessGroup` (anything with its ``size()``,
``all_gather_array`` and ``all_reduce_array``); the layer :class:`~ember.nn.SyncBatchNorm`
calls this in training when more than one rank runs.
"""

from __future__ import annotations

import numpy as np

from ember.autograd.engine import no_grad
from ember.autograd.primitives import defcomposite, defvjp, primitive
from ember.nn.functional.normalization import (
    _as_ncl,
    _batch_moments,
    _batch_norm,
    _batch_norm_vjp_bias,
    _batch_norm_vjp_weight,
    _centred_dot,
    _check_channels,
)
from ember.tensor import Tensor

__all__ = ["sync_batch_norm"]


@primitive(saves="inputs")
def _sync_batch_norm(xp, x, mean, var, weight, bias, *, eps, count, group):
    """(x - mean) / sqrt(var + eps) * weight + bias, per channel, with the global
    ``mean`` and ``var`` of ``count`` values per channel across the ranks of ``group``."""
    return _batch_norm.forward(xp, x, mean, var, weight, bias, eps, True)


def _sync_batch_norm_vjp_input(xp, g, ans, x, mean, var, weight, bias, *, eps, count, group):
    """dL/dx = w s (g - sum(g)/N - (x - mean) s^2 sum(g (x - mean))/N), s = 1/sqrt(var + eps),
    with both sums over every rank's batch (an all-reduce)."""
    invstd = 1 / xp.sqrt(var + eps)
    scale = invstd if weight is None else invstd * weight
    g3, x3 = _as_ncl(g), _as_ncl(x)
    sums = xp.concatenate([g3.sum(axis=(0, 2)), _centred_dot(xp, x3, mean, g3)])
    sums = xp.array(sums, dtype=np.float64)
    group.all_reduce_array(sums, "sync_batch_norm's backward all-reduce")
    channels = mean.shape[0]
    sum_g = xp.asarray(sums[:channels], dtype=g.dtype)
    sum_gx = xp.asarray(sums[channels:], dtype=g.dtype)
    b = -scale * invstd * invstd * sum_gx / count
    c = -scale * sum_g / count
    grad = g3 * scale[:, None] + (x3 - mean[:, None]) * b[:, None] + c[:, None]
    return grad.reshape(x.shape)


defvjp(_sync_batch_norm, _sync_batch_norm_vjp_input, None, None,
       lambda xp, g, ans, x, mean, var, weight, bias, *, eps, count, group:
       _batch_norm_vjp_weight(xp, g, ans, x, mean, var, weight, bias, eps, True),
       lambda xp, g, ans, x, mean, var, weight, bias, *, eps, count, group:
       _batch_norm_vjp_bias(xp, g, ans, x, mean, var, weight, bias, eps, True))


def _no_second_derivatives(*inputs, **params):
    raise NotImplementedError(
        "sync_batch_norm: its gradient cannot be differentiated again (the backward pass "
        "all-reduces arrays across the ranks; PyTorch's SyncBatchNorm has no double "
        "backward either); use BatchNorm for higher-order gradients")


defcomposite(_sync_batch_norm, _no_second_derivatives)
_sync_batch_norm.name = "sync_batch_norm"


def global_moments(input: Tensor, group) -> tuple[np.ndarray, np.ndarray, int]:
    """The mean and biased variance per channel (dim 1) of every rank's ``input``
    together, and the number of values per channel N, by one all-gather."""
    channels = input.shape[1]
    local = input.numel() // channels if channels else 0
    row = np.zeros(1 + 2 * channels, dtype=np.float64)
    row[0] = local
    if local:
        moments = _batch_moments(input.detach())._data
        row[1:] = moments.reshape(-1)
    table = group.all_gather_array(row, "sync_batch_norm's statistics all-gather")
    counts, means, variances = table[:, :1], table[:, 1:1 + channels], table[:, 1 + channels:]
    total = counts.sum()
    mean = (counts * means).sum(axis=0) / max(total, 1)
    var = (counts * (variances + (means - mean) ** 2)).sum(axis=0) / max(total, 1)
    return mean, var, int(total)


def sync_batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
                    weight: Tensor | None, bias: Tensor | None, momentum: float, eps: float,
                    group) -> Tensor:
    """Batch normalisation in training with the statistics of every rank's batch (see the
    module). The running statistics, when given, are updated in place with the global
    mean and the global unbiased variance, ``N / (N - 1)`` times the biased one.

    Args:
        input: (N, C) or (N, C, *), this rank's share of the batch.
        running_mean, running_var: (C,) or None (not tracked).
        weight, bias: (C,) gamma and beta, or None.
        momentum: the running averages' update factor.
        eps: added to the variance.
        group: the process group of the ranks whose batches are normalised together.
    """
    if input.ndim < 2:
        raise ValueError(f"sync_batch_norm: expected an input of shape (N, C) or (N, C, *), "
                         f"got shape {tuple(input.shape)}")
    _check_channels("sync_batch_norm", input, running_mean=running_mean,
                    running_var=running_var, weight=weight, bias=bias)
    mean, var, count = global_moments(input, group)
    if count <= 1:
        raise ValueError(f"sync_batch_norm: expected more than 1 value per channel when "
                         f"training, got {count} over all ranks (this rank's input has shape "
                         f"{tuple(input.shape)})")
    dtype = input.dtype
    with no_grad():
        if running_mean is not None:
            running_mean.mul_(1 - momentum).add_(Tensor._wrap((mean * momentum).astype(dtype)))
        if running_var is not None:
            unbiased = var * (momentum * count / (count - 1))
            running_var.mul_(1 - momentum).add_(Tensor._wrap(unbiased.astype(dtype)))
    return _sync_batch_norm(input, Tensor._wrap(mean.astype(dtype)),
                            Tensor._wrap(var.astype(dtype)), weight, bias, eps=eps,
                            count=count, group=group)
