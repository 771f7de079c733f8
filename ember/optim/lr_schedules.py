"""The fixed schedules: the rate as a function of the epoch (decays, warm-ups, cosines).

They are re-exported by :mod:`ember.optim.lr_scheduler`, where the base class is
documented; each uses PyTorch's recursive (chainable) form, plus the closed form that
``SequentialLR`` and ``step(epoch)`` use.
"""

from __future__ import annotations

import math
import types
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable
from typing import Any

from ember.optim.lr_scheduler import LRScheduler
from ember.optim.optimizer import Optimizer


class _LambdaScheduler(LRScheduler):
    """Shared by LambdaLR and MultiplicativeLR: one function per group."""

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1) -> None:
        self.optimizer = optimizer
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != len(optimizer.param_groups):
                raise ValueError(f"Expected {len(optimizer.param_groups)} lr_lambdas, but got "
                                 f"{len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * len(optimizer.param_groups)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def state_dict(self) -> dict[str, Any]:
        """As the base, with each lambda saved as its ``__dict__`` when it is a callable
        object (functions and lambdas are not saved: recreate them)."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else dict(fn.__dict__)
                               for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state_dict = dict(state_dict)
        lr_lambdas = state_dict.pop("lr_lambdas")
        self.__dict__.update(state_dict)
        for fn, saved in zip(self.lr_lambdas, lr_lambdas, strict=True):
            if saved is not None:
                fn.__dict__.update(saved)


class LambdaLR(_LambdaScheduler):
    """Set each group's rate to its initial rate times ``lr_lambda(epoch)``.

    .. math::  lr_t = lr_0 \\cdot \\lambda(t)

    Args:
        optimizer (Optimizer): wrapped optimiser.
        lr_lambda (callable or list): a function of the epoch, or one per group.
        last_epoch (int): index of the last epoch. Default: -1.

    >>> import ember as em
    >>> opt = em.optim.SGD([em.zeros(1, requires_grad=True)], lr=1.0)
    >>> scheduler = em.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 1 / (epoch + 1))
    >>> opt.step(); scheduler.step(); scheduler.get_last_lr()
    [0.5]
    """

    def get_lr(self) -> list[float]:
        return [base_lr * fn(self.last_epoch)
                for fn, base_lr in zip(self.lr_lambdas, self.base_lrs, strict=True)]


class MultiplicativeLR(_LambdaScheduler):
    """Multiply each group's rate by ``lr_lambda(epoch)`` at every step after the first.

    .. math::  lr_t = lr_{t-1} \\cdot \\lambda(t)

    Args:
        optimizer (Optimizer): wrapped optimiser.
        lr_lambda (callable or list): a function of the epoch, or one per group.
        last_epoch (int): index of the last epoch. Default: -1.

    >>> import ember as em
    >>> opt = em.optim.SGD([em.zeros(1, requires_grad=True)], lr=1.0)
    >>> scheduler = em.optim.lr_scheduler.MultiplicativeLR(opt, lambda epoch: 0.5)
    >>> opt.step(); scheduler.step(); scheduler.step(); scheduler.get_last_lr()
    [0.25]
    """

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        return [group["lr"] * fn(self.last_epoch)
                for fn, group in zip(self.lr_lambdas, self.optimizer.param_groups, strict=True)]


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs.

    .. math::  lr_t = lr_0 \\cdot \\gamma^{\\lfloor t / step\\_size \\rfloor}

    Args:
        optimizer (Optimizer): wrapped optimiser.
        step_size (int): period of the decay, in epochs.
        gamma (float): multiplicative factor. Default: 0.1.
        last_epoch (int): index of the last epoch. Default: -1.

    >>> import ember as em
    >>> opt = em.optim.SGD([em.zeros(1, requires_grad=True)], lr=1.0)
    >>> scheduler = em.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    >>> opt.step(); scheduler.step(); scheduler.get_last_lr()
    [0.5]
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size)
                for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the rate by ``gamma`` at each milestone epoch.

    .. math::  lr_t = lr_0 \\cdot \\gamma^{|\\{m \\in milestones : m \\le t\\}|}

    Args:
        optimizer (Optimizer): wrapped optimiser.
        milestones (list[int]): epochs at which to decay (a repeated one decays twice).
        gamma (float): multiplicative factor. Default: 0.1.
        last_epoch (int): index of the last epoch. Default: -1.

    >>> import ember as em
    >>> opt = em.optim.SGD([em.zeros(1, requires_grad=True)], lr=1.0)
    >>> scheduler = em.optim.lr_scheduler.MultiStepLR(opt, milestones=[1], gamma=0.5)
    >>> opt.step(); scheduler.step(); scheduler.get_last_lr()
    [0.5]
    """

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch not in self.milestones:
            return self._current_lrs()
        factor = self.gamma ** self.milestones[self.last_epoch]
        return [group["lr"] * factor for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        milestones = sorted(self.milestones.elements())
        return [base_lr * self.gamma ** bisect_right(milestones, self.last_epoch)
                for base_lr in self.base_lrs]

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self.milestones = Counter({int(k): v for k, v in dict(self.milestones).items()})


class ConstantLR(LRScheduler):
    """Multiply the rate by ``factor`` until epoch ``total_iters``, then restore it.

    Args:
        optimizer (Optimizer): wrapped optimiser.
        factor (float): the factor, in [0, 1]. Default: 1/3.
        total_iters (int): how many epochs the factor applies. Default: 5.
        last_epoch (int): index of the last epoch. Default: -1.

    >>> import ember as em
    >>> opt = em.optim.SGD([em.zeros(1, requires_grad=True)], lr=1.0)
    >>> scheduler = em.optim.lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=1)
    >>> opt.step(); scheduler.step(); scheduler.get_last_lr()   # restored at epoch 1
    [1.0]
    """

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        if factor > 1.0 or factor < 0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [group["lr"] * self.factor for group in self.optimizer.param_groups]
        if self.last_epoch != self.total_iters:
            return self._current_lrs()
        return [group["lr"] * (1.0 / self.factor) for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the rate by a factor going linearly from ``start_factor`` to ``end_factor``
    over ``total_iters`` epochs (a warm-up when start < end).

    .. math::  lr_t = lr_0 \\cdot (s + (e - s) \\min(t, T) / T)

    Args:
        optimizer (Optimizer): wrapped optimiser.
        start_factor (float): the factor at epoch 0, in (0, 1]. Default: 1/3.
        end_factor (float): the factor from epoch ``total_iters`` on, in [0, 1]. Default: 1.
        total_iters (int): length of the ramp, in epochs. Default: 5.
        last_epoch (int): index of the last epoch. Default: -1.

    >>> import ember as em
    >>> opt = em.optim.SGD([em.zeros(1, requires_grad=True)], lr=1.0)
    >>> scheduler = em.optim.lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=2)
    >>> opt.step(); scheduler.step(); scheduler.get_last_lr()
    [0.75]
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1) -> None:
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 "
                             "and less or equal to 1.")
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [group["lr"] * self.start_factor for group in self.optimizer.param_groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current_lrs()
        change = self.end_factor - self.start_factor
        factor = 1.0 + change / (self.total_iters * self.start_factor
                                 + (self.last_epoch - 1) * change)
        return [group["lr"] * factor for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        change = self.end_factor - self.start_factor
        return [base_lr * (self.start_factor
                           + change * min(self.total_iters, self.last_epoch) / self.total_iters)
                for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch: :math:`lr_t = lr_0 \\gamma^t`.

    Args:
        optimizer (Optimizer): wrapped optimiser.
        gamma (float): multiplicative factor.
        last_epoch (int): index of the last epoch. Default: -1.

    >>> import ember as em
    >>> opt = em.optim.SGD([em.zeros(1, requires_grad=True)], lr=1.0)
    >>> scheduler = em.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
    >>> opt.step(); scheduler.step(); scheduler.get_last_lr()
    [0.9]
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    """Decay the rate to 0 over ``total_iters`` epochs along a polynomial.

    .. math::  lr_t = lr_0 (1 - \\min(t, T) / T)^{power}

    Args:
        optimizer (Optimizer): wrapped optimiser.
        total_iters (int): epochs until the rate reaches 0. Default: 5.
        power (float): the polynomial's power. Default: 1.0.
        last_epoch (int): index of the last epoch. Default: -1.

    >>> import ember as em
    >>> opt = em.optim.SGD([em.zeros(1, requires_grad=True)], lr=1.0)
    >>> scheduler = em.optim.lr_scheduler.PolynomialLR(opt, total_iters=4, power=2.0)
    >>> opt.step(); scheduler.step(); scheduler.get_last_lr()   # (1 - 1/4)^2
    [0.5625]
    """

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0,
                 last_epoch: int = -1) -> None:
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current_lrs()
        factor = ((1.0 - self.last_epoch / self.total_iters)
                  / (1.0 - (self.last_epoch - 1) / self.total_iters)) ** self.power
        return [group["lr"] * factor for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters)
                ** self.power for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Anneal the rate along a cosine from its initial value to ``eta_min`` in ``T_max``
    epochs (and back up over the next ``T_max``), as in SGDR without restarts.

    .. math::  lr_t = \\eta_{min} + (lr_0 - \\eta_{min})(1 + \\cos(\\pi t / T_{max})) / 2

    computed recursively, as PyTorch does, so that other changes to the rate compose:

    .. math::  lr_t = \\eta_{min} + (lr_{t-1} - \\eta_{min})
               \\frac{1 + \\cos(\\pi t / T_{max})}{1 + \\cos(\\pi (t-1) / T_{max})}

    From Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts" (2016).

    Args:
        optimizer (Optimizer): wrapped optimiser.
        T_max (int): half period, in epochs.
        eta_min (float): the minimum rate. Default: 0.
        last_epoch (int): index of the last epoch. Default: -1.

    >>> import ember as em
    >>> opt = em.optim.SGD([em.zeros(1, requires_grad=True)], lr=1.0)
    >>> scheduler = em.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=2)
    >>> opt.step(); scheduler.step(); scheduler.get_last_lr()
    [0.5]
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, t_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if self._step_count == 1 and t > 0:
            return [eta_min + (base_lr - eta_min) * (1 + math.cos(t * math.pi / t_max)) / 2
                    for base_lr in self.base_lrs]
        if (t - 1 - t_max) % (2 * t_max) == 0:
            return [group["lr"] + (base_lr - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
                    for base_lr, group in zip(self.base_lrs, self.optimizer.param_groups,
                                              strict=True)]
        ratio = (1 + math.cos(math.pi * t / t_max)) / (1 + math.cos(math.pi * (t - 1) / t_max))
        return [ratio * (group["lr"] - eta_min) + eta_min
                for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [self.eta_min + (base_lr - self.eta_min)
                * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing restarted every ``T_i`` epochs, the period growing by ``T_mult``.

    .. math::  lr = \\eta_{min} + (lr_0 - \\eta_{min})(1 + \\cos(\\pi T_{cur} / T_i)) / 2

    From Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts" (2016).
    ``step(epoch)`` accepts a fractional epoch (e.g. ``epoch + i / iters``).

    Args:
        optimizer (Optimizer): wrapped optimiser.
        T_0 (int): epochs until the first restart.
        T_mult (int): factor by which the period grows after each restart. Default: 1.
        eta_min (float): the minimum rate. Default: 0.
        last_epoch (int): index of the last epoch. Default: -1.

    >>> import ember as em
    >>> opt = em.optim.SGD([em.zeros(1, requires_grad=True)], lr=1.0)
    >>> scheduler = em.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2)
    >>> opt.step(); scheduler.step(); scheduler.get_last_lr()
    [0.5]
    """

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        if not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(f"Expected float or int eta_min, but got {eta_min} of type "
                             f"{type(eta_min)}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        cosine = (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
        return [self.eta_min + (base_lr - self.eta_min) * cosine for base_lr in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"Expected non-negative epoch, but got {epoch}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult**n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = self._current_lrs()
