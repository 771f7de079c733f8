"""Adadelta: step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ember.optim.optimizer import Optimizer, _check, _check_common
from ember.tensor import Tensor


class Adadelta(Optimizer):
    r"""Adadelta, as ``torch.optim.Adadelta``.

    The update, for each parameter :math:`\theta` with gradient :math:`g_t` at step t
    (:math:`v_0 = u_0 = 0`: the square average and the accumulated delta)::

        if maximize:        g_t = -g_t
        if weight_decay:    g_t = g_t + weight_decay * theta_{t-1}
        v_t = rho v_{t-1} + (1 - rho) g_t^2
        delta_t = sqrt(u_{t-1} + eps) / sqrt(v_t + eps) * g_t
        u_t = rho u_{t-1} + (1 - rho) delta_t^2
        theta_t = theta_{t-1} - lr * delta_t

    From Zeiler, "ADADELTA: An Adaptive Learning Rate Method" (2012).

    Args:
        params: tensors, or dicts of parameter groups.
        lr (float): scales delta before it is applied. Default: 1.0.
        rho (float): decay rate of the running averages. Default: 0.9.
        eps (float): added inside the square roots for stability. Default: 1e-6.
        weight_decay (float): L2 penalty (added to the gradient). Default: 0.
        maximize (bool): maximise the objective instead. Default: False.

    State per parameter: ``step``, ``square_avg``, ``acc_delta``.

    >>> import ember as em
    >>> w = em.tensor([1.0], requires_grad=True)
    >>> opt = em.optim.Adadelta([w])
    >>> (w * w).sum().backward()
    >>> opt.step()                  # sqrt(eps) / sqrt(0.1 * 4 + eps) * 2: about 3.2e-3
    >>> round(w.item(), 4)
    0.9968
    """

    def __init__(self, params: Iterable, lr: float = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0, *,
                 maximize: bool = False) -> None:
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize}
        super().__init__(params, defaults)

    def _validate(self, options: dict) -> None:
        _check_common("Adadelta", options)
        _check("Adadelta", 0.0 <= options["rho"] <= 1.0, f"invalid rho value {options['rho']}")

    def _update_group(self, group: dict) -> None:
        lr, rho, eps = group["lr"], group["rho"], group["eps"]
        weight_decay, maximize = group["weight_decay"], group["maximize"]
        for p in group["params"]:
            if p.grad is None:
                continue
            param, grad = p._data, p.grad._data
            if maximize:
                grad = -grad
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["square_avg"] = Tensor._wrap(np.zeros_like(param))
                state["acc_delta"] = Tensor._wrap(np.zeros_like(param))
            state["step"] += 1
            if weight_decay != 0:
                grad = grad + weight_decay * param
            square_avg, acc_delta = state["square_avg"]._data, state["acc_delta"]._data
            square_avg *= rho
            square_avg += ((1 - rho) * grad) * grad
            std = np.sqrt(square_avg + eps)
            delta = np.sqrt(acc_delta + eps)
            delta /= std
            delta *= grad
            acc_delta *= rho
            acc_delta += ((1 - rho) * delta) * delta
            param -= lr * delta
            p._vc[0] += 1
