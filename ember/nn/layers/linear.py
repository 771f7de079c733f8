"""Fully connected layers, and reshaping layers used between them."""

from __future__ import annotations

import math

from ember import creation, dtypes
from ember.devices import check_device
from ember.nn import functional as F
from ember.nn import init
from ember.nn.module import Module, Parameter
from ember.tensor import Tensor

__all__ = ["Linear", "Flatten", "Unflatten"]


class Linear(Module):
    """Fully connected layer: :math:`y = x W^T + b`.

    Every output is a weighted sum of every input, plus a bias.
    Parameters: ``in_features * out_features + out_features``.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: learn an additive bias (default True).
        dtype: parameter dtype (default float32).

    Shape:
        input (*, in_features) -> output (*, out_features).

    Initialisation (as PyTorch): W and b from U(-k, k) with k = 1/sqrt(in_features)
    (``kaiming_uniform_`` with a = sqrt(5)).

    >>> import ember as em
    >>> layer = em.nn.Linear(784, 10)
    >>> layer.weight.shape, layer.bias.shape
    ((10, 784), (10,))
    >>> layer(em.zeros(32, 784)).shape
    (32, 10)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        check_device(device, type(self).__name__)
        if in_features < 0 or out_features < 0:
            raise ValueError(f"Linear: sizes must be non-negative, got {in_features} and "
                             f"{out_features}")
        self.in_features, self.out_features = in_features, out_features
        dtype = dtypes.as_dtype(dtype)
        self.weight = Parameter(creation.empty(out_features, in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Flatten(Module):
    """Merge dimensions ``start_dim..end_dim`` into one (by default all but the batch).

    Shape:
        (N, C, H, W) -> (N, C*H*W) with the defaults.

    >>> import ember as em
    >>> em.nn.Flatten()(em.zeros(2, 3, 4, 5)).shape
    (2, 60)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size``.

    >>> import ember as em
    >>> em.nn.Unflatten(1, (2, 5))(em.zeros(3, 10)).shape
    (3, 2, 5)
    """

    def __init__(self, dim: int, unflattened_size: tuple) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        dim = self.dim % input.ndim
        shape = input.shape
        return input.reshape(shape[:dim] + self.unflattened_size + shape[dim + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
