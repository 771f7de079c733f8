"""Adamax: Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ember.optim.optimizer import Optimizer, _check_common
from ember.tensor import Tensor


class Adamax(Optimizer):
    r"""Adamax, as ``torch.optim.Adamax``.

    The update, for each parameter :math:`\theta` with gradient :math:`g_t` at step t
    (:math:`m_0 = u_0 = 0`)::

        if maximize:        g_t = -g_t
        if weight_decay:    g_t = g_t + weight_decay * theta_{t-1}
        m_t = beta1 m_{t-1} + (1 - beta1) g_t
        u_t = max(beta2 u_{t-1}, |g_t| + eps)
        theta_t = theta_{t-1} - lr / (1 - beta1^t) * m_t / u_t

    From Kingma & Ba, "Adam: A Method for Stochastic Optimization" (2014), section 7.1.

    Args:
        params: tensors, or dicts of parameter groups.
        lr (float): learning rate. Default: 2e-3.
        betas (tuple[float, float]): decay rates of the gradient's running average and of
            the infinity norm. Default: (0.9, 0.999).
        eps (float): added to |g| for stability. Default: 1e-8.
        weight_decay (float): L2 penalty (added to the gradient). Default: 0.
        maximize (bool): maximise the objective instead. Default: False.

    State per parameter: ``step``, ``exp_avg``, ``exp_inf``.

    >>> import ember as em
    >>> w = em.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = em.optim.Adamax([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()                  # the first step is lr * sign(g)
    >>> w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params: Iterable, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize}
        super().__init__(params, defaults)

    def _validate(self, options: dict) -> None:
        _check_common("Adamax", options)

    def _update_group(self, group: dict) -> None:
        lr, eps, weight_decay, maximize = (group["lr"], group["eps"], group["weight_decay"],
                                           group["maximize"])
        beta1, beta2 = group["betas"]
        for p in group["params"]:
            if p.grad is None:
                continue
            param, grad = p._data, p.grad._data
            if maximize:
                grad = -grad
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = Tensor._wrap(np.zeros_like(param))
                state["exp_inf"] = Tensor._wrap(np.zeros_like(param))
            step = state["step"] = state["step"] + 1
            if weight_decay != 0:
                grad = grad + weight_decay * param
            exp_avg, exp_inf = state["exp_avg"]._data, state["exp_inf"]._data
            exp_avg += (1 - beta1) * (grad - exp_avg)       # lerp towards the gradient
            exp_inf *= beta2
            bound = np.abs(grad)
            bound += eps
            np.maximum(exp_inf, bound, out=exp_inf)
            clr = lr / (1 - beta1**step)
            param -= clr * exp_avg / exp_inf
            p._vc[0] += 1
