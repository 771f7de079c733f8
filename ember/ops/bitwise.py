"""Bitwise ops and shifts on integer and boolean tensors (``&``, ``|``, ``^``, ``~``, ``<<``,
``>>``), and integer division rounded toward zero. No gradients (as in PyTorch).

Results take PyTorch's promoted dtype (``int8 & int32 -> int32``, ``bool & int -> int64``);
on bool tensors ``&``, ``|``, ``^`` and ``~`` are the logical operations. Floating-point
inputs are refused, as PyTorch refuses them (``NotImplementedError``). Shifting by at
least the width gives 0 (or -1 for a negative number shifted right), as in PyTorch.
"""

from __future__ import annotations

from ember.autograd.primitives import primitive


def _integral(op: str, *arrays, allow_bool: bool = True) -> None:
    """Refuse floating-point inputs (and, for shifts, an all-bool pair), naming the op."""
    kinds = [a.dtype.kind if hasattr(a, "dtype") else ("b" if isinstance(a, bool) else
             "f" if isinstance(a, float) else "i") for a in arrays]
    if "f" in kinds:
        dtype = next(getattr(a, "dtype", "float") for a, k in zip(arrays, kinds, strict=True)
                     if k == "f")
        raise NotImplementedError(f"{op}(): not implemented for {dtype} values; it takes "
                                  "integer and bool tensors")
    if not allow_bool and kinds.count("b") == len(kinds):
        raise NotImplementedError(f"{op}(): not implemented for bool tensors")


@primitive(differentiable=False, promote=True)
def bitwise_and(xp, x, y):
    """x & y bit by bit (logical and on bools)."""
    _integral("bitwise_and", x, y)
    return xp.bitwise_and(x, y)


@primitive(differentiable=False, promote=True)
def bitwise_or(xp, x, y):
    """x | y bit by bit (logical or on bools)."""
    _integral("bitwise_or", x, y)
    return xp.bitwise_or(x, y)


@primitive(differentiable=False, promote=True)
def bitwise_xor(xp, x, y):
    """x ^ y bit by bit (logical xor on bools)."""
    _integral("bitwise_xor", x, y)
    return xp.bitwise_xor(x, y)


@primitive(differentiable=False)
def bitwise_not(xp, x):
    """~x: every bit flipped, so -x - 1 for signed integers (logical not on bools)."""
    _integral("bitwise_not", x)
    return xp.invert(x)


@primitive(differentiable=False, promote=True)
def bitwise_left_shift(xp, x, y):
    """x << y = x * 2^y (wrapping around the dtype's width)."""
    _integral("bitwise_left_shift", x, y, allow_bool=False)
    return xp.left_shift(x, y)


@primitive(differentiable=False, promote=True)
def bitwise_right_shift(xp, x, y):
    """x >> y = floor(x / 2^y) (an arithmetic shift: the sign is kept)."""
    _integral("bitwise_right_shift", x, y, allow_bool=False)
    return xp.right_shift(x, y)


@primitive(differentiable=False, promote=True)
def trunc_divide(xp, x, y):
    """x / y rounded toward zero, on integers: floor division, plus one where the
    quotient is negative and inexact (``div(rounding_mode="trunc")`` keeps the dtype)."""
    floor = xp.floor_divide(x, y)
    inexact = xp.remainder(x, y) != 0
    return floor + (inexact & ((x < 0) != (y < 0)))
