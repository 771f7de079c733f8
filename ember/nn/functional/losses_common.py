"""What every loss shares: the reduction, argument checks, and a stable softplus.

``reduction`` is PyTorch's: ``'none'`` keeps one loss per element (or per sample),
``'sum'`` adds them up, ``'mean'`` averages them. PyTorch's deprecated ``size_average``
and ``reduce`` flags are still accepted where PyTorch accepts them, and override
``reduction`` the way PyTorch's do.
"""

from __future__ import annotations

import warnings

from ember.autograd.primitives import defvjp, primitive
from ember.errors import ShapeError
from ember.ops import elementwise
from ember.tensor import Tensor

REDUCTIONS = ("none", "mean", "sum")


def legacy_reduction(size_average, reduce, reduction: str) -> str:
    """``reduction`` from PyTorch's deprecated flags, when either is given."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "none" if not reduce else "mean" if size_average else "sum"
    warnings.warn(f"size_average and reduce are deprecated, please use "
                  f"reduction={reduction!r} instead", UserWarning, stacklevel=3)
    return reduction


def class_shape(input: Tensor) -> tuple:
    """The shape of a class-index target for ``input`` (N, C, d1, ...) or (C,)."""
    shape = tuple(input.shape)
    return () if len(shape) == 1 else shape[:1] + shape[2:]


def check_reduction(name: str, reduction: str, allowed: tuple = REDUCTIONS) -> None:
    """A ValueError naming the loss unless ``reduction`` is one of ``allowed``."""
    if reduction not in allowed:
        choices = ", ".join(repr(r) for r in allowed)
        raise ValueError(f"{name}: reduction must be one of {choices}, got {reduction!r}")


def apply_reduction(loss: Tensor, reduction: str) -> Tensor:
    """The per-element ``loss`` as ``reduction`` asks: unchanged, summed, or averaged."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.mean()


def as_float(x, like: Tensor) -> Tensor:
    """``x`` as a tensor of ``like``'s floating dtype (targets, weights: constants mostly)."""
    if not isinstance(x, Tensor):
        from ember.creation import tensor

        return tensor(x, dtype=like.dtype)
    if x.dtype.kind != "f" or (like.dtype.kind == "f" and x.dtype != like.dtype):
        return x.type(like.dtype)
    return x


def check_float_input(name: str, input) -> None:
    """A TypeError naming the loss unless ``input`` is a floating-point tensor."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: input must be a floating-point tensor, got {input.dtype}")


def check_same_shape(name: str, input: Tensor, target: Tensor, what: str = "target") -> None:
    """A ValueError naming the loss and both shapes unless they are equal.

    PyTorch only warns for some losses and then broadcasts, which silently turns an
    (N,) prediction against an (N, 1) target into an (N, N) loss; ember refuses.
    """
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"{name}: {what} of shape {tuple(target.shape)} does not match input "
                         f"of shape {tuple(input.shape)}; they must have the same shape")


def check_labels_pm1(name: str, target: Tensor) -> None:
    """A ValueError unless every label is -1 or +1 (margin losses)."""
    labels = target._data  # array methods only: validation records no graph
    bad = (labels != 1) & (labels != -1)
    if bad.any():
        raise ValueError(f"{name}: target must hold labels -1 or +1, found {labels[bad][0]}; "
                         "map 0/1 labels with 2 * y - 1")


def check_class_indices(name: str, input: Tensor, target, ignore_index: int | None = None
                        ) -> Tensor:
    """The class-index target for ``input`` (N, C, d1, ...) or (C,), checked: integer dtype
    (TypeError), shape (N, d1, ...) or () (ValueError), values in [0, C) or
    ``ignore_index`` (IndexError)."""
    if not isinstance(target, Tensor):
        from ember.creation import tensor

        target = tensor(target)
    expected = class_shape(input)
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class indices (int64), got "
                        f"{target.dtype} of shape {tuple(target.shape)}; class probabilities "
                        "go to cross_entropy, with a target of the input's shape")
    if tuple(target.shape) != expected:
        raise ShapeError(f"{name}: target of shape {tuple(target.shape)} does not match input "
                         f"of shape {tuple(input.shape)}; expected class indices of shape "
                         f"{expected}")
    num_classes = input.shape[0 if input.ndim == 1 else 1]
    labels = target._data  # array methods only: validation records no graph
    bad = (labels < 0) | (labels >= num_classes)
    if ignore_index is not None:
        bad &= labels != ignore_index
    if bad.any():
        also = f" or ignore_index={ignore_index}" if ignore_index is not None else ""
        raise IndexError(f"{name}: target {labels[bad][0]} is out of bounds for {num_classes} "
                         f"classes (expected 0 <= target < {num_classes}{also})")
    return target


def class_weight(name: str, weight, input: Tensor) -> Tensor | None:
    """``weight`` checked to hold one value per class of ``input``, in the input's dtype."""
    if weight is None:
        return None
    weight = as_float(weight, input)
    num_classes = input.shape[0 if input.ndim == 1 else 1]
    if tuple(weight.shape) != (num_classes,):
        raise ShapeError(f"{name}: weight of shape {tuple(weight.shape)} must hold one value "
                         f"per class, i.e. have shape ({num_classes},) for input of shape "
                         f"{tuple(input.shape)}")
    if weight.requires_grad:
        raise RuntimeError(f"{name}: is not differentiable with respect to the class weight "
                           "(as in PyTorch); pass weight.detach()")
    return weight


# NOTE: a primitive, for stability and for the exact derivative at 0: the composed
# max(z, 0) + log1p(exp(-|z|)) has the kinks of max and |.| at z = 0, where backprop would
# give 0 instead of sigmoid(0) = 1/2 (the logit of a freshly zero-initialised layer).
@primitive(saves="inputs")
def softplus(xp, z):
    """log(1 + e^z) = max(z, 0) + log(1 + e^-|z|), finite for any z;  d/dz = sigmoid(z)."""
    return xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))


defvjp(softplus, lambda xp, g, ans, z: g * elementwise.sigmoid.forward(xp, z))
