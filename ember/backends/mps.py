"""``em.backends.mps``: Apple's Metal backend, which ember does not have."""


def is_available() -> bool:
    """Whether the MPS device can be used: never, in ember."""
    return False


def is_built() -> bool:
    """Whether ember was built with MPS support: no."""
    return False
