"""NAdam: Adam with Nesterov momentum."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ember.optim.optimizer import Optimizer, _check, _check_common
from ember.tensor import Tensor


class NAdam(Optimizer):
    r"""NAdam, as ``torch.optim.NAdam``.

    The update, for each parameter :math:`\theta` with gradient :math:`g_t` at step t
    (:math:`m_0 = v_0 = 0`, :math:`\prod_0 = 1`, psi = ``momentum_decay``)::

        if maximize:        g_t = -g_t
        if weight_decay:
            if decoupled:   theta_{t-1} = theta_{t-1} - lr * weight_decay * theta_{t-1}
            else:           g_t = g_t + weight_decay * theta_{t-1}
        mu_t = beta1 (1 - 0.5 * 0.96^(t psi));   mu_{t+1} = beta1 (1 - 0.5 * 0.96^((t+1) psi))
        prod_t = prod_{t-1} * mu_t                                   (state "mu_product")
        m_t = beta1 m_{t-1} + (1 - beta1) g_t
        v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
        d = sqrt(v_t / (1 - beta2^t)) + eps
        theta_t = theta_{t-1} - lr (1 - mu_t) / (1 - prod_t) * g_t / d
                              - lr mu_{t+1} / (1 - prod_t mu_{t+1}) * m_t / d

    From Dozat, "Incorporating Nesterov Momentum into Adam" (ICLR workshop 2016).

    Args:
        params: tensors, or dicts of parameter groups.
        lr (float): learning rate. Default: 2e-3.
        betas (tuple[float, float]): running-average decay rates. Default: (0.9, 0.999).
        eps (float): added to the denominator for stability. Default: 1e-8.
        weight_decay (float): weight decay (L2 penalty unless decoupled). Default: 0.
        momentum_decay (float): psi, how fast the momentum schedule warms up. Default: 4e-3.
        decoupled_weight_decay (bool): decay the weights directly (NAdamW). Default: False.
        maximize (bool): maximise the objective instead. Default: False.

    State per parameter: ``step``, ``mu_product`` (a number), ``exp_avg``, ``exp_avg_sq``.

    >>> import ember as em
    >>> w = em.tensor([1.0], requires_grad=True)
    >>> opt = em.optim.NAdam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()                  # about lr * sign(g), the momentum term weighted up
    >>> round(w.item(), 4)
    0.8944
    """

    _scalar_state = ("step", "mu_product")

    def __init__(self, params: Iterable, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _validate(self, options: dict) -> None:
        _check_common("NAdam", options)
        _check("NAdam", options["momentum_decay"] >= 0.0,
               f"invalid momentum_decay value {options['momentum_decay']}")

    def _update_group(self, group: dict) -> None:
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        momentum_decay, decoupled = group["momentum_decay"], group["decoupled_weight_decay"]
        maximize = group["maximize"]
        for p in group["params"]:
            if p.grad is None:
                continue
            param, grad = p._data, p.grad._data
            if maximize:
                grad = -grad
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["mu_product"] = 1.0
                state["exp_avg"] = Tensor._wrap(np.zeros_like(param))
                state["exp_avg_sq"] = Tensor._wrap(np.zeros_like(param))
            step = state["step"] = state["step"] + 1
            bias_correction2 = 1 - beta2**step
            if weight_decay != 0:
                if decoupled:
                    param *= 1 - lr * weight_decay
                else:
                    grad = grad + weight_decay * param
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
            mu_product = state["mu_product"] = state["mu_product"] * mu
            exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
            exp_avg += (1 - beta1) * (grad - exp_avg)       # lerp towards the gradient
            exp_avg_sq *= beta2
            exp_avg_sq += ((1 - beta2) * grad) * grad
            denom = np.sqrt(exp_avg_sq / bias_correction2)
            denom += eps
            param += (-lr * (1.0 - mu) / (1.0 - mu_product)) * grad / denom
            param += (-lr * mu_next / (1.0 - mu_product * mu_next)) * exp_avg / denom
            p._vc[0] += 1
