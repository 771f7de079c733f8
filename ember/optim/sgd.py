"""SGD: stochastic gradient descent, with momentum and Nesterov momentum."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ember.optim.optimizer import Optimizer, _check, _check_common
from ember.tensor import Tensor


class SGD(Optimizer):
    r"""Stochastic gradient descent (optionally with momentum), as ``torch.optim.SGD``.

    The update, for each parameter :math:`\theta` with gradient :math:`g_t` at step t::

        if maximize:        g_t = -g_t
        if weight_decay:    g_t = g_t + weight_decay * theta_{t-1}
        if momentum:
            if t == 1:      b_t = g_t                     (no dampening on the first step)
            else:           b_t = momentum * b_{t-1} + (1 - dampening) * g_t
            if nesterov:    g_t = g_t + momentum * b_t
            else:           g_t = b_t
        theta_t = theta_{t-1} - lr * g_t

    Nesterov momentum is the form of Sutskever et al., "On the importance of
    initialization and momentum in deep learning" (ICML 2013), rewritten as PyTorch does
    so that the parameters stored are the ones the gradient is evaluated at.

    Args:
        params: tensors, or dicts of parameter groups.
        lr (float): learning rate. Default: 1e-3.
        momentum (float): momentum factor. Default: 0.
        dampening (float): dampening of the momentum. Default: 0.
        weight_decay (float): L2 penalty (added to the gradient). Default: 0.
        nesterov (bool): use Nesterov momentum (needs momentum > 0, dampening 0).
        maximize (bool): maximise the objective instead of minimising it. Default: False.

    State per parameter: ``momentum_buffer`` (when momentum != 0).

    >>> import ember as em
    >>> w = em.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = em.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()        # gradient 2 w
    ...     opt.step()
    >>> w                                   # 1 -> 0.8 -> 0.8 - 0.1 (0.9 * 2 + 1.6) = 0.46
    tensor([0.4600, 0.9200], requires_grad=True)
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False) -> None:
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize}
        super().__init__(params, defaults)

    def _validate(self, options: dict) -> None:
        _check_common("SGD", options)
        momentum = options["momentum"]
        _check("SGD", momentum >= 0.0, f"invalid momentum value {momentum}")
        _check("SGD", not options["nesterov"] or (momentum > 0 and options["dampening"] == 0),
               "Nesterov momentum requires a momentum and zero dampening")

    def _update_group(self, group: dict) -> None:
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        weight_decay, nesterov, maximize = (group["weight_decay"], group["nesterov"],
                                            group["maximize"])
        for p in group["params"]:
            if p.grad is None:
                continue
            param, grad = p._data, p.grad._data
            fresh = False  # whether `grad` is a temporary this step owns
            if maximize:
                grad, fresh = -grad, True
            if weight_decay != 0:
                grad, fresh = grad + weight_decay * param, True
            if momentum != 0:
                state = self.state[p]
                buffer = state.get("momentum_buffer")
                if buffer is None:
                    buf = grad if fresh else grad.copy()
                    state["momentum_buffer"] = Tensor._wrap(buf)
                else:
                    buf = buffer._data
                    buf *= momentum
                    if dampening == 0:
                        buf += grad
                    else:
                        buf += (1 - dampening) * grad
                grad = grad + momentum * buf if nesterov else buf
            np.subtract(param, lr * grad, out=param)
            p._vc[0] += 1
