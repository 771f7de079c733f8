"""RMSprop: gradients divided by a running root-mean-square of their recent values."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ember.optim.optimizer import Optimizer, _check, _check_common
from ember.tensor import Tensor


class RMSprop(Optimizer):
    r"""RMSprop, as ``torch.optim.RMSprop``.

    The update, for each parameter :math:`\theta` with gradient :math:`g_t` at step t
    (:math:`v_0 = g^{ave}_0 = b_0 = 0`)::

        if maximize:        g_t = -g_t
        if weight_decay:    g_t = g_t + weight_decay * theta_{t-1}
        v_t = alpha v_{t-1} + (1 - alpha) g_t^2
        if centered:
            g^ave_t = alpha g^ave_{t-1} + (1 - alpha) g_t
            d = sqrt(v_t - (g^ave_t)^2) + eps
        else:
            d = sqrt(v_t) + eps
        if momentum > 0:
            b_t = momentum b_{t-1} + g_t / d
            theta_t = theta_{t-1} - lr * b_t
        else:
            theta_t = theta_{t-1} - lr * g_t / d

    From Hinton, Srivastava & Swersky, "Neural Networks for Machine Learning", lecture
    6e (2012); the centered form is Graves, "Generating Sequences With Recurrent Neural
    Networks" (2013).

    Args:
        params: tensors, or dicts of parameter groups.
        lr (float): learning rate. Default: 1e-2.
        alpha (float): decay rate of the running averages. Default: 0.99.
        eps (float): added to the denominator for stability. Default: 1e-8.
        weight_decay (float): L2 penalty (added to the gradient). Default: 0.
        momentum (float): momentum factor. Default: 0.
        centered (bool): normalise by an estimate of the gradient's variance.
        maximize (bool): maximise the objective instead. Default: False.

    State per parameter: ``step``, ``square_avg`` (and ``momentum_buffer``, ``grad_avg``).

    >>> import ember as em
    >>> w = em.tensor([1.0], requires_grad=True)
    >>> opt = em.optim.RMSprop([w], lr=0.01)
    >>> (w * w).sum().backward()
    >>> opt.step()                  # 2 / sqrt(0.01 * 4) = 10, times lr
    >>> w
    tensor([0.9000], requires_grad=True)
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, *, maximize: bool = False) -> None:
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _validate(self, options: dict) -> None:
        _check_common("RMSprop", options)
        _check("RMSprop", options["momentum"] >= 0.0,
               f"invalid momentum value {options['momentum']}")
        _check("RMSprop", options["alpha"] >= 0.0, f"invalid alpha value {options['alpha']}")

    def _update_group(self, group: dict) -> None:
        lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
        centered, weight_decay, maximize = (group["centered"], group["weight_decay"],
                                            group["maximize"])
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
                if momentum > 0:
                    state["momentum_buffer"] = Tensor._wrap(np.zeros_like(param))
                if centered:
                    state["grad_avg"] = Tensor._wrap(np.zeros_like(param))
            state["step"] += 1
            if weight_decay != 0:
                grad = grad + weight_decay * param
            square_avg = state["square_avg"]._data
            square_avg *= alpha
            square_avg += ((1 - alpha) * grad) * grad
            if centered:
                grad_avg = state["grad_avg"]._data
                grad_avg += (1 - alpha) * (grad - grad_avg)    # lerp towards the gradient
                avg = np.sqrt(square_avg - grad_avg * grad_avg)
            else:
                avg = np.sqrt(square_avg)
            avg += eps
            if momentum > 0:
                buf = state["momentum_buffer"]._data
                buf *= momentum
                buf += grad / avg
                param -= lr * buf
            else:
                param -= lr * grad / avg
            p._vc[0] += 1
