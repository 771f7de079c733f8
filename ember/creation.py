"""Creating tensors: from data, filled, ranges, and random (from the global generator).

Dtypes as in PyTorch: a NumPy array keeps its dtype; Python floats become the default
float dtype (float32), Python ints int64, Python bools bool.

>>> import ember as em
>>> em.tensor([1.0, 2.0]).dtype, em.tensor([1, 2]).dtype
(dtype('float32'), dtype('int64'))
>>> em.zeros(2, 3).shape
(2, 3)
"""

from __future__ import annotations

import builtins

import numpy as np

from ember import dtypes, random
from ember.devices import check_device
from ember.tensor import Tensor


def _as_array(data, dtype=None, copy: bool = False) -> np.ndarray:
    """``data`` as an array with PyTorch's dtype rules; checks the dtype is supported."""
    dtype = dtypes.as_dtype(dtype)
    if isinstance(data, Tensor):
        array = data._data
    elif isinstance(data, (np.ndarray, np.generic)):
        array = np.asarray(data)
    else:
        try:
            array = np.asarray(data)
        except ValueError as error:
            raise ValueError(f"tensor(): cannot build a tensor from this data: {error}") from None
        copy = False
        if dtype is None and array.dtype.kind == "f":
            array = array.astype(dtypes.get_default_dtype(), copy=False)
        elif dtype is None and array.dtype.kind in "iu":
            array = array.astype(dtypes.int64, copy=False)
    if array.dtype not in dtypes.SUPPORTED:
        raise TypeError(
            f"tensor(): unsupported dtype {array.dtype}; ember supports "
            + ", ".join(str(d) for d in dtypes.SUPPORTED)
        )
    if dtype is not None and array.dtype != dtype:
        return array.astype(dtype)
    return array.copy() if copy else array


def tensor(data, dtype=None, requires_grad: bool = False, *, device=None) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, scalars, arrays, tensors).

    >>> import ember as em
    >>> em.tensor([[1, 2], [3, 4]], dtype=em.float64)
    tensor([[1., 2.],
            [3., 4.]], dtype=float64)
    """
    check_device(device, "tensor")
    return Tensor._wrap(_as_array(data, dtype, copy=True)).requires_grad_(requires_grad)


def as_tensor(data, dtype=None, *, device=None) -> Tensor:
    """Like :func:`tensor` but shares memory with an array of the right dtype."""
    check_device(device, "as_tensor")
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtypes.as_dtype(dtype)):
        return data
    return Tensor._wrap(_as_array(data, dtype))


def from_numpy(array: np.ndarray, *, device=None) -> Tensor:
    """A tensor sharing memory with ``array`` (changes to one show in the other)."""
    check_device(device, "from_numpy")
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy(): expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._wrap(_as_array(array))


def _size(size, op: str) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    try:
        size = tuple(builtins.int(s) for s in size)
    except TypeError:
        raise TypeError(f"{op}(): size must be ints, got {size!r}") from None
    if builtins.any(s < 0 for s in size):
        raise ValueError(f"{op}(): negative dimension in size {size}")
    return size


def _float_dtype(dtype) -> np.dtype:
    return dtypes.as_dtype(dtype) or dtypes.get_default_dtype()


def _leaf(array, requires_grad: bool) -> Tensor:
    return Tensor._wrap(array).requires_grad_(requires_grad)


def zeros(*size, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A tensor of zeros of the given size."""
    check_device(device, "zeros")
    return _leaf(np.zeros(_size(size, "zeros"), _float_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A tensor of ones of the given size."""
    check_device(device, "ones")
    return _leaf(np.ones(_size(size, "ones"), _float_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """An uninitialised tensor of the given size (its values are arbitrary)."""
    check_device(device, "empty")
    return _leaf(np.empty(_size(size, "empty"), _float_dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad: bool = False, *, device=None) -> Tensor:
    """A tensor of the given size filled with ``fill_value`` (dtype inferred from it)."""
    check_device(device, "full")
    if dtype is None:
        dtype = dtypes.result_type(np.empty((0,), dtypes.bool_), fill_value) \
            if not isinstance(fill_value, builtins.bool) else dtypes.bool_
    size = _size((size,) if isinstance(size, builtins.int) else tuple(size), "full")
    return _leaf(np.full(size, fill_value, dtypes.as_dtype(dtype)), requires_grad)


def _like(input, dtype):
    data = input._data if isinstance(input, Tensor) else np.asarray(input)
    return data.shape, dtypes.as_dtype(dtype) or data.dtype


def zeros_like(input, dtype=None, requires_grad: bool = False, *, device=None) -> Tensor:
    check_device(device, "zeros_like")
    shape, dtype = _like(input, dtype)
    return _leaf(np.zeros(shape, dtype), requires_grad)


def ones_like(input, dtype=None, requires_grad: bool = False, *, device=None) -> Tensor:
    check_device(device, "ones_like")
    shape, dtype = _like(input, dtype)
    return _leaf(np.ones(shape, dtype), requires_grad)


def empty_like(input, dtype=None, requires_grad: bool = False, *, device=None) -> Tensor:
    check_device(device, "empty_like")
    shape, dtype = _like(input, dtype)
    return _leaf(np.empty(shape, dtype), requires_grad)


def full_like(input, fill_value, dtype=None, requires_grad: bool = False, *,
              device=None) -> Tensor:
    check_device(device, "full_like")
    shape, dtype = _like(input, dtype)
    return _leaf(np.full(shape, fill_value, dtype), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False, *,
           device=None) -> Tensor:
    """Values from ``start`` up to (not including) ``end`` in steps of ``step``.

    Integers give int64, any float gives the default float dtype (as in PyTorch).
    """
    check_device(device, "arange")
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange(): step must be nonzero")
    if dtype is None:
        integral = builtins.all(isinstance(v, (builtins.int, np.integer)) for v in (start, end,
                                                                                   step))
        dtype = dtypes.int64 if integral else dtypes.get_default_dtype()
    dtype = dtypes.as_dtype(dtype)
    count = builtins.max(0, int(np.ceil((end - start) / step)))
    values = start + step * np.arange(count, dtype=np.float64 if dtype.kind == "f" else None)
    return _leaf(values.astype(dtype), requires_grad)


def linspace(start, end, steps: int, dtype=None, requires_grad: bool = False, *,
             device=None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    check_device(device, "linspace")
    return _leaf(np.linspace(start, end, steps).astype(_float_dtype(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False, *,
        device=None) -> Tensor:
    """The n x m identity matrix (square by default)."""
    check_device(device, "eye")
    return _leaf(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


# ---------------------------------------------------------------------------- random


def rand(*size, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Samples of U(0, 1) of the given size."""
    check_device(device, "rand")
    dtype = _float_dtype(dtype)
    values = random.generator().random(_size(size, "rand"), dtype=_draw(dtype))
    return _leaf(values.astype(dtype, copy=False), requires_grad)


def randn(*size, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Samples of the standard normal N(0, 1) of the given size."""
    check_device(device, "randn")
    dtype = _float_dtype(dtype)
    values = random.generator().standard_normal(_size(size, "randn"), dtype=_draw(dtype))
    return _leaf(values.astype(dtype, copy=False), requires_grad)


def _draw(dtype):
    return dtype if dtype in (dtypes.float32, dtypes.float64) else dtypes.float64


def rand_like(input, dtype=None, requires_grad: bool = False, *, device=None) -> Tensor:
    check_device(device, "rand_like")
    shape, dtype = _like(input, dtype)
    return rand(shape, dtype=dtype, requires_grad=requires_grad)


def randn_like(input, dtype=None, requires_grad: bool = False, *, device=None) -> Tensor:
    check_device(device, "randn_like")
    shape, dtype = _like(input, dtype)
    return randn(shape, dtype=dtype, requires_grad=requires_grad)


def randint(low, high=None, size=None, dtype=None, *, requires_grad: bool = False,
            device=None) -> Tensor:
    """Random integers in [low, high): ``randint(high, size)`` or ``randint(low, high, size)``.

    ``requires_grad=False`` is accepted (integers cannot require gradients, as in PyTorch).
    """
    check_device(device, "randint")
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:  # randint(high, size=size)
        low, high = 0, low
    if size is None:
        raise TypeError("randint(): missing the size argument, e.g. randint(10, (3,))")
    if high <= low:
        raise ValueError(f"randint(): high ({high}) must be greater than low ({low})")
    dtype = dtypes.as_dtype(dtype) or dtypes.int64
    size = _size((size,) if isinstance(size, builtins.int) else tuple(size), "randint")
    return _leaf(random.generator().integers(low, high, size).astype(dtype), requires_grad)


def randperm(n: int, dtype=None, *, requires_grad: bool = False, device=None) -> Tensor:
    """A random permutation of 0..n-1."""
    check_device(device, "randperm")
    permutation = random.generator().permutation(n)
    return _leaf(permutation.astype(dtypes.as_dtype(dtype) or dtypes.int64), requires_grad)


def normal(mean: float, std: float, size, dtype=None, requires_grad: bool = False, *,
           device=None) -> Tensor:
    """Samples of N(mean, std^2) of the given size."""
    check_device(device, "normal")
    return randn(size, dtype=dtype).mul_(std).add_(mean).requires_grad_(requires_grad)


def bernoulli(p, size=None, dtype=None, *, device=None) -> Tensor:
    """1 with probability ``p`` (a number or a tensor of probabilities), else 0."""
    check_device(device, "bernoulli")
    probabilities = p._data if isinstance(p, Tensor) else np.asarray(p, dtype=np.float64)
    shape = probabilities.shape if size is None else tuple(size)
    draws = random.generator().random(shape) < probabilities
    dtype = dtypes.as_dtype(dtype) or (p.dtype if isinstance(p, Tensor)
                                       else dtypes.get_default_dtype())
    return Tensor._wrap(draws.astype(dtype))
