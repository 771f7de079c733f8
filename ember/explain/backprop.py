"""Backpropagation by hand on a 2-2-2 sigmoid network: every forward value, every partial
derivative by the chain rule, and the updated weights (the classic worked example)."""

from __future__ import annotations

import numpy as np

from ember.explain.registry import Explanation, option, register, switch
from ember.explain.values import as_matrix, as_number, as_vector, number

__all__ = ["backprop"]


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _loss_choice(text: str) -> str:
    text = str(text).strip().lower()
    if text not in ("half-sse", "mse"):
        raise ValueError(f"loss must be half-sse or mse, got {text!r}")
    return text


@register("backprop", "backpropagation on a 2-2-2 sigmoid network: forward values, every "
                      "partial derivative, updated weights",
          option("--x", "x", as_vector, 'the inputs (default "0.05 0.1")',
                 default=(0.05, 0.10)),
          option("--target", "target", as_vector, 'the targets (default "0.01 0.99")',
                 default=(0.01, 0.99)),
          option("--w-hidden", "w_hidden", as_matrix, "hidden weights, row j: the weights "
                 'into hidden unit j (default "0.15 0.2; 0.25 0.3")',
                 default=((0.15, 0.20), (0.25, 0.30))),
          option("--b-hidden", "b_hidden", as_number, "the hidden layer's bias (default "
                 "0.35)", default=0.35),
          option("--w-output", "w_output", as_matrix, "output weights, row k: the weights "
                 'into output k (default "0.4 0.45; 0.5 0.55")',
                 default=((0.40, 0.45), (0.50, 0.55))),
          option("--b-output", "b_output", as_number, "the output layer's bias (default "
                 "0.6)", default=0.60),
          option("--lr", "lr", as_number, "learning rate (default 0.5)", default=0.5),
          option("--loss", "loss", _loss_choice, "half-sse: E = sum 1/2 (t - o)^2 "
                 "(default, the notes' 'MSE'); mse: E = mean (t - o)^2 (nn.MSELoss)",
                 default="half-sse"),
          switch("--update-biases", "update_biases", True, "also update the two biases "
                 "(the notes keep them fixed)"))
def backprop(x=(0.05, 0.10), target=(0.01, 0.99), w_hidden=((0.15, 0.20), (0.25, 0.30)),
             b_hidden: float = 0.35, w_output=((0.40, 0.45), (0.50, 0.55)),
             b_output: float = 0.60, lr: float = 0.5, loss: str = "half-sse",
             update_biases: bool = False) -> Explanation:
    """One forward and backward pass of a network with sigmoid hidden and output layers
    (one shared bias per layer, as in the notes), and one gradient-descent step:

    .. math::
        net_{h_j} = \\sum_i w_{ji} x_i + b_1, \\; out_{h_j} = \\sigma(net_{h_j}); \\quad
        net_{o_k} = \\sum_j v_{kj} out_{h_j} + b_2, \\; out_{o_k} = \\sigma(net_{o_k})

        E = \\sum_k \\tfrac12 (t_k - out_{o_k})^2, \\qquad
        \\delta_{o_k} = \\frac{\\partial E}{\\partial out_{o_k}}
                       \\frac{\\partial out_{o_k}}{\\partial net_{o_k}}
                     = (out_{o_k} - t_k)\\, out_{o_k} (1 - out_{o_k})

        \\frac{\\partial E}{\\partial v_{kj}} = \\delta_{o_k} out_{h_j}, \\quad
        \\delta_{h_j} = \\Big(\\sum_k \\delta_{o_k} v_{kj}\\Big) out_{h_j} (1 - out_{h_j}),
        \\quad \\frac{\\partial E}{\\partial w_{ji}} = \\delta_{h_j} x_i

    and every weight moves by :math:`-\\eta\\, \\partial E / \\partial w`, all computed
    from the weights *before* the update. The defaults are the classic example (Mazur,
    "A step by step backpropagation example", 2015): E goes from 0.298371109.

    Returns:
        the working; ``result`` is E; ``outputs``, ``hidden``, ``grad_w_hidden``,
        ``grad_w_output``, ``grad_b_hidden``, ``grad_b_output``, ``new_w_hidden``,
        ``new_w_output`` (arrays).

    >>> import ember as em
    >>> e = em.explain.backprop()
    >>> round(e.result, 9), round(float(e.new_w_output[0, 0]), 8)
    (0.298371109, 0.35891648)
    """
    x, t = as_vector(x, "x"), as_vector(target, "target")
    w1, w2 = as_matrix(w_hidden, "w_hidden"), as_matrix(w_output, "w_output")
    b1, b2, lr = as_number(b_hidden, "b_hidden"), as_number(b_output, "b_output"), \
        as_number(lr, "lr")
    if w1.shape[1] != x.size or w2.shape[1] != w1.shape[0] or w2.shape[0] != t.size:
        raise ValueError(f"shapes do not chain: x {x.size}, w_hidden {w1.shape[0]}x"
                         f"{w1.shape[1]} (hidden x inputs), w_output {w2.shape[0]}x"
                         f"{w2.shape[1]} (outputs x hidden), target {t.size}")
    loss = _loss_choice(loss)
    n_hidden, n_out = w1.shape[0], w2.shape[0]
    net_h = w1 @ x + b1
    out_h = _sigmoid(net_h)
    net_o = w2 @ out_h + b2
    out_o = _sigmoid(net_o)
    if loss == "half-sse":
        errors = 0.5 * (t - out_o) ** 2
        e_total = float(errors.sum())
        d_out = out_o - t
        loss_lines = ["E = sum_k 1/2 (t_k - out_o_k)^2"]
        loss_lines += [f"  E_o{k + 1} = 1/2 ({number(t[k])} - {number(out_o[k], 9)})^2 = "
                       f"{number(errors[k], 9)}" for k in range(n_out)]
        derivative = "dE/dout_o_k = out_o_k - t_k"
    else:
        errors = (t - out_o) ** 2 / n_out
        e_total = float(errors.sum())
        d_out = 2 * (out_o - t) / n_out
        loss_lines = [f"E = mean_k (t_k - out_o_k)^2 = (1/{n_out}) sum_k (t_k - out_o_k)^2"]
        loss_lines += [f"  term {k + 1}: ({number(t[k])} - {number(out_o[k], 9)})^2 / {n_out} "
                       f"= {number(errors[k], 9)}" for k in range(n_out)]
        derivative = f"dE/dout_o_k = 2 (out_o_k - t_k) / {n_out}"
    sig_o = out_o * (1 - out_o)
    delta_o = d_out * sig_o
    grad_w2 = np.outer(delta_o, out_h)
    grad_b2 = float(delta_o.sum())
    back = w2.T @ delta_o
    sig_h = out_h * (1 - out_h)
    delta_h = back * sig_h
    grad_w1 = np.outer(delta_h, x)
    grad_b1 = float(delta_h.sum())
    new_w1, new_w2 = w1 - lr * grad_w1, w2 - lr * grad_w2
    new_b1 = b1 - lr * grad_b1 if update_biases else b1
    new_b2 = b2 - lr * grad_b2 if update_biases else b2

    def f(v) -> str:  # the classic example quotes 9 decimals; negatives in brackets
        text = number(v, 9)
        return f"({text})" if text.startswith("-") else text

    lines = [f"x = [{', '.join(f(v) for v in x)}], targets t = [{', '.join(f(v) for v in t)}],"
             f" learning rate eta = {number(lr)}", "", "Forward pass:"]
    for j in range(n_hidden):
        terms = " + ".join(f"{f(w1[j, i])}*{f(x[i])}" for i in range(x.size))
        lines += [f"  net_h{j + 1} = {terms} + {f(b1)} = {f(net_h[j])}",
                  f"  out_h{j + 1} = sigmoid({f(net_h[j])}) = 1 / (1 + e^-{f(net_h[j])}) = "
                  f"{f(out_h[j])}"]
    for k in range(n_out):
        terms = " + ".join(f"{f(w2[k, j])}*{f(out_h[j])}" for j in range(n_hidden))
        lines += [f"  net_o{k + 1} = {terms} + {f(b2)} = {f(net_o[k])}",
                  f"  out_o{k + 1} = sigmoid({f(net_o[k])}) = {f(out_o[k])}"]
    lines += ["", "Error:"] + ["  " + line for line in loss_lines]
    lines += [f"  E_total = {f(e_total)}", "", f"Output layer ({derivative}, "
              "dout/dnet = out (1 - out), dnet_o_k/dv_kj = out_h_j):"]
    for k in range(n_out):
        lines.append(f"  delta_o{k + 1} = dE/dout_o{k + 1} * dout_o{k + 1}/dnet_o{k + 1} = "
                     f"{f(d_out[k])} * {f(sig_o[k])} = {f(delta_o[k])}")
        for j in range(n_hidden):
            lines.append(f"    dE/dv{k + 1}{j + 1} = delta_o{k + 1} * out_h{j + 1} = "
                         f"{f(delta_o[k])} * {f(out_h[j])} = {f(grad_w2[k, j])};  "
                         f"v{k + 1}{j + 1} <- {f(w2[k, j])} - {number(lr)}*{f(grad_w2[k, j])}"
                         f" = {f(new_w2[k, j])}")
    lines += ["", "Hidden layer (the error reaches h_j through every output it feeds, using "
                  "the old output weights):"]
    for j in range(n_hidden):
        terms = " + ".join(f"{f(delta_o[k])}*{f(w2[k, j])}" for k in range(n_out))
        lines += [f"  dE/dout_h{j + 1} = sum_k delta_o_k v_k{j + 1} = {terms} = {f(back[j])}",
                  f"  delta_h{j + 1} = {f(back[j])} * out_h{j + 1}(1 - out_h{j + 1}) = "
                  f"{f(back[j])} * {f(sig_h[j])} = {f(delta_h[j])}"]
        for i in range(x.size):
            lines.append(f"    dE/dw{j + 1}{i + 1} = delta_h{j + 1} * x{i + 1} = {f(delta_h[j])}"
                         f" * {f(x[i])} = {f(grad_w1[j, i])};  w{j + 1}{i + 1} <- "
                         f"{f(w1[j, i])} - {number(lr)}*{f(grad_w1[j, i])} = {f(new_w1[j, i])}")
    lines += ["", f"Biases (shared per layer): dE/db1 = sum_j delta_h_j = {f(grad_b1)}, "
                  f"dE/db2 = sum_k delta_o_k = {f(grad_b2)}"
              + (f"; b1 <- {f(new_b1)}, b2 <- {f(new_b2)}" if update_biases else
                 " (kept fixed, as in the notes; --update-biases to update them)")]
    return Explanation("Backpropagation, one step", lines, e_total, outputs=out_o,
                       hidden=out_h, net_hidden=net_h, net_output=net_o,
                       grad_w_hidden=grad_w1, grad_w_output=grad_w2, grad_b_hidden=grad_b1,
                       grad_b_output=grad_b2, new_w_hidden=new_w1, new_w_output=new_w2,
                       new_b_hidden=new_b1, new_b_output=new_b2)
