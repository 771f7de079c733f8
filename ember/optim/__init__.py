"""Optimisers and learning-rate schedules, with PyTorch's names, arguments and state.

Each optimiser follows its ``torch.optim`` namesake step for step (the tests compare
whole trajectories in float64), keeps float32 parameters in float32, and saves its state
as tensors and numbers.

>>> import ember as em
>>> model = em.nn.Linear(3, 1)
>>> opt = em.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
>>> scheduler = em.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
>>> x, y = em.randn(8, 3), em.randn(8, 1)
>>> for epoch in range(2):
...     opt.zero_grad()
...     loss = ((model(x) - y) ** 2).mean()
...     loss.backward()
...     opt.step()
...     scheduler.step()
>>> scheduler.get_last_lr()
[0.1]
"""

from ember.optim import lr_scheduler
from ember.optim.adadelta import Adadelta
from ember.optim.adagrad import Adagrad
from ember.optim.adam import Adam, AdamW
from ember.optim.adamax import Adamax
from ember.optim.lbfgs import LBFGS
from ember.optim.nadam import NAdam
from ember.optim.optimizer import Optimizer
from ember.optim.radam import RAdam
from ember.optim.rmsprop import RMSprop
from ember.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "Adamax",
           "NAdam", "RAdam", "lr_scheduler", "LBFGS"]
