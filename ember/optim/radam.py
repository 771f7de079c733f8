"""RAdam: Adam with a rectified (variance-corrected) adaptive learning rate."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ember.optim.optimizer import Optimizer, _check_common
from ember.tensor import Tensor


class RAdam(Optimizer):
    r"""RAdam, as ``torch.optim.RAdam``.

    The update, for each parameter :math:`\theta` with gradient :math:`g_t` at step t
    (:math:`m_0 = v_0 = 0`)::

        if maximize:        g_t = -g_t
        if weight_decay:
            if decoupled:   theta_{t-1} = theta_{t-1} - lr * weight_decay * theta_{t-1}
            else:           g_t = g_t + weight_decay * theta_{t-1}
        m_t = beta1 m_{t-1} + (1 - beta1) g_t
        v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        m^_t = m_t / (1 - beta1^t)
        if rho_t > 5:
            r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
            l_t = sqrt(1 - beta2^t) / (sqrt(v_t) + eps)
            theta_t = theta_{t-1} - lr * m^_t * l_t * r_t
        else:
            theta_t = theta_{t-1} - lr * m^_t

    From Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond" (2019).

    Args:
        params: tensors, or dicts of parameter groups.
        lr (float): learning rate. Default: 1e-3.
        betas (tuple[float, float]): running-average decay rates. Default: (0.9, 0.999).
        eps (float): added to the denominator for stability. Default: 1e-8.
        weight_decay (float): weight decay (L2 penalty unless decoupled). Default: 0.
        decoupled_weight_decay (bool): decay the weights directly. Default: False.
        maximize (bool): maximise the objective instead. Default: False.

    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq``.

    >>> import ember as em
    >>> w = em.tensor([1.0], requires_grad=True)
    >>> opt = em.optim.RAdam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()                  # early steps are SGD with momentum: 1 - 0.1 * 2
    >>> w
    tensor([0.8000], requires_grad=True)
    """

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 maximize: bool = False) -> None:
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _validate(self, options: dict) -> None:
        _check_common("RAdam", options)

    def _update_group(self, group: dict) -> None:
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        decoupled, maximize = group["decoupled_weight_decay"], group["maximize"]
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
                state["exp_avg_sq"] = Tensor._wrap(np.zeros_like(param))
            step = state["step"] = state["step"] + 1
            if weight_decay != 0:
                if decoupled:
                    param *= 1 - lr * weight_decay
                else:
                    grad = grad + weight_decay * param
            exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
            exp_avg += (1 - beta1) * (grad - exp_avg)       # lerp towards the gradient
            exp_avg_sq *= beta2
            exp_avg_sq += ((1 - beta2) * grad) * grad
            bias_correction1 = 1 - beta1**step
            bias_correction2 = 1 - beta2**step
            corrected = exp_avg / bias_correction1
            rho_inf = 2 / (1 - beta2) - 1
            rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
            if rho_t > 5.0:
                rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                        / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                adaptive = np.sqrt(exp_avg_sq)
                adaptive += eps
                param -= corrected * lr * (bias_correction2**0.5 / adaptive) * rect
            else:
                param -= corrected * lr
            p._vc[0] += 1
