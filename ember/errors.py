"""ember's exceptions: each is the Python exception its meaning calls for, and also the one
PyTorch raises in the same place, so ``except RuntimeError:`` code written for PyTorch
keeps working.

PyTorch reports an op's bad arguments (shapes that do not fit, a dtype an op cannot
take) as ``RuntimeError``; Python code reports them as ``ValueError`` or ``TypeError``.
These classes are both:

>>> import ember as em
>>> try:
...     em.ones(2, 3) @ em.ones(4, 5)
... except RuntimeError as error:          # as with PyTorch
...     print(type(error).__name__, isinstance(error, ValueError))
ShapeError True
"""

from __future__ import annotations

__all__ = ["OpError", "ShapeError", "DtypeError", "StateDictError"]


class OpError(ValueError, RuntimeError):
    """An op cannot work with its arguments' values (e.g. an integer raised to a negative
    integer power). PyTorch raises RuntimeError."""


class ShapeError(OpError):
    """The shapes of an op's arguments do not fit together; the message names the op and
    the shapes. PyTorch raises RuntimeError."""


class DtypeError(TypeError, RuntimeError):
    """An op does not take its argument's dtype (``mean`` of integers). PyTorch raises
    RuntimeError."""


class StateDictError(KeyError, RuntimeError):
    """``load_state_dict(strict=True)`` found missing or unexpected keys. PyTorch raises
    RuntimeError."""

    def __str__(self) -> str:  # a KeyError would print its message quoted
        return str(self.args[0]) if self.args else ""
