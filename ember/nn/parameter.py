"""``torch.nn.parameter``'s path: :class:`Parameter` (defined in :mod:`ember.nn.module`)."""

from ember.nn.module import Parameter

__all__ = ["Parameter"]
