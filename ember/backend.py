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
