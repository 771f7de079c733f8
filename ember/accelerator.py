"""``em.accelerator``: PyTorch's device-agnostic queries (``torch.accelerator``).

ember computes on the CPU, which is not an accelerator: ``is_available()`` is False and
``current_accelerator()`` is None, so device-agnostic code falls back to the CPU:

>>> import ember as em
>>> acc = em.accelerator.current_accelerator()
>>> em.device(acc if em.accelerator.is_available() else "cpu")
device(type='cpu')
"""

from __future__ import annotations

from ember.devices import DeviceError

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index",
           "set_device_index", "synchronize"]


def is_available() -> bool:
    """Whether an accelerator (CUDA, MPS, XPU, ...) can be used: never, in ember."""
    return False


def current_accelerator(check_available: bool = False):
    """The accelerator's device type, or None when there is none (always, in ember)."""
    return None


def device_count() -> int:
    """The number of accelerator devices: 0."""
    return 0


def current_device_index() -> int:
    raise DeviceError("accelerator.current_device_index(): ember has no accelerator")


def set_device_index(device) -> None:
    raise DeviceError("accelerator.set_device_index(): ember has no accelerator")


def synchronize(device=None) -> None:
    raise DeviceError("accelerator.synchronize(): ember has no accelerator")
