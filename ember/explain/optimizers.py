"""One step of each classic optimiser on given numbers, state included (PyTorch's
update rules and defaults)."""

from __future__ import annotations

import math

import numpy as np

from ember.explain.registry import Explanation, option, register
from ember.explain.values import as_int, as_number, as_vector, number

__all__ = ["optimizer_step", "OPTIMIZERS"]

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam")


def _v(a) -> str:
    a = np.atleast_1d(a)
    return number(a[0]) if a.size == 1 else "[" + ", ".join(number(v) for v in a) + "]"


def _names(text) -> tuple[str, ...]:
    names = tuple(OPTIMIZERS) if str(text).strip() == "all" else tuple(
        n.strip().lower() for n in str(text).replace(",", " ").split())
    unknown = [n for n in names if n not in OPTIMIZERS]
    if unknown or not names:
        raise ValueError(f"unknown optimizer(s) {', '.join(unknown) or text!r}; choose from "
                         f"{', '.join(OPTIMIZERS)} or all")
    return names


@register("optimizer", "one step of SGD, momentum, Nesterov, Adagrad, Adadelta, RMSprop "
                       "and Adam on given numbers, state included",
          option("--w", "w", as_vector, 'the parameters, e.g. "1 -2"'),
          option("--grad", "grad", as_vector, "their gradient dL/dw"),
          option("--optimizer", "optimizer", _names, "sgd, momentum, nesterov, adagrad, "
                 "adadelta, rmsprop, adam, or all (default)", default="all"),
          option("--lr", "lr", as_number, "learning rate (default 0.1; Adadelta's own "
                 "default is 1)", default=0.1),
          option("--momentum", "momentum", as_number, "momentum mu (default 0.9)",
                 default=0.9),
          option("--velocity", "velocity", as_vector, "momentum/Nesterov: the previous "
                 "buffer v (default: none, the first step)", default=None),
          option("--accumulator", "accumulator", as_vector, "Adagrad: the sum of squared "
                 "gradients so far (default 0)", default=None),
          option("--square-avg", "square_avg", as_vector, "RMSprop/Adadelta: the running "
                 "average of g^2 (default 0)", default=None),
          option("--acc-delta", "acc_delta", as_vector, "Adadelta: the running average of "
                 "squared updates (default 0)", default=None),
          option("--m", "m", as_vector, "Adam: the first moment (default 0)", default=None),
          option("--v", "v", as_vector, "Adam: the second moment (default 0)", default=None),
          option("--step", "step", lambda t: as_int(t, "step", minimum=0), "Adam: steps "
                 "taken before this one (default 0)", default=0))
def optimizer_step(w, grad, optimizer="all", lr: float = 0.1, momentum: float = 0.9,
                   velocity=None, accumulator=None, square_avg=None, acc_delta=None, m=None,
                   v=None, step: int = 0, alpha: float = 0.99, rho: float = 0.9,
                   betas: tuple[float, float] = (0.9, 0.999)) -> Explanation:
    """One update of each optimiser, as ``torch.optim`` computes it (no weight decay):

    * SGD: :math:`w \\leftarrow w - \\eta g`
    * momentum: :math:`v \\leftarrow \\mu v + g` (v = g at the first step),
      :math:`w \\leftarrow w - \\eta v`
    * Nesterov: the same v, then :math:`w \\leftarrow w - \\eta (g + \\mu v)`
    * Adagrad: :math:`G \\leftarrow G + g^2`, :math:`w \\leftarrow w - \\eta g /
      (\\sqrt{G} + 10^{-10})`
    * RMSprop: :math:`s \\leftarrow \\alpha s + (1 - \\alpha) g^2`,
      :math:`w \\leftarrow w - \\eta g / (\\sqrt{s} + 10^{-8})`, :math:`\\alpha = 0.99`
    * Adadelta: :math:`s \\leftarrow \\rho s + (1 - \\rho) g^2`,
      :math:`\\Delta = g \\sqrt{u + \\epsilon} / \\sqrt{s + \\epsilon}`,
      :math:`u \\leftarrow \\rho u + (1 - \\rho) \\Delta^2`, :math:`w \\leftarrow w -
      \\eta \\Delta` (:math:`\\rho = 0.9`, :math:`\\epsilon = 10^{-6}`)
    * Adam: :math:`m \\leftarrow \\beta_1 m + (1 - \\beta_1) g`, :math:`v \\leftarrow
      \\beta_2 v + (1 - \\beta_2) g^2`, :math:`\\hat m = m / (1 - \\beta_1^t)`,
      :math:`\\hat v = v / (1 - \\beta_2^t)`, :math:`w \\leftarrow w - \\eta \\hat m /
      (\\sqrt{\\hat v} + 10^{-8})`

    Returns:
        the working; ``result`` maps each optimiser to its new w; ``states`` to its new
        state.

    >>> import ember as em
    >>> e = em.explain.optimizer_step([1.0], [0.5], "sgd adam", lr=0.1)
    >>> [round(float(e.result[name][0]), 4) for name in ("sgd", "adam")]
    [0.95, 0.9]
    """
    w, g = as_vector(w, "w"), as_vector(grad, "grad")
    if w.size != g.size:
        raise ValueError(f"w and grad must have as many numbers; w has {w.size}, grad "
                         f"{g.size}")
    names = _names(optimizer) if isinstance(optimizer, str) else tuple(optimizer)
    lr, mu = as_number(lr, "lr"), as_number(momentum, "momentum")

    def state(value, name):
        if value is None:
            return None
        array = as_vector(value, name)
        if array.size != w.size:
            raise ValueError(f"{name} must have {w.size} numbers (one per parameter)")
        return array

    velocity, accumulator = state(velocity, "velocity"), state(accumulator, "accumulator")
    square_avg, acc_delta = state(square_avg, "square_avg"), state(acc_delta, "acc_delta")
    m, v = state(m, "m"), state(v, "v")
    zeros = np.zeros_like(w)
    lines = [f"w = {_v(w)}, g = dL/dw = {_v(g)}, learning rate eta = {number(lr)}   (numbers "
             "shown to 4 decimals, computed unrounded)"]
    results, states = {}, {}
    for name in names:
        lines.append("")
        if name == "sgd":
            new = w - lr * g
            lines += ["SGD: w <- w - eta g", f"  w = {_v(w)} - {number(lr)}*{_v(g)} = {_v(new)}"]
            states[name] = {}
        elif name in ("momentum", "nesterov"):
            title = "momentum" if name == "momentum" else "Nesterov momentum"
            if velocity is None:
                buf = g.copy()
                lines += [f"{title}: v <- mu v + g, but the first step sets v = g",
                          f"  v = {_v(buf)}"]
            else:
                buf = mu * velocity + g
                lines += [f"{title}: v <- mu v + g (mu = {number(mu)})",
                          f"  v = {number(mu)}*{_v(velocity)} + {_v(g)} = {_v(buf)}"]
            if name == "momentum":
                new = w - lr * buf
                lines.append(f"  w <- w - eta v = {_v(w)} - {number(lr)}*{_v(buf)} = {_v(new)}")
            else:
                look = g + mu * buf
                new = w - lr * look
                lines += [f"  the step looks ahead: g + mu v = {_v(g)} + {number(mu)}*{_v(buf)}"
                          f" = {_v(look)}",
                          f"  w <- w - eta (g + mu v) = {_v(w)} - {number(lr)}*{_v(look)} = "
                          f"{_v(new)}"]
            states[name] = {"momentum_buffer": buf}
        elif name == "adagrad":
            total = (zeros if accumulator is None else accumulator) + g * g
            new = w - lr * g / (np.sqrt(total) + 1e-10)
            lines += ["Adagrad: G <- G + g^2; w <- w - eta g / (sqrt(G) + 1e-10)",
                      f"  G = {_v(zeros if accumulator is None else accumulator)} + {_v(g)}^2"
                      f" = {_v(total)}",
                      f"  w = {_v(w)} - {number(lr)}*{_v(g)} / sqrt({_v(total)}) = {_v(new)}"]
            states[name] = {"sum": total}
        elif name == "rmsprop":
            previous = zeros if square_avg is None else square_avg
            s = alpha * previous + (1 - alpha) * g * g
            new = w - lr * g / (np.sqrt(s) + 1e-8)
            lines += [f"RMSprop: s <- alpha s + (1 - alpha) g^2 (alpha = {number(alpha)}); "
                      "w <- w - eta g / (sqrt(s) + 1e-8)",
                      f"  s = {number(alpha)}*{_v(previous)} + {number(1 - alpha)}*{_v(g)}^2 = "
                      f"{_v(s)}",
                      f"  w = {_v(w)} - {number(lr)}*{_v(g)} / ({_v(np.sqrt(s))} + 1e-8) = "
                      f"{_v(new)}"]
            states[name] = {"square_avg": s}
        elif name == "adadelta":
            previous = zeros if square_avg is None else square_avg
            u = zeros if acc_delta is None else acc_delta
            s = rho * previous + (1 - rho) * g * g
            delta = np.sqrt(u + 1e-6) / np.sqrt(s + 1e-6) * g
            u_new = rho * u + (1 - rho) * delta * delta
            new = w - lr * delta
            lines += [f"Adadelta (rho = {number(rho)}, eps = 1e-6):",
                      f"  s <- rho s + (1 - rho) g^2 = {number(rho)}*{_v(previous)} + "
                      f"{number(1 - rho)}*{_v(g)}^2 = {_v(s)}",
                      f"  Delta = sqrt(u + eps) / sqrt(s + eps) * g = sqrt({_v(u)} + 1e-6) / "
                      f"sqrt({_v(s)} + 1e-6) * {_v(g)} = {_v(delta)}",
                      f"  u <- rho u + (1 - rho) Delta^2 = {_v(u_new)}",
                      f"  w <- w - eta Delta = {_v(w)} - {number(lr)}*{_v(delta)} = {_v(new)}"]
            states[name] = {"square_avg": s, "acc_delta": u_new}
        else:  # adam
            beta1, beta2 = betas
            t = step + 1
            m0, v0 = zeros if m is None else m, zeros if v is None else v
            m1 = beta1 * m0 + (1 - beta1) * g
            v1 = beta2 * v0 + (1 - beta2) * g * g
            m_hat, v_hat = m1 / (1 - beta1 ** t), v1 / (1 - beta2 ** t)
            new = w - lr * m_hat / (np.sqrt(v_hat) + 1e-8)
            lines += [f"Adam (beta1 = {number(beta1)}, beta2 = {number(beta2)}, step t = {t}):",
                      f"  m <- beta1 m + (1 - beta1) g = {number(beta1)}*{_v(m0)} + "
                      f"{number(1 - beta1)}*{_v(g)} = {_v(m1)}",
                      f"  v <- beta2 v + (1 - beta2) g^2 = {number(beta2)}*{_v(v0)} + "
                      f"{number(1 - beta2, 6)}*{_v(g)}^2 = {_v(v1)}",
                      f"  m_hat = m / (1 - beta1^{t}) = {_v(m_hat)}, v_hat = v / (1 - beta2^{t})"
                      f" = {_v(v_hat)}  (bias correction)",
                      f"  w <- w - eta m_hat / (sqrt(v_hat) + 1e-8) = {_v(w)} - {number(lr)}*"
                      f"{_v(m_hat)} / {_v(np.sqrt(v_hat))} = {_v(new)}"]
            if t == 1:
                lines.append("  (at the first step m_hat / sqrt(v_hat) = g / |g|: every "
                             "parameter moves by about eta, whatever its gradient's size)")
            states[name] = {"exp_avg": m1, "exp_avg_sq": v1, "step": t}
        results[name] = new
    if math.isclose(lr, 0.1) and "adadelta" in names:
        lines += ["", "(Adadelta is usually run with eta = 1, PyTorch's default.)"]
    return Explanation("One optimiser step", lines, results, states=states, w=w, grad=g)
