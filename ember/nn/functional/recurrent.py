"""recurrent: RNN, LSTM and GRU cells (one time step) and whole-sequence layers.

The cells (``lstm_cell``, ...) are composed from tensor ops: short, and differentiated
by the autograd engine like any other expression.

The sequence functions (``lstm``, ``gru``, ``rnn_tanh``, ``rnn_relu``; PyTorch's
``torch.lstm``, ... signatures) run each layer and direction as ONE primitive:

* forward: the input projections of all time steps in one matmul,
  :math:`X W_{ih}^T + b` of shape (T, N, G H), then a loop over time that does only
  :math:`h_{t-1} W_{hh}^T` and the gate arithmetic (about ten NumPy calls a step), keeping
  the gate activations, states and :math:`\\tanh c_t` on a tape;
* backward (its VJP): backpropagation through time, one matmul
  :math:`\\delta_t W_{hh}` per step, then every weight gradient in one matmul over all
  steps, e.g. :math:`\\partial L / \\partial W_{hh} = \\sum_t \\delta_t^T h_{t-1}`.

Its single output packs ``[output (T rows); h_n; c_n (LSTM)]`` along the first axis; the
caller slices it with (differentiable) indexing. Variable-length batches pass ``lengths``:
beyond its length a sequence's state is carried unchanged and its output is 0, so ``h_n``
is each sequence's state after its last element (for the reverse direction, after its
first), exactly as PyTorch's packed sequences.

Sigmoid gates are computed as :math:`\\sigma(a) = (1 + \\tanh(a/2))/2`, with the 1/2
folded into the weights (halving is exact in floating point): one ``tanh`` call serves
every gate of a step.
"""

from __future__ import annotations

import weakref

import numpy as np

from ember import creation, functions, parallel
from ember.autograd.engine import is_grad_enabled
from ember.autograd.primitives import defcomposite, defvjp_argnum, primitive
from ember.errors import ShapeError
from ember.nn.functional.dropout import dropout as _dropout
from ember.nn.functional.linear import linear
from ember.tensor import Tensor

__all__ = ["rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell",
           "rnn_tanh", "rnn_relu", "lstm", "gru"]

# ----------------------------------------------------------------------------- cells


def rnn_tanh_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """One step of the Elman RNN: :math:`h' = \\tanh(x W_{ih}^T + b_{ih} + h W_{hh}^T + b_{hh})`.

    Args: input (N, I) or (I,); hx (N, H) or (H,); w_ih (H, I); w_hh (H, H); biases (H,).

    >>> import ember as em
    >>> from ember.nn.functional.recurrent import rnn_tanh_cell
    >>> w = em.ones(2, 3) * 0.1
    >>> rnn_tanh_cell(em.ones(1, 3), em.zeros(1, 2), w, em.eye(2))
    tensor([[0.2913, 0.2913]])
    """
    return functions.tanh(linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh))


def rnn_relu_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """One step of the ReLU RNN:
    :math:`h' = \\max(0, x W_{ih}^T + b_{ih} + h W_{hh}^T + b_{hh})`."""
    return functions.relu(linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh))


def lstm_cell(input: Tensor, hx: tuple[Tensor, Tensor], w_ih: Tensor, w_hh: Tensor,
              b_ih: Tensor | None = None, b_hh: Tensor | None = None
              ) -> tuple[Tensor, Tensor]:
    """One LSTM step; ``hx = (h, c)``; returns ``(h', c')``. Gates in PyTorch's order i, f, g, o.

    .. math::
        i = \\sigma(W_{ii} x + b_{ii} + W_{hi} h + b_{hi}), \\quad
        f = \\sigma(W_{if} x + b_{if} + W_{hf} h + b_{hf}),

        g = \\tanh(W_{ig} x + b_{ig} + W_{hg} h + b_{hg}), \\quad
        o = \\sigma(W_{io} x + b_{io} + W_{ho} h + b_{ho}),

        c' = f \\odot c + i \\odot g, \\qquad h' = o \\odot \\tanh(c')

    Args: input (N, I); h, c (N, H); w_ih (4H, I); w_hh (4H, H); biases (4H,).
    """
    h, c = hx
    gates = linear(input, w_ih, b_ih) + linear(h, w_hh, b_hh)
    i, f, g, o = functions.chunk(gates, 4, -1)
    c_next = functions.sigmoid(f) * c + functions.sigmoid(i) * functions.tanh(g)
    return functions.sigmoid(o) * functions.tanh(c_next), c_next


def gru_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
             b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """One GRU step (gates r, z, n in PyTorch's order):

    .. math::
        r = \\sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}), \\quad
        z = \\sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}),

        n = \\tanh(W_{in} x + b_{in} + r \\odot (W_{hn} h + b_{hn})), \\qquad
        h' = (1 - z) \\odot n + z \\odot h

    Args: input (N, I); hx (N, H); w_ih (3H, I); w_hh (3H, H); biases (3H,).
    """
    x_r, x_z, x_n = functions.chunk(linear(input, w_ih, b_ih), 3, -1)
    h_r, h_z, h_n = functions.chunk(linear(hx, w_hh, b_hh), 3, -1)
    r = functions.sigmoid(x_r + h_r)
    z = functions.sigmoid(x_z + h_z)
    n = functions.tanh(x_n + r * h_n)
    return n + z * (hx - n)


# ----------------------------------------------------------------------------- forward loops

_SIGMOID_GATES = {"rnn_tanh": (0,), "rnn_relu": (0,), "lstm": (1, 1, 0, 1), "gru": (1, 1, 0)}


class _Pool:
    """Scratch arrays recycled between calls, by (shape, dtype), up to ``budget`` bytes.

    # NOTE: a fresh multi-megabyte array is new memory from the OS, and the first write to
    # each of its pages faults (a third of an LSTM step on a VM); recycling the tapes'
    # arrays, as PyTorch's caching allocator does, avoids that.
    """

    def __init__(self, budget: int = 64 * 2**20) -> None:
        self.budget, self.held, self.free = budget, 0, {}

    def take(self, xp, shape: tuple, dtype):
        stack = self.free.get((xp.ndarray, shape, xp.dtype(dtype)))
        if stack:
            array = stack.pop()
            self.held -= array.nbytes
            return array
        return xp.empty(shape, dtype)

    def give(self, arrays) -> None:
        for array in arrays:
            if self.held + array.nbytes <= self.budget:
                self.free.setdefault((type(array), array.shape, array.dtype), []).append(array)
                self.held += array.nbytes


_POOL = _Pool()


class _Tape:
    """What one layer's forward keeps for its backward through time (arrays indexed by t).

    Its arrays come from the pool and go back to it when the tape is freed with the graph.
    """

    def __init__(self) -> None:
        self.g = None  # the output gradient the cached BPTT results below belong to
        self.bptt = None
        self.scratch: list = []
        weakref.finalize(self, _POOL.give, self.scratch)

    def array(self, xp, shape: tuple, dtype):
        array = _POOL.take(xp, shape, dtype)
        self.scratch.append(array)
        return array


def _prepare(xp, mode, x, w_ih, w_hh, b_ih, b_hh):
    """All input projections in one matmul (into a pooled array), and W_hh^T, with the
    sigmoid gates' rows halved."""
    T, N, _ = x.shape
    H = w_hh.shape[1]
    sigmoid = xp.repeat(xp.asarray(_SIGMOID_GATES[mode], dtype=bool), H)
    scale = xp.where(sigmoid, 0.5, 1.0).astype(x.dtype)
    shift = xp.where(sigmoid, 0.5, 0.0).astype(x.dtype)
    bias = None
    if b_ih is not None:
        bias = b_ih + (b_hh if mode != "gru" else xp.where(sigmoid, b_hh, 0))  # GRU: b_hn apart
    if mode in ("lstm", "gru"):
        w_ih, w_hh = w_ih * scale[:, None], w_hh * scale[:, None]
        bias = None if bias is None else bias * scale
    xw = _POOL.take(xp, (T, N, w_ih.shape[0]), x.dtype)
    parallel.matmul(xp, x.reshape(T * N, -1), w_ih.T, out=xw.reshape(T * N, -1))
    if bias is not None:
        xw += bias
    return xw, xp.ascontiguousarray(w_hh.T), scale, shift


def _masks(xp, lengths, T):
    """(T, N, 1) booleans, True while t < length (None when every sequence is full)."""
    if lengths is None:
        return None
    return (xp.arange(T)[:, None] < xp.asarray(lengths)[None, :])[:, :, None]


def _emit(xp, new, old, masks, t, out):
    """Write step t's output; return the state carried on (unchanged past a length)."""
    if masks is None:
        out[t] = new
        return new
    out[t] = xp.where(masks[t], new, 0)
    return xp.where(masks[t], new, old)


def _recurrence(xp, mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, tape, reverse, lengths):
    T, N, _ = x.shape
    H = w_hh.shape[1]
    G = len(_SIGMOID_GATES[mode])
    xw, w_hh_t, scale, shift = _prepare(xp, mode, x, w_ih, w_hh, b_ih, b_hh)
    masks = _masks(xp, lengths, T)
    h = xp.zeros((N, H), x.dtype) if h0 is None else h0
    c = xp.zeros((N, H), x.dtype) if c0 is None and mode == "lstm" else c0
    out = xp.empty((T + (2 if mode == "lstm" else 1), N, H), x.dtype)
    if tape is not None:
        tape.gates = tape.array(xp, (T, N, G * H), x.dtype)  # activations, PyTorch's order
        tape.prev_h = tape.array(xp, (T, N, H), x.dtype)  # the state each step starts from
        if mode == "lstm":
            tape.prev_c = tape.array(xp, (T, N, H), x.dtype)
            tape.tanh_c = tape.array(xp, (T, N, H), x.dtype)
        if mode == "gru":
            tape.hh_n = tape.array(xp, (T, N, H), x.dtype)  # W_hn h + b_hn
    b_hn = None if b_hh is None or mode != "gru" else b_hh[2 * H:]
    for t in range(T - 1, -1, -1) if reverse else range(T):
        a = parallel.matmul(xp, h, w_hh_t, out=None if tape is None else tape.gates[t])
        if tape is not None:
            tape.prev_h[t] = h
        if mode == "rnn_tanh":
            a += xw[t]
            h = _emit(xp, xp.tanh(a, out=a), h, masks, t, out)
        elif mode == "rnn_relu":
            a += xw[t]
            h = _emit(xp, xp.maximum(a, 0, out=a), h, masks, t, out)
        elif mode == "lstm":
            a += xw[t]
            xp.tanh(a, out=a)
            a *= scale
            a += shift  # i, f, o = sigma(.), g = tanh(.)
            c_new = a[:, H:2 * H] * c
            c_new += a[:, :H] * a[:, 2 * H:3 * H]
            h_new = a[:, 3 * H:] * xp.tanh(c_new, out=None if tape is None else tape.tanh_c[t])
            if tape is not None:
                tape.prev_c[t] = c
            c = c_new if masks is None else xp.where(masks[t], c_new, c)
            h = _emit(xp, h_new, h, masks, t, out)
        else:  # gru: a holds h W_hh^T; its r, z columns become the gates in place
            hh_n = a[:, 2 * H:] if b_hn is None else a[:, 2 * H:] + b_hn
            if tape is not None:
                tape.hh_n[t] = hh_n
            rz = a[:, :2 * H]
            rz += xw[t, :, :2 * H]
            xp.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5
            n = xp.multiply(a[:, :H], hh_n, out=a[:, 2 * H:])
            n += xw[t, :, 2 * H:]
            xp.tanh(n, out=n)
            h_new = h - n
            h_new *= a[:, H:2 * H]
            h_new += n  # (1 - z) n + z h
            h = _emit(xp, h_new, h, masks, t, out)
    out[T] = h
    if mode == "lstm":
        out[T + 1] = c
    _POOL.give([xw])
    return out


# ----------------------------------------------------------------------------- backward


def _backward_through_time(xp, mode, g, x, w_hh, tape, reverse, lengths):
    """dL/d(pre-activations) for every step, and dL/dh_0 (dL/dc_0), given g = dL/d(ans).

    Walks the steps in the reverse of the forward's order, carrying dh (and dc):
    at step t the state's gradient is what came from step t+1 plus dL/d(output_t).
    """
    T, N, _ = x.shape
    H = w_hh.shape[1]
    masks = _masks(xp, lengths, T)
    act = tape.gates
    dgx = tape.array(xp, act.shape, act.dtype)  # dL/d(x-side pre-activations)
    dgh = dgx if mode != "gru" else tape.array(xp, act.shape, act.dtype)  # dL/d(h W_hh^T + b)
    dh = g[T].copy()
    dc = g[T + 1].copy() if mode == "lstm" else None
    derivative = _POOL.take(xp, act.shape, act.dtype)  # d(activation)/d(pre-activation)
    scratch = [derivative]
    if mode == "rnn_tanh":
        _one_minus_square(xp, act, derivative)
    elif mode == "rnn_relu":
        xp.greater(act, 0, out=derivative)
    else:  # s (1 - s) for the sigmoid gates, 1 - g^2 for the tanh gate (g; GRU: n)
        xp.subtract(1, act, out=derivative)
        derivative *= act
        tanh_gate = slice(2 * H, 3 * H)
        _one_minus_square(xp, act[:, :, tanh_gate], derivative[:, :, tanh_gate])
    if mode == "lstm":
        dtanh_c = _one_minus_square(xp, tape.tanh_c, _POOL.take(xp, tape.tanh_c.shape, act.dtype))
        scratch.append(dtanh_c)
    if mode == "gru":
        r, z, n = act[:, :, :H], act[:, :, H:2 * H], act[:, :, 2 * H:]
        one_minus_z = xp.subtract(1, z, out=_POOL.take(xp, z.shape, z.dtype))
        h_minus_n = xp.subtract(tape.prev_h, n, out=_POOL.take(xp, z.shape, z.dtype))
        scratch += [one_minus_z, h_minus_n]
    for t in range(T) if reverse else range(T - 1, -1, -1):
        dh_new = dh + g[t]
        if masks is not None:  # past a length: the state was carried, not computed
            keep_h, dh_new = xp.where(masks[t], 0, dh), xp.where(masks[t], dh_new, 0)
            if mode == "lstm":
                keep_c, dc = xp.where(masks[t], 0, dc), xp.where(masks[t], dc, 0)
        d = dgx[t]
        if mode in ("rnn_tanh", "rnn_relu"):
            xp.multiply(dh_new, derivative[t], out=d)
        elif mode == "lstm":
            a = act[t]
            xp.multiply(dh_new, tape.tanh_c[t], out=d[:, 3 * H:])  # dL/do
            dc_t = dh_new * a[:, 3 * H:]
            dc_t *= dtanh_c[t]
            dc_t += dc  # dL/dc_t
            xp.multiply(dc_t, a[:, 2 * H:3 * H], out=d[:, :H])  # dL/di = dc_t g
            xp.multiply(dc_t, tape.prev_c[t], out=d[:, H:2 * H])  # dL/df = dc_t c_{t-1}
            xp.multiply(dc_t, a[:, :H], out=d[:, 2 * H:3 * H])  # dL/dg = dc_t i
            d *= derivative[t]
            dc = dc_t * a[:, H:2 * H]  # dL/dc_{t-1} = dc_t f
        else:
            xp.multiply(dh_new, one_minus_z[t], out=d[:, 2 * H:])  # dL/dn
            xp.multiply(dh_new, h_minus_n[t], out=d[:, H:2 * H])  # dL/dz
            d[:, 2 * H:] *= derivative[t, :, 2 * H:]
            xp.multiply(d[:, 2 * H:], tape.hh_n[t], out=d[:, :H])  # dL/dr
            d[:, :2 * H] *= derivative[t, :, :2 * H]
            dgh[t, :, :2 * H] = d[:, :2 * H]
            xp.multiply(d[:, 2 * H:], r[t], out=dgh[t, :, 2 * H:])
        dh = parallel.matmul(xp, dgh[t], w_hh)
        if mode == "gru":
            dh += dh_new * z[t]
        if masks is not None:
            dh += keep_h
            if mode == "lstm":
                dc += keep_c
    _POOL.give(scratch)
    return dgx, dgh, dh, dc


def _one_minus_square(xp, a, out):
    """out = 1 - a^2 (tanh' from tanh), in place."""
    xp.multiply(a, a, out=out)
    return xp.subtract(1, out, out=out)


def _recurrence_vjp(argnum, xp, g, ans, x, h0, c0, w_ih, w_hh, b_ih, b_hh, tape, *,
                    mode, reverse, lengths):
    """One backward through time per incoming gradient (cached on the tape), then each
    input's gradient: dL/dx = D_x W_ih, dL/dW_ih = D_x^T X, dL/dW_hh = D_h^T H_prev, ..."""
    if tape.g is not g:
        tape.g = g
        tape.bptt = _backward_through_time(xp, mode, g, x, w_hh, tape, reverse, lengths)
    dgx, dgh, dh0, dc0 = tape.bptt
    T, N, I = x.shape
    if argnum == 0:
        return parallel.matmul(xp, dgx.reshape(T * N, -1), w_ih).reshape(x.shape)
    if argnum == 1:
        return dh0
    if argnum == 2:
        return dc0
    if argnum == 3:
        return parallel.matmul(xp, dgx.reshape(T * N, -1).T, x.reshape(T * N, I))
    if argnum == 4:
        return parallel.matmul(xp, dgh.reshape(T * N, -1).T, tape.prev_h.reshape(T * N, -1))
    if argnum == 5:
        return dgx.sum(axis=(0, 1))
    if argnum == 6:
        return dgh.sum(axis=(0, 1))
    return None


def _make_layer_op(mode):
    # NOTE: a whole layer is one primitive (not a graph of ~15 nodes per step) so that a
    # step costs a handful of NumPy calls forward and backward.
    def forward(xp, x, h0, c0, w_ih, w_hh, b_ih, b_hh, tape, *, reverse, lengths):
        return _recurrence(xp, mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, tape, reverse,
                           lengths)

    forward.__name__ = mode
    forward.__doc__ = f"One {mode} layer over a time-major sequence (see the module docs)."
    op = primitive(forward, saves="inputs")
    defvjp_argnum(op, lambda argnum, *args, **params: _recurrence_vjp(
        argnum, *args, mode=mode, **params))
    defcomposite(op, lambda *inputs, **params: _recurrence_composite(mode, *inputs, **params))
    return op


_CELLS = {"rnn_tanh": rnn_tanh_cell, "rnn_relu": rnn_relu_cell, "lstm": lstm_cell,
          "gru": gru_cell}


def _recurrence_composite(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, tape, *, reverse,
                          lengths):
    """The same layer as a loop of the (composed) cells, packed as the primitive's output:
    its gradient can be differentiated again (higher-order gradients)."""
    T, N, _ = x.shape
    H = w_hh.shape[1]
    h = creation.zeros(N, H, dtype=x.dtype) if h0 is None else h0
    c = creation.zeros(N, H, dtype=x.dtype) if c0 is None and mode == "lstm" else c0
    masks = _masks(np, lengths, T)
    outputs = [None] * T
    for t in range(T - 1, -1, -1) if reverse else range(T):
        if mode == "lstm":
            h_new, c_new = lstm_cell(x[t], (h, c), w_ih, w_hh, b_ih, b_hh)
        else:
            h_new = _CELLS[mode](x[t], h, w_ih, w_hh, b_ih, b_hh)
        if masks is None:
            outputs[t], h = h_new, h_new
            c = c_new if mode == "lstm" else c
        else:  # past a length the state is carried and the output is 0
            outputs[t] = functions.where(masks[t], h_new, 0.0)
            h = functions.where(masks[t], h_new, h)
            c = functions.where(masks[t], c_new, c) if mode == "lstm" else c
    return functions.stack(outputs + [h] + ([c] if mode == "lstm" else []))


_LAYER_OPS = {mode: _make_layer_op(mode) for mode in _SIGMOID_GATES}

# ----------------------------------------------------------------------------- sequences


def _check_lengths(lengths, T: int, N: int, name: str):
    if lengths is None:
        return None
    array = np.asarray(lengths._data if isinstance(lengths, Tensor) else lengths)
    if array.shape != (N,) or array.dtype.kind not in "iu":
        raise ValueError(f"{name}: lengths must be {N} integers (one per sequence), got "
                         f"{array.dtype} of shape {array.shape}")
    if array.size and (array.min() < 1 or array.max() > T):
        raise ValueError(f"{name}: lengths must be between 1 and the sequence length {T}, "
                         f"got {array.tolist()}")
    return None if (array == T).all() else array.astype(np.int64)


def _run(mode, name, input, hx, params, has_biases, num_layers, dropout, train,
         bidirectional, batch_first, lengths):
    """The stacked, optionally bidirectional recurrence; returns (output, h_n, c_n)."""
    D = 2 if bidirectional else 1
    per_layer = 4 if has_biases else 2
    params = list(params)
    if len(params) != num_layers * D * per_layer:
        raise ValueError(f"{name}: expected {num_layers * D * per_layer} weight tensors "
                         f"for {num_layers} layer(s) x {D} direction(s), got {len(params)}")
    if input.ndim not in (2, 3):
        raise ShapeError(f"{name}: expected a 2-d (unbatched) or 3-d input, got shape "
                         f"{tuple(input.shape)}")
    batched = input.ndim == 3
    x = input if not batched else (input.transpose(0, 1) if batch_first else input)
    x = x if batched else x.unsqueeze(1)
    T, N, features = x.shape
    if features != params[0].shape[1]:
        raise ShapeError(f"{name}: input of shape {tuple(input.shape)} has {features} "
                         f"features, but the layer expects input_size={params[0].shape[1]}")
    if x.dtype != params[0].dtype:
        raise TypeError(f"{name}: input is {x.dtype} but the weights are "
                        f"{params[0].dtype}; convert one (e.g. module.double())")
    H = params[1].shape[1]
    if mode != "lstm" or hx is None:
        states = (hx, None)
    elif isinstance(hx, (tuple, list)) and len(hx) == 2:
        states = hx
    else:
        raise ValueError(f"{name}: hx must be a tuple (h_0, c_0) of two tensors")
    h0, c0 = (_initial(s, label, (num_layers * D, N, H), batched, x.dtype, name)
              for s, label in zip(states, ("h_0", "c_0"), strict=True))
    lengths = _check_lengths(lengths, T, N, name)
    op = _LAYER_OPS[mode]
    recording = is_grad_enabled()
    h_n, c_n = [], []
    for layer in range(num_layers):
        outputs = []
        for direction in range(D):
            k = layer * D + direction
            w = params[k * per_layer:(k + 1) * per_layer] + [None] * (4 - per_layer)
            inputs = (x, None if h0 is None else h0[k], None if c0 is None else c0[k], *w)
            saving = recording and any(isinstance(v, Tensor) and v.requires_grad
                                       for v in inputs)
            ans = op(*inputs, _Tape() if saving else None, reverse=direction == 1,
                     lengths=lengths)
            outputs.append(ans[:T])
            h_n.append(ans[T])
            if mode == "lstm":
                c_n.append(ans[T + 1])
        x = outputs[0] if D == 1 else functions.cat(outputs, dim=2)
        if dropout and train and layer < num_layers - 1:
            x = _dropout(x, dropout, True)
    output = (x.transpose(0, 1) if batch_first else x) if batched else x.squeeze(1)
    h_n = functions.stack(h_n)
    c_n = functions.stack(c_n) if mode == "lstm" else None
    if not batched:
        h_n = h_n.squeeze(1)
        c_n = c_n.squeeze(1) if c_n is not None else None
    return output, h_n, c_n


def _initial(state, label, shape, batched, dtype, name):
    """An initial state as (layers, N, H), checked (None stays None: zeros)."""
    if state is None:
        return None
    expected = shape if batched else (shape[0], shape[2])
    if tuple(state.shape) != expected:
        raise ShapeError(f"{name}: expected {label} of shape {expected}, got "
                         f"{tuple(state.shape)}")
    if state.dtype != dtype:
        raise TypeError(f"{name}: {label} is {state.dtype} but the input is {dtype}")
    return state if batched else state.unsqueeze(1)


def rnn_tanh(input: Tensor, hx, params: list, has_biases: bool = True,
             num_layers: int = 1, dropout: float = 0.0, train: bool = False,
             bidirectional: bool = False, batch_first: bool = False, *,
             lengths=None) -> tuple[Tensor, Tensor]:
    """Elman RNN over a sequence, :math:`h_t = \\tanh(x_t W_{ih}^T + b_{ih} + h_{t-1} W_{hh}^T
    + b_{hh})`; returns ``(output, h_n)``. Arguments as :func:`lstm`; see :class:`ember.nn.RNN`.
    """
    output, h_n, _ = _run("rnn_tanh", "rnn_tanh", input, hx, params, has_biases, num_layers,
                          dropout, train, bidirectional, batch_first, lengths)
    return output, h_n


def rnn_relu(input: Tensor, hx, params: list, has_biases: bool = True,
             num_layers: int = 1, dropout: float = 0.0, train: bool = False,
             bidirectional: bool = False, batch_first: bool = False, *,
             lengths=None) -> tuple[Tensor, Tensor]:
    """ReLU RNN over a sequence, :math:`h_t = \\max(0, x_t W_{ih}^T + b_{ih} + h_{t-1}
    W_{hh}^T + b_{hh})`; returns ``(output, h_n)``. Arguments as :func:`lstm`."""
    output, h_n, _ = _run("rnn_relu", "rnn_relu", input, hx, params, has_biases, num_layers,
                          dropout, train, bidirectional, batch_first, lengths)
    return output, h_n


def lstm(input: Tensor, hx, params: list, has_biases: bool = True,
         num_layers: int = 1, dropout: float = 0.0, train: bool = False,
         bidirectional: bool = False, batch_first: bool = False, *,
         lengths=None) -> tuple[Tensor, Tensor, Tensor]:
    """LSTM over a sequence (equations in :func:`lstm_cell` and :class:`ember.nn.LSTM`);
    returns ``(output, h_n, c_n)``, as ``torch.lstm``.

    Args:
        input: (T, N, I) (or (N, T, I) with ``batch_first``; (T, I) unbatched).
        hx: ``(h_0, c_0)``, each (num_layers * D, N, H), or None for zeros (for the RNN
            and GRU: h_0 alone).
        params: the weights in PyTorch's ``_flat_weights`` order: for each layer and
            direction ``w_ih, w_hh[, b_ih, b_hh]`` (``weight_ih_l0``, ``weight_hh_l0``, ...).
        has_biases: whether ``params`` holds the biases.
        num_layers: stacked layers; layer k > 0 reads layer k-1's output.
        dropout: dropout probability on each layer's output except the last's.
        train: apply that dropout.
        bidirectional: a second pass over the reversed sequence per layer (D = 2); the two
            directions' outputs are concatenated, forward first.
        batch_first: input and output are (N, T, .).
        lengths: optional (N,) sequence lengths (ember's extension; packed sequences use
            it): outputs past a length are 0 and h_n is the state after the last element.

    >>> import ember as em
    >>> from ember.nn.functional.recurrent import lstm
    >>> weights = [em.randn(20, 3), em.randn(20, 5), em.zeros(20), em.zeros(20)]
    >>> out, h_n, c_n = lstm(em.randn(7, 2, 3), None, weights)
    >>> out.shape, h_n.shape, c_n.shape
    ((7, 2, 5), (1, 2, 5), (1, 2, 5))
    """
    return _run("lstm", "lstm", input, hx, params, has_biases, num_layers, dropout, train,
                bidirectional, batch_first, lengths)


def gru(input: Tensor, hx, params: list, has_biases: bool = True,
        num_layers: int = 1, dropout: float = 0.0, train: bool = False,
        bidirectional: bool = False, batch_first: bool = False, *,
        lengths=None) -> tuple[Tensor, Tensor]:
    """GRU over a sequence (equations in :func:`gru_cell` and :class:`ember.nn.GRU`);
    returns ``(output, h_n)``. Arguments as :func:`lstm`."""
    output, h_n, _ = _run("gru", "gru", input, hx, params, has_biases, num_layers, dropout,
                          train, bidirectional, batch_first, lengths)
    return output, h_n
