"""``em.backends.cudnn``: the cuDNN flags PyTorch code sets; kept, without effect.

ember has no cuDNN; its CPU kernels are deterministic whatever ``deterministic`` and
``benchmark`` say.
"""

enabled = True
deterministic = False
benchmark = False
allow_tf32 = True


def is_available() -> bool:
    """Whether cuDNN can be used: never, in ember."""
    return False


def version():
    """cuDNN's version: None, as PyTorch says when cuDNN is absent."""
    return None
