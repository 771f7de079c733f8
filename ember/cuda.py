"""``em.cuda``: the queries PyTorch code makes about CUDA, answered for a CPU framework.

ember has no GPU backend, so ``is_available()`` is False and ``device_count()`` is 0. The
seeding calls that PyTorch queues until CUDA starts (``manual_seed_all``) do nothing, as
they do in a CPU build of PyTorch; calls that need a GPU raise a DeviceError.

>>> import ember as em
>>> em.cuda.is_available(), em.cuda.device_count()
(False, 0)
>>> em.cuda.manual_seed_all(0)           # common in seeding code: a no-op without CUDA
"""

from __future__ import annotations

from ember.devices import DeviceError

__all__ = ["is_available", "device_count", "is_initialized", "manual_seed", "manual_seed_all",
           "seed", "seed_all", "empty_cache", "synchronize", "current_device", "set_device",
           "get_device_name"]


def is_available() -> bool:
    """Whether a CUDA GPU can be used: never, in ember."""
    return False


def device_count() -> int:
    """The number of CUDA GPUs: 0."""
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """Seed the current GPU's generator: nothing to seed without CUDA (as PyTorch)."""


def manual_seed_all(seed: int) -> None:
    """Seed every GPU's generator: nothing to seed without CUDA (as PyTorch)."""


def seed() -> None:
    """Seed the current GPU's generator randomly: nothing to seed without CUDA."""


def seed_all() -> None:
    """Seed every GPU's generator randomly: nothing to seed without CUDA."""


def empty_cache() -> None:
    """Release cached GPU memory: there is none."""


def _no_cuda(op: str):
    raise DeviceError(f"cuda.{op}(): ember has no CUDA device; it computes on the CPU "
                      "(em.cuda.is_available() is False)")


def synchronize(device=None) -> None:
    _no_cuda("synchronize")


def current_device() -> int:
    _no_cuda("current_device")


def set_device(device) -> None:
    _no_cuda("set_device")


def get_device_name(device=None) -> str:
    _no_cuda("get_device_name")
