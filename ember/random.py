"""The global random generator: ``manual_seed(n)`` makes every random draw repeatable.

Every random function in ember (``rand``, ``randn``, layer initialisation, dropout masks,
``DataLoader`` shuffling, augmentation) draws from :func:`generator`, a NumPy ``Generator``
(PCG64). As in PyTorch, the generator starts from a fixed seed, so a fresh process is
already repeatable; ``manual_seed`` restarts it.
"""

from __future__ import annotations

import numpy as np

DEFAULT_SEED = 67280421310721  # PyTorch's default CPU seed

_generator = np.random.Generator(np.random.PCG64(DEFAULT_SEED))
_seed = DEFAULT_SEED


def manual_seed(seed: int) -> np.random.Generator:
    """Restart the global generator from ``seed``; returns it.

    >>> import ember as em
    >>> _ = em.manual_seed(0); a = em.rand(3)
    >>> _ = em.manual_seed(0); b = em.rand(3)
    >>> bool((a == b).all())
    True
    """
    global _generator, _seed
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed expects an int, got {type(seed).__name__}")
    _seed = int(seed) % 2**64
    _generator = np.random.Generator(np.random.PCG64(_seed))
    return _generator


seed = manual_seed


def initial_seed() -> int:
    """The seed the global generator was last started from."""
    return _seed


def generator() -> np.random.Generator:
    """The global generator (use it for any random draw that must follow ``manual_seed``)."""
    return _generator


def get_rng_state() -> dict:
    """The generator's full state, a JSON-able dict (for checkpoints that resume exactly)."""
    return _generator.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state returned by :func:`get_rng_state`."""
    _generator.bit_generator.state = state
