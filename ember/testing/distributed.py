"""A process group of one process that needs no MPI, for checking synchronised ops.

Ops that synchronise across ranks (SyncBatchNorm's primitive) talk to their group only
through ``size()``, ``all_gather_array`` and ``all_reduce_array``. With
:class:`SingleProcessGroup` they run in one process, where they must equal their
unsynchronised versions (``sync_batch_norm`` is ``batch_norm``), and gradcheck applies.

>>> import numpy as np
>>> SingleProcessGroup().all_gather_array(np.arange(3)).tolist()
[[0, 1, 2]]
"""

from __future__ import annotations

import numpy as np


class SingleProcessGroup:
    """The collectives of a group whose only rank is this process."""

    def size(self) -> int:
        return 1

    def rank(self) -> int:
        return 0

    def all_gather_array(self, array: np.ndarray, what: str = "all_gather") -> np.ndarray:
        return np.array(array)[None]

    def all_reduce_array(self, array: np.ndarray, what: str = "all_reduce") -> None:
        pass  # the sum over one rank
