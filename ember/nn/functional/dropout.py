"""Dropout: randomly zero activations in training (Srivastava et al., 2014, "Dropout: A
Simple Way to Prevent Neural Networks from Overfitting").

Inverted dropout, as PyTorch: each element is kept with probability 1 - p and scaled by
1 / (1 - p), so that E[output] = input and evaluation needs no rescaling:

.. math:: y = x \\cdot \\frac{m}{1 - p}, \\quad m \\sim \\mathrm{Bernoulli}(1 - p),
          \\qquad \\frac{\\partial y}{\\partial x} = \\frac{m}{1 - p}

The channel variants (``dropout1d``, ``dropout2d``, ``dropout3d``) draw one m per channel
of each sample and zero whole feature maps. Masks come from the global generator
(:func:`ember.random.generator`), so ``em.manual_seed`` makes them repeatable; they are
not PyTorch's masks. ``inplace=`` is accepted for compatibility: ember never changes the
input in place.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ember import functions, random
from ember.errors import ShapeError
from ember.tensor import Tensor

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
           "feature_alpha_dropout"]

# -(SELU's scale * alpha): the value SELU saturates to for large negative inputs
_SELU_SATURATION = 1.7580993408473766


def _check_p(p: float, op: str) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(shape: tuple, p: float, dtype) -> np.ndarray:
    """1 with probability 1 - p, else 0, in ``dtype``, drawn from the global generator."""
    draw = np.float32 if dtype == np.float32 else np.float64
    return (random.generator().random(shape, dtype=draw) >= p).astype(dtype)


def _noise_shape(input: Tensor, feature: bool) -> tuple:
    """The input's shape, or (N, C, 1, ..., 1) to share one draw per channel."""
    shape = tuple(input.shape)
    return shape[:2] + (1,) * (len(shape) - 2) if feature else shape


def _dropout(input: Tensor, p: float, training: bool, feature: bool, op: str) -> Tensor:
    _check_p(p, op)
    if not training or p == 0 or input.numel() == 0:
        return input
    if p == 1:
        return input * 0.0
    noise = _keep_mask(_noise_shape(input, feature), p, input.dtype)
    noise /= 1 - p
    return input * noise


def _alpha_dropout(input: Tensor, p: float, training: bool, feature: bool, op: str) -> Tensor:
    _check_p(p, op)
    if not training or p == 0 or input.numel() == 0:
        return input
    if p == 1:
        return input * 0.0
    keep = _keep_mask(_noise_shape(input, feature), p, input.dtype)
    a = 1 / math.sqrt((_SELU_SATURATION**2 * p + 1) * (1 - p))
    shift = (keep - 1) * (_SELU_SATURATION * a) + _SELU_SATURATION * a * p
    return input * (keep * a) + shift


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p).

    The input itself when not training or p = 0; zeros when p = 1.

    Args:
        input: any shape.
        p: probability of zeroing an element (in [0, 1]).
        training: apply dropout (else return the input).
        inplace: accepted for compatibility (ember returns a new tensor).

    >>> import ember as em
    >>> y = em.nn.functional.dropout(em.ones(1000), p=0.2)
    >>> sorted(set(y.tolist()))     # dropped, or kept and scaled by 1 / 0.8
    [0.0, 1.25]
    """
    return _dropout(input, p, training, False, "dropout")


def _channels(input: Tensor, batched_ndim: int, p: float, training: bool, op: str,
              alpha: bool = False) -> Tensor:
    """Channel dropout of an (N, C, *) input with ``batched_ndim`` dims, or of one sample."""
    if input.ndim not in (batched_ndim - 1, batched_ndim):
        raise ShapeError(f"{op}: expected a {batched_ndim - 1}D or {batched_ndim}D input "
                         f"(an optional batch, channels, {batched_ndim - 2} spatial "
                         f"dimensions), got shape {tuple(input.shape)}")
    unbatched = input.ndim == batched_ndim - 1
    x = functions.unsqueeze(input, 0) if unbatched else input
    out = (_alpha_dropout if alpha else _dropout)(x, p, training, True, op)
    if out is x:
        return input
    return functions.squeeze(out, 0) if unbatched else out


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) inputs with probability p, scaling the
    rest by 1 / (1 - p) (Tompson et al., 2015, "Efficient Object Localization Using
    Convolutional Networks").

    >>> import ember as em
    >>> y = em.nn.functional.dropout1d(em.ones(2, 8, 5))
    >>> bool(((y == 0).all(2) | (y == 2).all(2)).all())     # channel by channel
    True
    """
    return _channels(input, 3, p, training, "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) inputs with probability p, scaling the rest by
    1 / (1 - p) (Tompson et al., 2015).

    Other inputs behave as in PyTorch, with its deprecation warnings: a 3-d input is read
    as (N, C, L) (one draw per sample and channel), and a 2-d (N, C) input gets one draw
    per element (plain dropout).

    >>> import ember as em
    >>> y = em.nn.functional.dropout2d(em.ones(2, 8, 3, 3))
    >>> bool(((y == 0).all((2, 3)) | (y == 2).all((2, 3))).all())
    True
    """
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is "
                      "deprecated and will result in an error in a future release. To retain "
                      "the behavior and silence this warning, please use dropout instead. Note "
                      "that dropout2d exists to provide channel-wise dropout on inputs with 2 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension "
                      "(i.e. 3D or 4D inputs).", UserWarning, stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim. This behavior will change "
                      "in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout "
                      "behavior, please switch to using dropout1d instead.", UserWarning,
                      stacklevel=2)
    if input.ndim < 2:
        raise ShapeError(f"dropout2d: feature dropout requires at least 2 dimensions in the "
                         f"input, got shape {tuple(input.shape)}")
    return _dropout(input, p, training, True, "dropout2d")


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs with probability p,
    scaling the rest by 1 / (1 - p). Other inputs are read as one sample, with PyTorch's
    deprecation warning.

    >>> import ember as em
    >>> em.nn.functional.dropout3d(em.ones(2, 4, 2, 2, 2)).shape
    (2, 4, 2, 2, 2)
    """
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is "
                      "deprecated and will result in an error in a future release. To retain "
                      "the behavior and silence this warning, please use dropout instead. Note "
                      "that dropout3d exists to provide channel-wise dropout on inputs with 3 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension "
                      "(i.e. 4D or 5D inputs).", UserWarning, stacklevel=2)
    if input.ndim == 5:
        return _dropout(input, p, training, True, "dropout3d")
    x = functions.unsqueeze(input, 0)
    out = _dropout(x, p, training, True, "dropout3d")
    return input if out is x else functions.squeeze(out, 0)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout for SELU networks (Klambauer et al., 2017, "Self-Normalizing Neural
    Networks"): dropped elements are set to SELU's saturation value -alpha' (alpha' =
    1.7581), then an affine map restores zero mean and unit variance:

    .. math:: y = a \\big(x m - \\alpha' (1 - m)\\big) + a \\alpha' p, \\quad
              a = \\big((\\alpha'^2 p + 1)(1 - p)\\big)^{-1/2}, \\quad
              m \\sim \\mathrm{Bernoulli}(1 - p)

    Note ``training`` defaults to False, as in PyTorch.

    >>> import ember as em
    >>> y = em.nn.functional.alpha_dropout(em.randn(100000), 0.2, training=True)
    >>> abs(y.mean().item()) < 0.02, abs(y.std().item() - 1) < 0.02   # still N(0, 1)-like
    (True, True)
    """
    return _alpha_dropout(input, p, training, False, "alpha_dropout")


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels of an (N, C, *) input (one draw per channel).

    >>> import ember as em
    >>> em.nn.functional.feature_alpha_dropout(em.ones(2, 3, 4), 0.5, training=True).shape
    (2, 3, 4)
    """
    if input.ndim < 2:
        raise ValueError(f"feature_alpha_dropout: expected an input of shape (N, C, *), got "
                         f"shape {tuple(input.shape)}")
    return _alpha_dropout(input, p, training, True, "feature_alpha_dropout")
