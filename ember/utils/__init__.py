"""``em.utils``: PyTorch's ``torch.utils`` paths (``em.utils.data`` is :mod:`ember.data`)."""

from ember.utils import data

__all__ = ["data"]
