"""One GRU step worked by hand: the reset and update gates, the candidate state and the
new hidden state (PyTorch's equations and weight layout), beside ``lstm-step``."""

from __future__ import annotations

import numpy as np

from ember.explain.lstm import _at, _bias, _list, _paren, _sigmoid, _weights
from ember.explain.registry import Explanation, option, register
from ember.explain.values import as_matrix, as_vector, number, product

__all__ = ["gru_step"]


@register("gru-step", "one GRU step with given weights: reset and update gates, candidate "
                      "and new state",
          option("--x", "x", as_vector, 'the input x_t, e.g. "1 2"'),
          option("--h", "h", as_vector, "the previous hidden state (default zeros)",
                 default=None),
          option("--weight-ih", "weight_ih", as_matrix, "input weights, 3H x I (rows: r, z, "
                 'n), e.g. "0.5; 0.4; 0.3" for one input and one unit'),
          option("--weight-hh", "weight_hh", as_matrix, "hidden weights, 3H x H"),
          option("--bias-ih", "bias_ih", as_vector, "input bias, 3H numbers (default none)",
                 default=None),
          option("--bias-hh", "bias_hh", as_vector, "hidden bias, 3H numbers (default "
                 "none)", default=None))
def gru_step(x, h=None, weight_ih=None, weight_hh=None, bias_ih=None,
             bias_hh=None) -> Explanation:
    """One step of a GRU cell, as PyTorch's ``GRUCell``:

    .. math::
        r = \\sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}), \\quad
        z = \\sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}),

        n = \\tanh(W_{in} x + b_{in} + r \\odot (W_{hn} h + b_{hn})), \\quad
        h' = (1 - z) \\odot n + z \\odot h

    The update gate z decides how much of the old state to keep (an LSTM's forget and
    input gates in one); the reset gate r how much of the old state the candidate n may
    read. Note that r multiplies ``W_hn h + b_hn`` after the product (PyTorch and cuDNN;
    the 2014 paper applies r to h first).

    Args:
        x: the input (I numbers).
        h: the previous hidden state (H numbers; default zeros).
        weight_ih: (3H, I), the rows of the r, z, n gates stacked (PyTorch's layout).
        weight_hh: (3H, H), likewise.
        bias_ih, bias_hh: 3H numbers each, or None.

    Returns:
        the working; ``result`` is h'; ``r``, ``z``, ``n``, ``h_next`` are arrays.

    >>> import ember as em
    >>> e = em.explain.gru_step(x=[1], h=[0.5], weight_ih=[0.5, 0.5, 0.5],
    ...                         weight_hh=[1, 1, 1])
    >>> round(float(e.h_next[0]), 4)
    0.5535
    """
    x = as_vector(x, "x")
    if weight_ih is None or weight_hh is None:
        raise ValueError("gru_step needs weight_ih and weight_hh")
    n_in = x.size
    w_ih = as_matrix(weight_ih, "weight_ih")
    if w_ih.size % (3 * n_in):
        raise ValueError(f"weight_ih must have 3*hidden*{n_in} numbers (3 gates, {n_in} "
                         f"inputs), got {w_ih.size}")
    hidden = w_ih.size // (3 * n_in)
    w_ih = _weights(w_ih, "weight_ih", 3 * hidden, n_in, gates="r, z, n", count=3)
    w_hh = _weights(weight_hh, "weight_hh", 3 * hidden, hidden, gates="r, z, n", count=3)
    b_ih = _bias(bias_ih, "bias_ih", 3 * hidden, count=3)
    b_hh = _bias(bias_hh, "bias_hh", 3 * hidden, count=3)
    h = np.zeros(hidden) if h is None else as_vector(h, "h")
    if h.size != hidden:
        raise ValueError(f"h must have {hidden} numbers (the hidden size), got {h.size}")

    def part(matrix, bias, k, v):
        rows = slice(k * hidden, (k + 1) * hidden)
        value = matrix[rows] @ v + (0 if bias is None else bias[rows])
        terms = [[product(w, a) for w, a in zip(matrix[rows][u], v, strict=True)]
                 + ([] if bias is None else [_paren(bias[rows][u])]) for u in range(hidden)]
        return value, terms

    lines = [f"x = [{_list(x)}], h = [{_list(h)}]   ({n_in} input(s), {hidden} unit(s); "
             "gate rows in order r, z, n)"]
    gates = {}
    for k, (gate, label) in enumerate((("r", "reset gate"), ("z", "update gate"))):
        a, terms_x = part(w_ih, b_ih, k, x)
        b, terms_h = part(w_hh, b_hh, k, h)
        value = _sigmoid(a + b)
        lines.append(f"{label}: {gate} = sigmoid(W_i{gate} x" + (" + b_i" + gate if b_ih
                     is not None else "") + f" + W_h{gate} h" + (" + b_h" + gate if b_hh
                     is not None else "") + ")")
        for u in range(hidden):
            lines.append(f"  {_at(gate, u, hidden)} = sigmoid({' + '.join(terms_x[u] + terms_h[u])}"
                         f") = sigmoid({number(a[u] + b[u])}) = {number(value[u])}")
        gates[gate] = value
    r, z = gates["r"], gates["z"]
    a, terms_x = part(w_ih, b_ih, 2, x)
    b, terms_h = part(w_hh, b_hh, 2, h)
    n = np.tanh(a + r * b)
    lines.append("candidate: n = tanh(W_in x" + (" + b_in" if b_ih is not None else "")
                 + " + r*(W_hn h" + (" + b_hn" if b_hh is not None else "") + "))")
    for u in range(hidden):
        lines.append(f"  {_at('n', u, hidden)} = tanh({' + '.join(terms_x[u])} + "
                     f"{_paren(r[u])}*({' + '.join(terms_h[u])})) = tanh({number(a[u])} + "
                     f"{product(r[u], b[u])}) = {number(n[u])}")
    h_next = (1 - z) * n + z * h
    lines.append("new hidden state: h' = (1 - z)*n + z*h")
    quote = "h'"
    for u in range(hidden):
        lines.append(f"  {_at(quote, u, hidden)} = (1 - {number(z[u])})*"
                     f"{_paren(n[u])} + {product(z[u], h[u])} = {number(h_next[u])}")
    lines.append(f"Result: h' = [{_list(h_next)}]   (numbers shown to 4 decimals, computed "
                 "unrounded).")
    return Explanation("One GRU step", lines, h_next, r=r, z=z, n=n, h_next=h_next)
