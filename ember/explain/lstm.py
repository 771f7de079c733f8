"""One LSTM step worked by hand: each gate's pre-activation, value, and the new cell and
hidden states (PyTorch's equations and weight layout)."""

from __future__ import annotations

import numpy as np

from ember.explain.registry import Explanation, option, register
from ember.explain.values import as_matrix, as_vector, number, product

__all__ = ["lstm_step"]

_GATES = [("i", "input gate", "sigmoid"), ("f", "forget gate", "sigmoid"),
          ("g", "cell candidate", "tanh"), ("o", "output gate", "sigmoid")]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _weights(value, name: str, rows: int, cols: int, gates: str = "i, f, g, o",
             count: int = 4) -> np.ndarray:
    """A (rows, cols) matrix; a flat list of rows * cols numbers is read row by row."""
    w = as_matrix(value, name)
    if w.shape == (rows, cols):
        return w
    if 1 in w.shape and w.size == rows * cols:
        return w.reshape(rows, cols)
    raise ValueError(f"{name} must be {count}*hidden x input = {rows}x{cols} (rows: the "
                     f"{gates} gates, PyTorch's layout), got {w.shape[0]}x{w.shape[1]}")


def _bias(value, name: str, size: int, count: int = 4) -> np.ndarray | None:
    if value is None:
        return None
    b = as_vector(value, name)
    if b.size != size:
        raise ValueError(f"{name} must have {count}*hidden = {size} numbers, got {b.size}")
    return b


@register("lstm-step", "one LSTM step with given weights, each gate's value",
          option("--x", "x", as_vector, 'the input x_t, e.g. "1 2"'),
          option("--h", "h", as_vector, "the previous hidden state (default zeros)",
                 default=None),
          option("--c", "c", as_vector, "the previous cell state (default zeros)",
                 default=None),
          option("--weight-ih", "weight_ih", as_matrix, "input weights, 4H x I (rows: i, f, "
                 'g, o), e.g. "0.5; 0.4; 0.3; 0.2" for one input and one unit'),
          option("--weight-hh", "weight_hh", as_matrix, "hidden weights, 4H x H"),
          option("--bias-ih", "bias_ih", as_vector, "input bias, 4H numbers (default none)",
                 default=None),
          option("--bias-hh", "bias_hh", as_vector, "hidden bias, 4H numbers (default "
                 "none)", default=None))
def lstm_step(x, h=None, c=None, weight_ih=None, weight_hh=None, bias_ih=None,
              bias_hh=None) -> Explanation:
    """One step of an LSTM cell, as PyTorch's ``LSTMCell``:

    .. math::
        i = \\sigma(W_{ii} x + b_{ii} + W_{hi} h + b_{hi}), \\quad
        f = \\sigma(W_{if} x + b_{if} + W_{hf} h + b_{hf}),

        g = \\tanh(W_{ig} x + b_{ig} + W_{hg} h + b_{hg}), \\quad
        o = \\sigma(W_{io} x + b_{io} + W_{ho} h + b_{ho}),

        c' = f c + i g, \\quad h' = o \\tanh(c')

    The forget gate f decides how much of the old cell state to keep, the input gate i
    how much of the candidate g to write, and the output gate o how much of the cell to
    show as the hidden state.

    Args:
        x: the input (I numbers).
        h, c: the previous hidden and cell states (H numbers each; default zeros).
        weight_ih: (4H, I), the rows of the i, f, g, o gates stacked (PyTorch's
            ``weight_ih``); a flat list of 4H*I numbers is read row by row.
        weight_hh: (4H, H), likewise (``weight_hh``).
        bias_ih, bias_hh: 4H numbers each, or None for no bias.

    Returns:
        the working; ``result`` is ``(h', c')``; ``i``, ``f``, ``g``, ``o``, ``h_next``
        and ``c_next`` are arrays.

    >>> import ember as em
    >>> e = em.explain.lstm_step(x=[1], h=[0], c=[0], weight_ih=[0.5, 0.5, 0.5, 0.5],
    ...                          weight_hh=[0, 0, 0, 0])
    >>> [round(float(v[0]), 4) for v in (e.i, e.g, e.c_next)]   # sigmoid(.5), tanh(.5)
    [0.6225, 0.4621, 0.2876]
    """
    x = as_vector(x, "x")
    if weight_ih is None or weight_hh is None:
        raise ValueError("lstm_step needs weight_ih and weight_hh")
    n_in = x.size
    w_ih = as_matrix(weight_ih, "weight_ih")
    if w_ih.size % (4 * n_in):
        raise ValueError(f"weight_ih must have 4*hidden*{n_in} numbers (4 gates, {n_in} "
                         f"inputs), got {w_ih.size}")
    hidden = w_ih.size // (4 * n_in)
    w_ih = _weights(w_ih, "weight_ih", 4 * hidden, n_in)
    w_hh = _weights(weight_hh, "weight_hh", 4 * hidden, hidden)
    b_ih, b_hh = _bias(bias_ih, "bias_ih", 4 * hidden), _bias(bias_hh, "bias_hh", 4 * hidden)
    h = np.zeros(hidden) if h is None else as_vector(h, "h")
    c = np.zeros(hidden) if c is None else as_vector(c, "c")
    for name, v in (("h", h), ("c", c)):
        if v.size != hidden:
            raise ValueError(f"{name} must have {hidden} numbers (the hidden size), "
                             f"got {v.size}")

    lines = [f"x = [{_list(x)}], h = [{_list(h)}], c = [{_list(c)}]   "
             f"({n_in} input(s), {hidden} unit(s); gate rows in order i, f, g, o)"]
    gates = {}
    for k, (gate, label, act) in enumerate(_GATES):
        rows = slice(k * hidden, (k + 1) * hidden)
        s = gate
        lines.append(f"{label}: {gate} = {act}(W_i{s} x" + (f" + b_i{s}" if b_ih is not None
                                                           else "")
                     + f" + W_h{s} h" + (f" + b_h{s}" if b_hh is not None else "") + ")")
        z = w_ih[rows] @ x + w_hh[rows] @ h
        z += 0 if b_ih is None else b_ih[rows]
        z += 0 if b_hh is None else b_hh[rows]
        value = _sigmoid(z) if act == "sigmoid" else np.tanh(z)
        for u in range(hidden):
            terms = [product(w, v) for w, v in zip(w_ih[rows][u], x, strict=True)]
            if b_ih is not None:
                terms.append(_paren(b_ih[rows][u]))
            terms += [product(w, v) for w, v in zip(w_hh[rows][u], h, strict=True)]
            if b_hh is not None:
                terms.append(_paren(b_hh[rows][u]))
            lines.append(f"  {_at(gate, u, hidden)} = {act}({' + '.join(terms)}) = "
                         f"{act}({number(z[u])}) = {number(value[u])}")
        gates[gate] = value
    i, f, g, o = gates["i"], gates["f"], gates["g"], gates["o"]
    c_next = f * c + i * g
    h_next = o * np.tanh(c_next)
    quote = "'"  # c', h': the new states
    lines.append("new cell state: c' = f*c + i*g")
    for u in range(hidden):
        lines.append(f"  {_at('c' + quote, u, hidden)} = {product(f[u], c[u])} + "
                     f"{product(i[u], g[u])} = {number(c_next[u])}")
    lines.append("new hidden state: h' = o*tanh(c')")
    for u in range(hidden):
        lines.append(f"  {_at('h' + quote, u, hidden)} = {_paren(o[u])}*tanh("
                     f"{number(c_next[u])}) = {product(o[u], np.tanh(c_next[u]))} = "
                     f"{number(h_next[u])}")
    lines.append(f"Result: h' = [{_list(h_next)}], c' = [{_list(c_next)}]   (numbers shown "
                 "to 4 decimals, computed unrounded).")
    return Explanation("One LSTM step", lines, (h_next, c_next), i=i, f=f, g=g, o=o,
                       h_next=h_next, c_next=c_next)


def _at(name: str, unit: int, hidden: int) -> str:
    return name if hidden == 1 else f"{name}[{unit}]"


def _paren(v) -> str:
    text = number(v)
    return f"({text})" if text.startswith("-") else text


def _list(v: np.ndarray) -> str:
    return ", ".join(number(a) for a in v)
