"""Devices: where a tensor's memory lives. ember computes on the CPU.

:class:`device` names a device as ``torch.device`` does (``device("cpu")``,
``device("cuda:1")``, ``device("cuda", 0)``); every tensor reports ``device(type='cpu')``.
A device that ember does not have can be *named* (so the usual idiom builds), but asking
for memory on it is a :class:`DeviceError` naming the device:

>>> import ember as em
>>> device = em.device("cuda" if em.cuda.is_available() else "cpu")
>>> em.zeros(2, device=device).device
device(type='cpu')
>>> em.zeros(2, device="cuda")
Traceback (most recent call last):
    ...
ember.devices.DeviceError: zeros(): ember has no 'cuda' device; it computes on the CPU ...
"""

from __future__ import annotations

import builtins

__all__ = ["device", "DeviceError", "as_device", "check_device", "available",
           "get_default_device", "set_default_device", "parse_to"]

# the device types PyTorch knows, so that a misspelt one is an error at once, as there
_KNOWN_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip",
                "ve", "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                "privateuseone")


class DeviceError(RuntimeError):
    """A device ember does not have was asked for (PyTorch raises a RuntimeError or, for
    CUDA, an AssertionError; ``except RuntimeError`` catches this one)."""


class device:
    """A device name: a type (``"cpu"``, ``"cuda"``, ``"mps"``, ...) and an optional index.

    Args:
        type: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ... or another device.
        index: the device's number (``device("cuda", 1)``), or None.

    >>> import ember as em
    >>> em.device("cuda:1")
    device(type='cuda', index=1)
    >>> str(em.device("cuda", 0)), em.device("cpu").type, em.device("cpu").index
    ('cuda:0', 'cpu', None)
    """

    __slots__ = ("type", "index")

    def __init__(self, type: str | device, index: int | None = None) -> None:
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device(): pass an index only with a device type string")
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, builtins.int) and not isinstance(type, builtins.bool):
            raise DeviceError(f"device({type}): an index alone names an accelerator, and "
                              "ember has none (use device('cpu'))")
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a string or a device, got "
                            f"{builtins.type(type).__name__}")
        name, sep, number = type.partition(":")
        if name not in _KNOWN_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_KNOWN_TYPES)} device type at "
                               f"start of device string: {type}")
        if sep:
            if index is not None:
                raise RuntimeError(f"device(): type {type!r} already holds an index")
            if not number.isdigit():
                raise RuntimeError(f"Invalid device string: {type!r}")
            index = builtins.int(number)
        if index is not None and (not isinstance(index, builtins.int) or index < 0):
            raise RuntimeError(f"Device index must not be negative, got {index!r}")
        self.type, self.index = name, index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type={self.type!r})"
        return f"device(type={self.type!r}, index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        # as torch.device: equal only to a device of the same type and index (not to "cpu")
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))


CPU = device("cpu")


def available(dev: device) -> bool:
    """Whether ember can put memory on ``dev`` (only the CPU, with index None or 0)."""
    return dev.type == "cpu" and dev.index in (None, 0)


def as_device(spec) -> device:
    """``spec`` (a string, a device, or None for the CPU) as a device ember has."""
    return check_device(spec, "device")


def check_device(spec, op: str) -> device:
    """The device ``spec`` names, or a :class:`DeviceError` naming ``op`` if ember lacks it.

    ``None`` is the default device, the CPU.
    """
    if spec is None:
        return CPU
    dev = spec if isinstance(spec, device) else device(spec)
    if not available(dev):
        if dev.type == "cpu":
            raise DeviceError(f"{op}(): ember has one CPU device, 'cpu' (got {str(dev)!r})")
        raise DeviceError(f"{op}(): ember has no {str(dev)!r} device; it computes on the CPU "
                          f"(em.{_query(dev.type)}() is False)")
    return CPU


def _query(kind: str) -> str:
    if kind == "mps":
        return "backends.mps.is_available"
    if kind == "cuda":
        return "cuda.is_available"
    return "accelerator.is_available"


def get_default_device() -> device:
    """The device factories use when given none: the CPU (``torch.get_default_device``)."""
    return CPU


def set_default_device(spec) -> None:
    """Set the default device: only the CPU (or None) is accepted, as it is the only one."""
    check_device(spec, "set_default_device")


def parse_to(args: tuple, kwargs: dict, op: str) -> tuple:
    """The (device, dtype, copy) that ``to(...)`` was asked for, as PyTorch reads its
    arguments: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)``, with
    ``non_blocking``/``memory_format`` accepted. The device is checked."""
    from ember.tensor import Tensor

    kwargs = dict(kwargs)
    dtype, dev = kwargs.pop("dtype", None), kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"{op}(): unexpected arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dtype, dev = a.dtype, a.device
        elif isinstance(a, (str, device)):
            dev = a
        elif not isinstance(a, builtins.bool):  # to(dtype, non_blocking, copy) positionally
            dtype = a
    return check_device(dev, op), dtype, copy
