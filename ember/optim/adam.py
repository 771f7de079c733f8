"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ember.optim.optimizer import Optimizer, _check_common
from ember.tensor import Tensor


class Adam(Optimizer):
    r"""Adam, as ``torch.optim.Adam``.

    The update, for each parameter :math:`\theta` with gradient :math:`g_t` at step t
    (:math:`m_0 = v_0 = v^{max}_0 = 0`)::

        if maximize:        g_t = -g_t
        if weight_decay:
            if decoupled:   theta_{t-1} = theta_{t-1} - lr * weight_decay * theta_{t-1}
            else:           g_t = g_t + weight_decay * theta_{t-1}
        m_t = beta1 m_{t-1} + (1 - beta1) g_t
        v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
        if amsgrad:         v^max_t = max(v^max_{t-1}, v_t);  v = v^max_t
        else:               v = v_t
        theta_t = theta_{t-1} - lr / (1 - beta1^t) * m_t / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    From Kingma & Ba, "Adam: A Method for Stochastic Optimization" (2014); amsgrad from
    Reddi et al., "On the Convergence of Adam and Beyond" (2018).

    Args:
        params: tensors, or dicts of parameter groups.
        lr (float): learning rate. Default: 1e-3.
        betas (tuple[float, float]): decay rates of the gradient's running average and of
            its square's. Default: (0.9, 0.999).
        eps (float): added to the denominator for stability. Default: 1e-8.
        weight_decay (float): weight decay (L2 penalty unless decoupled). Default: 0.
        amsgrad (bool): use the maximum of the past squared-gradient averages.
        maximize (bool): maximise the objective instead. Default: False.
        decoupled_weight_decay (bool): decay the weights directly, as AdamW. Default: False.

    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq`` (and ``max_exp_avg_sq``).

    >>> import ember as em
    >>> w = em.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = em.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()                  # the first Adam step moves each weight by about lr
    >>> w
    tensor([ 0.9000, -0.9000], requires_grad=True)
    """

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False) -> None:
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _validate(self, options: dict) -> None:
        _check_common(type(self).__name__, options)

    def _update_group(self, group: dict) -> None:
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        amsgrad, maximize = group["amsgrad"], group["maximize"]
        decoupled = group["decoupled_weight_decay"]
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
                if amsgrad:
                    state["max_exp_avg_sq"] = Tensor._wrap(np.zeros_like(param))
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
            if amsgrad:
                max_sq = state["max_exp_avg_sq"]._data
                np.maximum(max_sq, exp_avg_sq, out=max_sq)
                denom = np.sqrt(max_sq)
            else:
                denom = np.sqrt(exp_avg_sq)
            denom /= (1 - beta2**step) ** 0.5
            denom += eps
            step_size = lr / (1 - beta1**step)
            param -= step_size * exp_avg / denom
            p._vc[0] += 1


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay, as ``torch.optim.AdamW``.

    The update is Adam's with the weight decay applied to the weights, not the gradient::

        theta_{t-1} = theta_{t-1} - lr * weight_decay * theta_{t-1}
        (then Adam's moments and update, from the undecayed gradient)

    From Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (2017).

    Args:
        params: tensors, or dicts of parameter groups.
        lr (float): learning rate. Default: 1e-3.
        betas (tuple[float, float]): running-average decay rates. Default: (0.9, 0.999).
        eps (float): added to the denominator for stability. Default: 1e-8.
        weight_decay (float): decoupled weight decay coefficient. Default: 1e-2.
        amsgrad (bool): use the maximum of the past squared-gradient averages.
        maximize (bool): maximise the objective instead. Default: False.

    >>> import ember as em
    >>> w = em.tensor([1.0], requires_grad=True)
    >>> w.grad = em.zeros(1)                # no gradient signal: only the decay acts
    >>> em.optim.AdamW([w], lr=0.1, weight_decay=0.5).step()
    >>> w                                   # 1 - 0.1 * 0.5 * 1
    tensor([0.9500], requires_grad=True)
    """

    def __init__(self, params: Iterable, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
