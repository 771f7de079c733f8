"""Size: a tensor's shape, a tuple of ints with ``numel()`` (``torch.Size``).

``x.shape`` and ``x.size()`` return a Size; it is a tuple, so it compares, indexes, unpacks
and hashes as one, and NumPy takes it wherever it takes a shape. Slicing it or adding a
tuple gives a Size again.

>>> import ember as em
>>> s = em.zeros(2, 3, 4).shape
>>> s == (2, 3, 4), s.numel(), s[1:], isinstance(s[1:], em.Size)
(True, 24, (3, 4), True)
>>> batch, *rest = s
>>> batch, rest
(2, [3, 4])

It prints as a tuple, ``(2, 3, 4)``, where PyTorch prints ``torch.Size([2, 3, 4])``.
"""

from __future__ import annotations

import math


class Size(tuple):
    """A tensor shape: a tuple of non-negative ints."""

    __slots__ = ()

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds (1 for ``()``)."""
        return math.prod(self)

    def __getitem__(self, key):
        item = tuple.__getitem__(self, key)
        return Size(item) if isinstance(key, slice) else item

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __mul__(self, count):
        return Size(tuple.__mul__(self, count))

    __rmul__ = __mul__

    def __reduce__(self):
        return (Size, (tuple(self),))
