"""linear: the fully connected layer's map y = x W^T + b, as one primitive."""

from __future__ import annotations

from ember import parallel
from ember.autograd.primitives import defvjp, primitive
from ember.errors import ShapeError
from ember.tensor import Tensor

__all__ = ["linear"]


# NOTE: a primitive rather than `x @ weight.T + bias` (three graph nodes): one node and no
# transposed-weight view keeps small models from being bound by per-op overhead.
@primitive(saves="inputs")
def _linear(xp, x, weight, bias):
    """y = x W^T + b over the last dimension of x (W is (out, in), b is (out,))."""
    out = parallel.matmul(xp, x, weight.T)
    if bias is not None:
        out += bias
    return out


def _linear_vjp_input(xp, g, ans, x, weight, bias):
    """dL/dx = dL/dy W."""
    return parallel.matmul(xp, g, weight)


def _linear_vjp_weight(xp, g, ans, x, weight, bias):
    """dL/dW = sum over the batch of dL/dy^T x."""
    return parallel.matmul(xp, g.reshape(-1, g.shape[-1]).T, x.reshape(-1, x.shape[-1]))


def _linear_vjp_bias(xp, g, ans, x, weight, bias):
    """dL/db = sum over the batch of dL/dy."""
    return g.reshape(-1, g.shape[-1]).sum(axis=0)


defvjp(_linear, _linear_vjp_input, _linear_vjp_weight, _linear_vjp_bias)
_linear.name = "linear"


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """Affine map of the last dimension: :math:`y = x W^T + b`.

    Args:
        input: (*, in_features).
        weight: (out_features, in_features).
        bias: (out_features,) or None.

    Returns:
        (*, out_features).

    >>> import ember as em
    >>> x = em.tensor([[1.0, 2.0]])
    >>> w = em.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, -1.0]])
    >>> em.nn.functional.linear(x, w, em.tensor([0.5, 0.5, 0.5]))
    tensor([[ 1.5000,  3.5000, -1.5000]])
    """
    in_features = weight.shape[-1]
    shape = input.shape
    if not shape or shape[-1] != in_features:
        raise ShapeError(
            f"linear: input of shape {tuple(shape)} has {shape[-1] if shape else 0} features in "
            f"its last dimension, but the weight {tuple(weight.shape)} expects {in_features}"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ShapeError(f"linear: bias of shape {tuple(bias.shape)} does not match the weight's "
                         f"{weight.shape[0]} outputs")
    return _linear(input, weight, bias)
