"""Recurrent layers: RNN, LSTM and GRU over whole sequences, and their one-step cells.

Parameter names, shapes, gate order and initialisation are PyTorch's, so a PyTorch
``state_dict`` loads key for key (``weight_ih_l0``, ``weight_hh_l0_reverse``, ...) and
gives the same outputs. Training runs backpropagation through time over the whole
sequence (see :mod:`ember.nn.functional.recurrent`); for long sequences, truncate it with
``Trainer(..., tbptt_steps=k)``, and clip the gradients (``clip_grad_norm=``).
"""

from __future__ import annotations

import math
import numbers
import warnings

from ember import creation, dtypes
from ember.devices import check_device
from ember.nn import init
from ember.nn.functional import recurrent as R
from ember.nn.module import Module, Parameter
from ember.nn.utils.rnn import PackedSequence, _pack_sorted, _unpack_sorted
from ember.tensor import Tensor

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_FUNCTIONAL = {"RNN_TANH": "rnn_tanh", "RNN_RELU": "rnn_relu", "LSTM": "lstm", "GRU": "gru"}


class RNNBase(Module):
    """The shared machinery of :class:`RNN`, :class:`LSTM` and :class:`GRU`.

    ``mode`` is ``"RNN_TANH"``, ``"RNN_RELU"``, ``"LSTM"`` or ``"GRU"``.
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None) -> None:
        super().__init__()
        check_device(device, type(self).__name__)
        name = "RNN" if mode.startswith("RNN") else mode
        if mode not in _GATES:
            raise ValueError(f"RNNBase: unknown mode {mode!r}; use one of {sorted(_GATES)}")
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing "
                             f"the probability of an element being zeroed, got {dropout!r}")
        for label, value in (("input_size", input_size), ("hidden_size", hidden_size),
                             ("num_layers", num_layers)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name}: {label} must be a positive int, got {value!r}")
        if proj_size:
            raise NotImplementedError(f"{name}: proj_size (LSTM with projections) is not "
                                      "supported; use proj_size=0")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout is applied after every recurrent layer but the "
                          f"last, so dropout={dropout} with num_layers=1 does nothing",
                          UserWarning, stacklevel=3)
        self.mode, self._name = mode, name
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first = bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.proj_size = 0
        dtype = dtypes.as_dtype(dtype)
        gate_size = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [("weight_ih", (gate_size, layer_input)),
                          ("weight_hh", (gate_size, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                for kind, shape in shapes:
                    setattr(self, kind + suffix, Parameter(creation.empty(*shape, dtype=dtype)))
                    self._flat_weights_names.append(kind + suffix)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias from U(-k, k), k = 1/sqrt(hidden_size) (as PyTorch)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    @property
    def _flat_weights(self) -> list[Parameter]:
        """The parameters in PyTorch's order: per layer and direction w_ih, w_hh, b_ih, b_hh."""
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters grouped per layer and direction."""
        per = 4 if self.bias else 2
        weights = self._flat_weights
        return [weights[i:i + per] for i in range(0, len(weights), per)]

    def flatten_parameters(self) -> None:
        """A no-op, for PyTorch code that calls it (its weights are already one buffer)."""

    def forward(self, input, hx=None):
        """``(output, h_n)`` (LSTM: ``(output, (h_n, c_n))``) for a padded or packed input."""
        run = R._run
        args = (self._flat_weights, self.bias, self.num_layers, self.dropout, self.training,
                self.bidirectional)
        mode = _FUNCTIONAL[self.mode]
        if not isinstance(input, PackedSequence):
            output, h_n, c_n = run(mode, self._name, input, hx, *args, self.batch_first, None)
        else:  # run the padded, length-sorted batch with its lengths; pack the output again
            padded, lengths = _unpack_sorted(input)
            if hx is not None and input.sorted_indices is not None:
                order = input.sorted_indices._data
                hx = tuple(s[:, order] for s in hx) if self.mode == "LSTM" else hx[:, order]
            output, h_n, c_n = run(mode, self._name, padded, hx, *args, False, lengths)
            batch_sizes = input.batch_sizes._data
            output = PackedSequence(_pack_sorted(output, batch_sizes), input.batch_sizes,
                                    input.sorted_indices, input.unsorted_indices)
            if input.unsorted_indices is not None:
                order = input.unsorted_indices._data
                h_n = h_n[:, order]
                c_n = c_n[:, order] if c_n is not None else None
        return (output, (h_n, c_n)) if self.mode == "LSTM" else (output, h_n)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """Elman RNN over a sequence: for each step t and layer,

    .. math:: h_t = \\tanh(x_t W_{ih}^T + b_{ih} + h_{t-1} W_{hh}^T + b_{hh})

    (``nonlinearity="relu"``: :math:`\\max(0, \\cdot)`), where :math:`x_t` is the input
    for the first layer and the layer below's :math:`h_t` after that. Backpropagated
    through T steps, the gradient is multiplied T times by
    :math:`\\mathrm{diag}(\\tanh'(\\cdot)) W_{hh}`: it vanishes or explodes
    geometrically, which is what the LSTM and the GRU were invented against.

    Args:
        input_size: features of each input step.
        hidden_size: H, the size of the hidden state.
        num_layers: stacked layers (default 1); layer k > 0 reads layer k-1's output.
        nonlinearity: ``'tanh'`` (default) or ``'relu'``.
        bias: use the biases b_ih and b_hh (default True).
        batch_first: input and output are (N, T, feature) (default False: (T, N, feature)).
        dropout: dropout on each layer's output except the last's, in training (default 0).
        bidirectional: add a layer reading the sequence backwards (default False).
        dtype: parameter dtype (default float32).

    Parameters of layer k (``_reverse`` appended for the backward direction), all from
    U(-1/sqrt(H), 1/sqrt(H)) as in PyTorch: ``weight_ih_l{k}`` (H, input_size for k = 0,
    else D * H), ``weight_hh_l{k}`` (H, H), ``bias_ih_l{k}`` and ``bias_hh_l{k}`` (H,).

    Shape:
        With D = 2 if bidirectional else 1, T steps and N sequences; returns
        ``(output, h_n)``:

        * input: (T, N, input_size), or (N, T, input_size) with ``batch_first=True``, or
          (T, input_size) unbatched, or a :class:`~ember.nn.utils.rnn.PackedSequence`;
        * h_0: (num_layers * D, N, H) whatever batch_first ((num_layers * D, H)
          unbatched); zeros if omitted;
        * output: (T, N, D * H), or (N, T, D * H) with ``batch_first=True`` (packed for
          a packed input): the last layer's h_t at every step, directions concatenated;
        * h_n: (num_layers * D, N, H): each layer's state after its last step.

    >>> import ember as em
    >>> from ember.nn.layers.recurrent import RNN
    >>> rnn = RNN(10, 20, num_layers=2, batch_first=True)
    >>> output, h_n = rnn(em.randn(3, 5, 10))
    >>> output.shape, h_n.shape
    ((3, 5, 20), (2, 3, 20))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None,
                 dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; use 'tanh' or "
                             "'relu'")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory over a sequence (Hochreiter & Schmidhuber, 1997, "Long
    Short-Term Memory"): for each step t and layer,

    .. math::
        f_t = \\sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf})
        \\quad \\text{forget gate}

        i_t = \\sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi})
        \\quad \\text{input gate}

        \\tilde c_t = \\tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg})
        \\quad \\text{candidate cell (PyTorch's } g_t \\text{)}

        c_t = f_t \\odot c_{t-1} + i_t \\odot \\tilde c_t
        \\quad \\text{cell state}

        o_t = \\sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho})
        \\quad \\text{output gate}

        h_t = o_t \\odot \\tanh(c_t)

    The cell state is updated by addition: its gradient flows back through
    :math:`\\partial c_t / \\partial c_{t-1} = f_t`, undamped while the forget gate stays
    open, so an LSTM learns dependencies hundreds of steps long where a vanilla RNN's
    gradient has vanished.

    Args:
        input_size: features of each input step.
        hidden_size: H, the size of the hidden and cell states.
        num_layers: stacked layers (default 1); layer k > 0 reads layer k-1's output.
        bias: use the biases b_ih and b_hh (default True).
        batch_first: input and output are (N, T, feature) (default False: (T, N, feature)).
        dropout: dropout on each layer's output except the last's, in training (default 0).
        bidirectional: add a layer reading the sequence backwards (default False).
        proj_size: must be 0 (projected LSTMs are not supported).
        dtype: parameter dtype (default float32).

    Parameters of layer k (``_reverse`` appended for the backward direction), all from
    U(-1/sqrt(H), 1/sqrt(H)) as in PyTorch: ``weight_ih_l{k}`` (4H, input_size for k = 0,
    else D * H), ``weight_hh_l{k}`` (4H, H), ``bias_ih_l{k}`` and ``bias_hh_l{k}`` (4H,);
    their rows are the gates in PyTorch's order i, f, g (the candidate), o.

    Shape:
        With D = 2 if bidirectional else 1, T steps and N sequences; returns
        ``(output, (h_n, c_n))``:

        * input: (T, N, input_size), or (N, T, input_size) with ``batch_first=True``, or
          (T, input_size) unbatched, or a :class:`~ember.nn.utils.rnn.PackedSequence`;
        * hx = (h_0, c_0): each (num_layers * D, N, H) whatever batch_first
          ((num_layers * D, H) unbatched); zeros if omitted;
        * output: (T, N, D * H), or (N, T, D * H) with ``batch_first=True`` (packed for
          a packed input): the last layer's h_t at every step, directions concatenated;
        * h_n, c_n: (num_layers * D, N, H): each layer's states after its last step.

    >>> import ember as em
    >>> from ember.nn.layers.recurrent import LSTM
    >>> lstm = LSTM(28, 64, batch_first=True, bidirectional=True)
    >>> output, (h_n, c_n) = lstm(em.randn(16, 28, 28))
    >>> output.shape, h_n.shape, c_n.shape
    ((16, 28, 128), (2, 16, 64), (2, 16, 64))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit over a sequence (Cho et al., 2014, "Learning Phrase
    Representations using RNN Encoder-Decoder"): for each step t and layer,

    .. math::
        r_t = \\sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr})
        \\quad \\text{reset gate}

        z_t = \\sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz})
        \\quad \\text{update gate}

        n_t = \\tanh(W_{in} x_t + b_{in} + r_t \\odot (W_{hn} h_{t-1} + b_{hn}))
        \\quad \\text{candidate}

        h_t = (1 - z_t) \\odot n_t + z_t \\odot h_{t-1}

    The one update gate does the work of the LSTM's forget and input gates (keep z_t of
    the old state, take 1 - z_t of the candidate), and there is no separate cell state.

    Args:
        input_size: features of each input step.
        hidden_size: H, the size of the hidden state.
        num_layers: stacked layers (default 1); layer k > 0 reads layer k-1's output.
        bias: use the biases b_ih and b_hh (default True).
        batch_first: input and output are (N, T, feature) (default False: (T, N, feature)).
        dropout: dropout on each layer's output except the last's, in training (default 0).
        bidirectional: add a layer reading the sequence backwards (default False).
        dtype: parameter dtype (default float32).

    Parameters of layer k (``_reverse`` appended for the backward direction), all from
    U(-1/sqrt(H), 1/sqrt(H)) as in PyTorch: ``weight_ih_l{k}`` (3H, input_size for k = 0,
    else D * H), ``weight_hh_l{k}`` (3H, H), ``bias_ih_l{k}`` and ``bias_hh_l{k}`` (3H,);
    their rows are the gates in PyTorch's order r, z, n.

    Shape:
        With D = 2 if bidirectional else 1, T steps and N sequences; returns
        ``(output, h_n)``:

        * input: (T, N, input_size), or (N, T, input_size) with ``batch_first=True``, or
          (T, input_size) unbatched, or a :class:`~ember.nn.utils.rnn.PackedSequence`;
        * h_0: (num_layers * D, N, H) whatever batch_first ((num_layers * D, H)
          unbatched); zeros if omitted;
        * output: (T, N, D * H), or (N, T, D * H) with ``batch_first=True`` (packed for
          a packed input): the last layer's h_t at every step, directions concatenated;
        * h_n: (num_layers * D, N, H): each layer's state after its last step.

    >>> import ember as em
    >>> from ember.nn.layers.recurrent import GRU
    >>> gru = GRU(8, 16, num_layers=2)
    >>> output, h_n = gru(em.randn(5, 3, 8), em.zeros(2, 3, 16))
    >>> output.shape, h_n.shape
    ((5, 3, 16), (2, 3, 16))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device=None, dtype=None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)


# ----------------------------------------------------------------------------- cells


class RNNCellBase(Module):
    """One time step of a recurrent layer, for hand-written loops over time.

    Parameters (PyTorch's names): ``weight_ih`` (G H, input_size), ``weight_hh``
    (G H, H), ``bias_ih`` and ``bias_hh`` (G H,), from U(-1/sqrt(H), 1/sqrt(H)).
    """

    _gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        check_device(device, type(self).__name__)
        name = type(self).__name__
        for label, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name}: {label} must be a positive int, got {value!r}")
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        dtype = dtypes.as_dtype(dtype)
        gate_size = self._gates * hidden_size
        self.weight_ih = Parameter(creation.empty(gate_size, input_size, dtype=dtype))
        self.weight_hh = Parameter(creation.empty(gate_size, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(creation.empty(gate_size, dtype=dtype))
            self.bias_hh = Parameter(creation.empty(gate_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def _check(self, input: Tensor, hx, labels=("hx",)) -> tuple[bool, Tensor, list]:
        """Validate; return (batched, input as (N, I), the states as (N, H) or zeros)."""
        name = type(self).__name__
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: expected input of shape (N, {self.input_size}) or "
                             f"({self.input_size},), got {tuple(input.shape)}")
        if input.dtype != self.weight_ih.dtype:
            raise TypeError(f"{name}: input is {input.dtype} but the weights are "
                            f"{self.weight_ih.dtype}; convert one (e.g. module.double())")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        states = [None] * len(labels) if hx is None else (
            list(hx) if len(labels) > 1 else [hx])
        expected = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        out = []
        for label, s in zip(labels, states, strict=True):
            if s is None:
                out.append(creation.zeros(x.shape[0], self.hidden_size, dtype=x.dtype))
                continue
            if tuple(s.shape) != expected:
                raise ValueError(f"{name}: expected {label} of shape {expected} for input "
                                 f"{tuple(input.shape)}, got {tuple(s.shape)}")
            if s.dtype != x.dtype:
                raise TypeError(f"{name}: {label} is {s.dtype} but the input is {x.dtype}")
            out.append(s if batched else s.unsqueeze(0))
        return batched, x, out

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """One Elman RNN step: :math:`h' = \\tanh(x W_{ih}^T + b_{ih} + h W_{hh}^T + b_{hh})`
    (or ReLU).

    Args:
        input_size, hidden_size: as :class:`RNN`.
        bias: use b_ih and b_hh (default True).
        nonlinearity: ``'tanh'`` (default) or ``'relu'``.

    Shape:
        input (N, input_size) or (input_size,); hx (N, H) or (H,), zeros if omitted;
        output h' of hx's shape.

    >>> import ember as em
    >>> from ember.nn.layers.recurrent import RNNCell
    >>> cell = RNNCell(4, 3)
    >>> h = None
    >>> for x_t in em.randn(6, 2, 4):   # a loop over 6 time steps
    ...     h = cell(x_t, h)
    >>> h.shape
    (2, 3)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; use 'tanh' or "
                             "'relu'")
        super().__init__(input_size, hidden_size, bias, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        batched, x, (h,) = self._check(input, hx)
        cell = R.rnn_tanh_cell if self.nonlinearity == "tanh" else R.rnn_relu_cell
        h = cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step, ``(h', c') = cell(x, (h, c))`` (gate equations as :class:`LSTM`:
    i, f, g = c~, o; c' = f c + i g; h' = o tanh(c')).

    Args:
        input_size, hidden_size: as :class:`LSTM`.
        bias: use b_ih and b_hh (default True).

    Shape:
        input (N, input_size) or (input_size,); hx = (h, c), each (N, H) or (H,), zeros
        if omitted; output (h', c') of the same shapes.

    >>> import ember as em
    >>> from ember.nn.layers.recurrent import LSTMCell
    >>> h, c = LSTMCell(4, 3)(em.randn(2, 4))
    >>> h.shape, c.shape
    ((2, 3), (2, 3))
    """

    _gates = 4

    def forward(self, input: Tensor, hx=None) -> tuple[Tensor, Tensor]:
        batched, x, (h, c) = self._check(input, hx, ("h", "c"))
        h, c = R.lstm_cell(x, (h, c), self.weight_ih, self.weight_hh, self.bias_ih,
                           self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step (gate equations as :class:`GRU`: r, z, n; h' = (1 - z) n + z h).

    Args:
        input_size, hidden_size: as :class:`GRU`.
        bias: use b_ih and b_hh (default True).

    Shape:
        input (N, input_size) or (input_size,); hx (N, H) or (H,), zeros if omitted;
        output h' of hx's shape.

    >>> import ember as em
    >>> from ember.nn.layers.recurrent import GRUCell
    >>> GRUCell(4, 3)(em.randn(4)).shape     # unbatched
    (3,)
    """

    _gates = 3

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        batched, x, (h,) = self._check(input, hx)
        h = R.gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return h if batched else h.squeeze(0)
