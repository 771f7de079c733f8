"""Data types, the default float type, and PyTorch's type-promotion rules.

ember's dtypes are NumPy dtypes (``em.float32 is np.dtype("float32")``), so an array
keeps its dtype when it becomes a tensor. Python floats and lists of floats become the
default float type (float32, as in PyTorch); Python ints become int64.

Binary ops promote as PyTorch does, which differs from NumPy in two places that matter:

* the higher *category* wins (bool < integer < float) and keeps its own width:
  ``int64 tensor * float32 tensor -> float32`` (NumPy says float64);
* within one category, a 0-d tensor does not widen a dimensioned one:
  ``float32 (n-d) + float64 (0-d) -> float32``.
"""

from __future__ import annotations

import builtins

import numpy as np

# this module defines `float`, `int` and `double` as PyTorch does; keep Python's at hand
builtins_float, builtins_int, builtins_bool = builtins.float, builtins.int, builtins.bool

float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int8 = np.dtype("int8")
int16 = np.dtype("int16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
uint8 = np.dtype("uint8")
bool_ = np.dtype("bool")

# PyTorch-style aliases
half, float, double = float16, float32, float64
short, int, long = int16, int32, int64

SUPPORTED = (float16, float32, float64, int8, int16, int32, int64, uint8, bool_)

_default_float = float32


def get_default_dtype() -> np.dtype:
    """The dtype given to Python floats and to random and ``zeros``-style creation."""
    return _default_float


def set_default_dtype(dtype) -> None:
    """Set the default float dtype (float32 or float64), as ``torch.set_default_dtype``."""
    global _default_float
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {dtype}")
    _default_float = dtype


def as_dtype(dtype) -> np.dtype | None:
    """Normalise a dtype argument (``em.float32``, ``np.float64``, ``"int64"``, ``float``)."""
    if dtype is None:
        return None
    if dtype is builtins_float:
        return _default_float
    if dtype is builtins_int:
        return int64
    if dtype is builtins_bool:
        return bool_
    try:
        dtype = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"unsupported dtype {dtype!r}") from error
    if dtype not in SUPPORTED:
        raise TypeError(
            f"unsupported dtype {dtype}; ember supports "
            + ", ".join(str(d) for d in SUPPORTED)
        )
    return dtype


def is_floating(dtype: np.dtype) -> bool:
    return dtype.kind == "f"


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def category(dtype: np.dtype) -> int:
    """0 for bool, 1 for integers, 2 for floats."""
    return _CATEGORY[dtype.kind]


def result_type(a, b) -> np.dtype:
    """The dtype PyTorch gives ``a op b``; ``a`` and ``b`` are arrays or Python scalars.

    >>> import numpy as np
    >>> result_type(np.zeros(3, "int64"), np.zeros(3, "float32"))
    dtype('float32')
    >>> result_type(np.zeros(3, "float32"), np.zeros((), "float64"))
    dtype('float32')
    >>> result_type(np.zeros(3, "int64"), 2.5)
    dtype('float32')
    """
    da, db = _operand(a), _operand(b)
    (ta, ka, ra), (tb, kb, rb) = da, db
    if ka != kb:  # the higher category wins; a Python scalar of it gives the default type
        t, r = (ta, ra) if ka > kb else (tb, rb)
        if r == 0:  # Python scalar
            return _default_float if max(ka, kb) == 2 else (int64 if max(ka, kb) == 1 else bool_)
        return t
    # same category: dimensioned tensors beat 0-d tensors beat Python scalars
    if ra != rb:
        return ta if ra > rb else tb
    return np.promote_types(ta, tb)


def _operand(x):
    """(dtype, category, rank) with rank 2 for n-d arrays, 1 for 0-d, 0 for Python scalars."""
    if isinstance(x, np.ndarray) or hasattr(x, "__array_namespace__"):
        return x.dtype, _CATEGORY[x.dtype.kind], 2 if x.ndim else 1
    if isinstance(x, np.generic):
        return x.dtype, _CATEGORY[x.dtype.kind], 1
    if isinstance(x, builtins_bool):
        return bool_, 0, 0
    if isinstance(x, builtins_int):
        return int64, 1, 0
    return _default_float, 2, 0
