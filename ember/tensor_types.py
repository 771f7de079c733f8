"""The legacy typed constructors: ``em.FloatTensor``, ``em.LongTensor``, ... (``torch.*Tensor``).

Each is a tensor type bound to one dtype. Called with data it builds a tensor of that
dtype; called with sizes (ints or a Size) it builds an uninitialised one; ``isinstance``
asks whether a tensor has that dtype; ``x.type(em.LongTensor)`` converts.

>>> import ember as em
>>> em.LongTensor([1, 2])
tensor([1, 2])
>>> em.FloatTensor(2, 3).shape
(2, 3)
>>> isinstance(em.randn(2), em.FloatTensor), isinstance(em.randn(2), em.LongTensor)
(True, False)
>>> em.ones(2).type(em.IntTensor).dtype, em.ones(2).type()
(dtype('int32'), 'ember.FloatTensor')
"""

from __future__ import annotations

import builtins

import numpy as np

from ember import dtypes

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor",
           "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"]


def is_sizes(args: tuple) -> builtins.bool:
    """Whether constructor arguments are sizes (``(2, 3)``, or one Size) rather than data."""
    from ember.size import Size

    if len(args) == 1 and isinstance(args[0], Size):
        return True
    return builtins.all(isinstance(a, (builtins.int, np.integer))
                        and not isinstance(a, builtins.bool) for a in args)


class _TensorType(type):
    """The metaclass: calling a typed constructor builds a Tensor of its dtype."""

    dtype: np.dtype

    def __call__(cls, *args, device=None):
        from ember import creation
        from ember.devices import check_device

        check_device(device, cls.__name__)
        if is_sizes(args):
            size = tuple(args[0]) if len(args) == 1 and isinstance(args[0], tuple) else args
            size = size if args else (0,)
            return creation.empty(*size, dtype=cls.dtype)
        if len(args) != 1:
            raise TypeError(f"{cls.__name__}(): expected sizes (ints) or one sequence of data, "
                            f"got {len(args)} arguments")
        from ember.tensor import Tensor

        data = args[0]
        if isinstance(data, Tensor) and data.dtype != cls.dtype:
            raise TypeError(f"{cls.__name__}(): expected a tensor of dtype {cls.dtype}, got "
                            f"{data.dtype}; convert it with .type({cls.__name__})")
        return creation.tensor(data, dtype=cls.dtype)

    def __instancecheck__(cls, instance) -> builtins.bool:
        from ember.tensor import Tensor

        return isinstance(instance, Tensor) and instance.dtype == cls.dtype

    def __repr__(cls) -> str:
        return f"<class 'ember.{cls.__name__}'>"


def _tensor_type(name: str, dtype: np.dtype) -> type:
    return _TensorType(name, (), {"dtype": dtype, "__module__": "ember",
                                  "__doc__": f"A tensor of dtype {dtype} (``torch.{name}``)."})


FloatTensor = _tensor_type("FloatTensor", dtypes.float32)
DoubleTensor = _tensor_type("DoubleTensor", dtypes.float64)
HalfTensor = _tensor_type("HalfTensor", dtypes.float16)
LongTensor = _tensor_type("LongTensor", dtypes.int64)
IntTensor = _tensor_type("IntTensor", dtypes.int32)
ShortTensor = _tensor_type("ShortTensor", dtypes.int16)
CharTensor = _tensor_type("CharTensor", dtypes.int8)
ByteTensor = _tensor_type("ByteTensor", dtypes.uint8)
BoolTensor = _tensor_type("BoolTensor", dtypes.bool_)

_BY_DTYPE = {t.dtype: t for t in (FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor,
                                  ShortTensor, CharTensor, ByteTensor, BoolTensor)}
_BY_NAME = {t.__name__: t for t in _BY_DTYPE.values()}


def type_name(dtype: np.dtype) -> str:
    """``'ember.FloatTensor'`` for float32, and so on (what ``x.type()`` returns)."""
    return f"ember.{_BY_DTYPE[dtype].__name__}"


def dtype_of_name(name: str):
    """The dtype of ``'ember.FloatTensor'``, ``'torch.LongTensor'`` or ``'LongTensor'``; any
    other string (``'float32'``) is returned as it is, for :func:`ember.dtypes.as_dtype`."""
    short = name.rpartition(".")[2]
    if short in _BY_NAME and name.partition(".")[0] in ("ember", "torch", short):
        return _BY_NAME[short].dtype
    return name
