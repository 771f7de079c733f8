"""Dropout layers: active in training mode (``.train()``), the identity in ``.eval()``.

Thin modules over :mod:`ember.nn.functional.dropout` (Srivastava et al., 2014). Masks
come from the global generator, so ``em.manual_seed`` makes them repeatable.
``inplace=True`` is accepted (and shown) for compatibility; ember never changes the
input in place.
"""

from __future__ import annotations

from ember.nn import functional as F
from ember.nn.module import Module
from ember.tensor import Tensor

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
           "FeatureAlphaDropout"]


class _DropoutNd(Module):
    _function = staticmethod(F.dropout)

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be between "
                             f"0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return self._function(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """In training, zero each element with probability p and scale the others by
    1 / (1 - p); in evaluation, the identity.

    Args:
        p: probability of zeroing an element (default 0.5).
        inplace: accepted for compatibility (ember returns a new tensor).

    Shape:
        input (*) -> output (*), the same shape.

    >>> import ember as em
    >>> layer = em.nn.Dropout(0.5)
    >>> layer
    Dropout(p=0.5, inplace=False)
    >>> sorted(set(layer(em.ones(100)).tolist()))
    [0.0, 2.0]
    >>> layer.eval()(em.ones(3))
    tensor([1., 1., 1.])
    """


class Dropout1d(_DropoutNd):
    """In training, zero whole channels (one draw per sample and channel) with
    probability p and scale the others by 1 / (1 - p); the identity in evaluation.

    Shape:
        input (N, C, L) or (C, L) -> output of the same shape.

    >>> import ember as em
    >>> em.nn.Dropout1d(0.2)(em.ones(2, 3, 4)).shape
    (2, 3, 4)
    """

    _function = staticmethod(F.dropout1d)


class Dropout2d(_DropoutNd):
    """In training, zero whole feature maps (one draw per sample and channel) with
    probability p and scale the others by 1 / (1 - p); the identity in evaluation.

    Shape:
        input (N, C, H, W) or (C, H, W) -> output of the same shape.

    >>> import ember as em
    >>> em.nn.Dropout2d(0.2)(em.ones(2, 3, 4, 4)).shape
    (2, 3, 4, 4)
    """

    _function = staticmethod(F.dropout2d)


class Dropout3d(_DropoutNd):
    """Channel dropout of volumes: whole (D, H, W) channels zeroed with probability p.

    Shape:
        input (N, C, D, H, W) or (C, D, H, W) -> output of the same shape.

    >>> import ember as em
    >>> em.nn.Dropout3d(0.2)(em.ones(1, 2, 2, 2, 2)).shape
    (1, 2, 2, 2, 2)
    """

    _function = staticmethod(F.dropout3d)


class AlphaDropout(_DropoutNd):
    """Alpha dropout for SELU networks (Klambauer et al., 2017): keeps zero mean and unit
    variance; dropped elements take SELU's saturation value before an affine rescaling.

    Shape:
        input (*) -> output (*), the same shape.

    >>> import ember as em
    >>> em.nn.AlphaDropout(0.2).eval()(em.ones(2))
    tensor([1., 1.])
    """

    _function = staticmethod(F.alpha_dropout)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels (one draw per sample and channel).

    Shape:
        input (N, C, *) -> output of the same shape.

    >>> import ember as em
    >>> em.nn.FeatureAlphaDropout(0.2)(em.ones(2, 3, 4)).shape
    (2, 3, 4)
    """

    _function = staticmethod(F.feature_alpha_dropout)
