"""``em.utils.data``: the data pipeline under PyTorch's path, ``torch.utils.data``.

The same objects as :mod:`ember.data` (where ember keeps them, beside the transforms);
``torch.utils.data``'s submodules (``dataloader``, ``dataset``, ``sampler``) resolve too:

>>> import ember as em
>>> from ember.utils.data import DataLoader, TensorDataset
>>> from ember.utils.data.dataloader import default_collate
>>> DataLoader is em.data.DataLoader
True
>>> loader = DataLoader(TensorDataset(em.arange(6.0).reshape(3, 2)), batch_size=2)
>>> [batch[0].shape for batch in loader]
[(2, 2), (1, 2)]
"""

import sys as _sys

from ember.data import *  # noqa: F403
from ember.data import __all__ as _names
from ember.data import dataloader, dataset, sampler

__all__ = [*_names, "dataloader", "dataset", "sampler"]

for _module in (dataloader, dataset, sampler):  # `import torch.utils.data.sampler` works too
    _sys.modules[f"{__name__}.{_module.__name__.rpartition('.')[2]}"] = _module
del _module
