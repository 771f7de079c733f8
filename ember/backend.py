"""The array module (``xp``) behind a tensor: NumPy today, any NumPy-compatible module later.

Ops never call ``np.`` directly; they receive ``xp``, the module of their inputs' arrays,
so that a CuPy array module can be plugged in without touching op code (as in Chainer).
"""

from __future__ import annotations

import numpy as np


def get_array_module(*arrays):
    """The array module of the first non-NumPy array among ``arrays``, else NumPy.

    >>> import numpy as np
    >>> get_array_module(np.zeros(2), 3.0) is np
    True
    """
    for a in arrays:
        if type(a) is not np.ndarray and hasattr(a, "__array_namespace__"):
            module = type(a).__module__.split(".")[0]
            if module != "numpy":
                return __import__(module)
    return np


# ----------------------------------------------------------------------------- memory

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters


def keep_freed_memory(enable: bool = True) -> bool:
    """Let the C allocator keep freed array memory for reuse (glibc only); whether it did.

    A training step allocates and frees the same large arrays (activations, columns,
    gradients) every time. By default glibc gives every block over 128 kB back to the
    system when it is freed, so the next step pays a page fault for every 4 kB of its
    arrays again (a quarter of a LeNet-5 step at batch 256). Raising the mmap threshold
    to its maximum (32 MB) and the trim threshold to 1 GB keeps that memory in the
    process, as PyTorch's caching allocator does: the resident size stays at its peak
    instead of falling between steps. ember does this on import unless the environment
    variable ``EMBER_KEEP_MEMORY=0`` is set; ``keep_freed_memory(False)`` sets both back to
    glibc's initial 128 kB (without its dynamic adjustment, which an explicit setting
    turns off).
    """
    import ctypes
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mmap, trim = (32 << 20, 1 << 30) if enable else (128 << 10, 128 << 10)
    return bool(mallopt(_M_MMAP_THRESHOLD, mmap)) and bool(mallopt(_M_TRIM_THRESHOLD, trim))
