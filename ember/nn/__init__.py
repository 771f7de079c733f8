"""Neural-network building blocks: Module, layers, activations, losses, initialisers.

>>> import ember as em
>>> model = em.nn.Sequential(em.nn.Linear(4, 8), em.nn.ReLU(), em.nn.Linear(8, 3))
>>> sum(p.numel() for p in model.parameters())
67
"""

from ember.nn.module import Module, Parameter  # noqa: I001
from ember.nn import functional, init, regularization, utils
from ember.nn.container import (
    Identity,
    ModuleDict,
    ModuleList,
    ParameterList,
    Sequential,
)
from ember.nn.layers import *  # noqa: F403
from ember.nn import parallel  # noqa: E402  (DistributedDataParallel)
from ember.nn import modules, parameter  # noqa: E402  (PyTorch's paths; after the layers)
