"""``em.backends``: PyTorch's backend switches and queries (``torch.backends``).

``mps.is_available()`` and ``cudnn.is_available()`` are False; the cuDNN flags that
seeding code sets (``cudnn.deterministic = True``, ``cudnn.benchmark = False``) are
plain attributes, kept but without effect, since ember's CPU kernels are deterministic.

>>> import ember as em
>>> em.backends.mps.is_available(), em.backends.cudnn.is_available()
(False, False)
>>> em.backends.cudnn.deterministic = True
"""

from ember.backends import cudnn, mps

__all__ = ["cudnn", "mps"]
