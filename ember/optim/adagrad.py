"""Adagrad: per-coordinate learning rates from the sum of squared gradients."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ember.optim.optimizer import Optimizer, _check, _check_common
from ember.tensor import Tensor


class Adagrad(Optimizer):
    r"""Adagrad, as ``torch.optim.Adagrad``.

    The update, for each parameter :math:`\theta` with gradient :math:`g_t` at step t
    (the sum starts at ``initial_accumulator_value``)::

        if maximize:        g_t = -g_t
        if weight_decay:    g_t = g_t + weight_decay * theta_{t-1}
        clr = lr / (1 + (t - 1) * lr_decay)
        sum_t = sum_{t-1} + g_t^2
        theta_t = theta_{t-1} - clr * g_t / (sqrt(sum_t) + eps)

    From Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and
    Stochastic Optimization" (JMLR 2011).

    Args:
        params: tensors, or dicts of parameter groups.
        lr (float): learning rate. Default: 1e-2.
        lr_decay (float): learning-rate decay per step. Default: 0.
        weight_decay (float): L2 penalty (added to the gradient). Default: 0.
        initial_accumulator_value (float): starting value of the sum. Default: 0.
        eps (float): added to the denominator for stability. Default: 1e-10.
        maximize (bool): maximise the objective instead. Default: False.

    State per parameter: ``step``, ``sum`` (created with the optimiser, as in PyTorch).
    A group's own ``initial_accumulator_value`` is honoured (PyTorch 2.13 uses the
    constructor's value for every group).

    >>> import ember as em
    >>> w = em.tensor([3.0, -0.5], requires_grad=True)
    >>> opt = em.optim.Adagrad([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()                  # the first step is lr * sign(g): g / sqrt(g^2)
    >>> w
    tensor([ 2.9000, -0.4000], requires_grad=True)
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value,
                    "maximize": maximize}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _validate(self, options: dict) -> None:
        _check_common("Adagrad", options)
        _check("Adagrad", options["lr_decay"] >= 0.0,
               f"invalid lr_decay value {options['lr_decay']}")
        value = options["initial_accumulator_value"]
        _check("Adagrad", value >= 0.0, f"invalid initial_accumulator_value {value}")

    def _init_state(self, p: Tensor, group: dict) -> dict:
        state = self.state[p]
        if not state:
            state["step"] = 0
            state["sum"] = Tensor._wrap(np.full_like(p._data, group["initial_accumulator_value"]))
        return state

    def _update_group(self, group: dict) -> None:
        lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
        weight_decay, maximize = group["weight_decay"], group["maximize"]
        for p in group["params"]:
            if p.grad is None:
                continue
            param, grad = p._data, p.grad._data
            if maximize:
                grad = -grad
            state = self._init_state(p, group)  # a group added later starts here
            step = state["step"] = state["step"] + 1
            if weight_decay != 0:
                grad = grad + weight_decay * param
            clr = lr / (1 + (step - 1) * lr_decay)
            total = state["sum"]._data
            total += grad * grad
            std = np.sqrt(total)
            std += eps
            param -= clr * grad / std
            p._vc[0] += 1
