"""RNN, LSTM, GRU and their cells: parity with PyTorch (float64) in outputs, final states
and every gradient, gradcheck of the cells and of the fused BPTT primitives, and the
layer contract (shapes, parameter names, initialisation, errors, dtypes)."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.nn.functional import recurrent as R
from ember.nn.layers.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from ember.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from ember.testing import assert_close, gradcheck

T, N, I, H = 5, 3, 4, 6  # steps, batch, input features, hidden size
TOL = {"rtol": 1e-9, "atol": 1e-10}

KINDS = {  # name: (ember constructor, torch constructor name, extra kwargs)
    "rnn_tanh": (RNN, "RNN", {}),
    "rnn_relu": (RNN, "RNN", {"nonlinearity": "relu"}),
    "lstm": (LSTM, "LSTM", {}),
    "gru": (GRU, "GRU", {}),
}


def _pair(torch, kind, **kwargs):
    """A float64 PyTorch module and an ember module loaded from its state_dict."""
    ours, theirs, extra = KINDS[kind]
    tmodule = getattr(torch.nn, theirs)(I, H, **extra, **kwargs).double()
    module = ours(I, H, **extra, **kwargs, dtype=em.float64)
    module.load_state_dict(tmodule.state_dict())
    return module, tmodule


def _leaf(torch, array):
    return (em.tensor(array, dtype=em.float64, requires_grad=True),
            torch.tensor(array, dtype=torch.float64, requires_grad=True))


def _states(out, kind):
    """[output, h_n, (c_n)] of a module's return value."""
    output, state = out
    return [output, *state] if kind == "lstm" else [output, state]


def _compare_run(torch, rng, module, tmodule, kind, x_shape, h_shape, packed_lengths=None):
    x, tx = _leaf(torch, rng.standard_normal(x_shape))
    hs = [_leaf(torch, rng.standard_normal(h_shape)) for _ in range(2 if kind == "lstm" else 1)]
    hx = tuple(h for h, _ in hs) if kind == "lstm" else hs[0][0]
    thx = tuple(t for _, t in hs) if kind == "lstm" else hs[0][1]
    inp, tinp = x, tx
    if packed_lengths is not None:
        first = module.batch_first
        inp = pack_padded_sequence(x, packed_lengths, first, enforce_sorted=False)
        tinp = torch.nn.utils.rnn.pack_padded_sequence(tx, torch.tensor(packed_lengths), first,
                                                       enforce_sorted=False)
    ours, theirs = _states(module(inp, hx), kind), _states(tmodule(tinp, thx), kind)
    if packed_lengths is not None:
        assert_close(ours[0].data, theirs[0].data, **TOL, name="packed output data")
        assert ours[0].batch_sizes.tolist() == theirs[0].batch_sizes.tolist()
        ours[0] = pad_packed_sequence(ours[0], module.batch_first)[0]
        theirs[0] = torch.nn.utils.rnn.pad_packed_sequence(theirs[0], module.batch_first)[0]
    loss, tloss = 0.0, 0.0
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert_close(a, b, **TOL, name=f"{kind} output {i}")
        weight = rng.standard_normal(tuple(b.shape))
        loss = loss + (a * em.tensor(weight)).sum()
        tloss = tloss + (b * torch.tensor(weight)).sum()
    loss.backward()
    tloss.backward()
    assert_close(x.grad, tx.grad, **TOL, name="input gradient")
    for i, (h, th) in enumerate(hs):
        assert_close(h.grad, th.grad, **TOL, name=f"initial state {i} gradient")
    tparams = dict(tmodule.named_parameters())
    for name, p in module.named_parameters():
        assert_close(p.grad, tparams[name].grad, **TOL, name=f"gradient of {name}")


@pytest.mark.parametrize("batch_first", [False, True], ids=["time_first", "batch_first"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("kind", list(KINDS))
def test_parity_with_pytorch(torch, rng, kind, num_layers, bidirectional, batch_first):
    module, tmodule = _pair(torch, kind, num_layers=num_layers, bidirectional=bidirectional,
                            batch_first=batch_first)
    D = 2 if bidirectional else 1
    x_shape = (N, T, I) if batch_first else (T, N, I)
    _compare_run(torch, rng, module, tmodule, kind, x_shape, (num_layers * D, N, H))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kind", list(KINDS))
def test_packed_sequences_match_pytorch(torch, rng, kind, batch_first):
    module, tmodule = _pair(torch, kind, num_layers=2, bidirectional=True,
                            batch_first=batch_first)
    lengths = [2, 5, 1, 4]  # unsorted: sorted_indices / unsorted_indices are exercised
    x_shape = (4, T, I) if batch_first else (T, 4, I)
    _compare_run(torch, rng, module, tmodule, kind, x_shape, (4, 4, H), lengths)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_unbatched_and_biasless_match_pytorch(torch, rng, kind):
    module, tmodule = _pair(torch, kind, bias=False, bidirectional=True)
    assert [n for n, _ in module.named_parameters()] == [n for n, _ in tmodule.named_parameters()]
    _compare_run(torch, rng, module, tmodule, kind, (T, I), (2, H))


def test_default_state_is_zeros_and_lengths_equal_to_T_change_nothing(torch, rng):
    module, tmodule = _pair(torch, "lstm", num_layers=2)
    x = rng.standard_normal((T, N, I))
    out, (h, c) = module(em.tensor(x))
    tout, (th, tc) = tmodule(torch.tensor(x))
    assert_close(out, tout, **TOL)
    assert_close(c, tc, **TOL)
    full = R.lstm(em.tensor(x), None, module._flat_weights, True, 2, lengths=[T] * N)
    assert_close(full[0], out, rtol=0, atol=0)


@pytest.mark.parametrize("cls,tname,extra", [
    (RNNCell, "RNNCell", {}), (RNNCell, "RNNCell", {"nonlinearity": "relu"}),
    (LSTMCell, "LSTMCell", {}), (GRUCell, "GRUCell", {}),
])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_pytorch(torch, rng, cls, tname, extra, batched):
    tcell = getattr(torch.nn, tname)(I, H, **extra).double()
    cell = cls(I, H, **extra, dtype=em.float64)
    cell.load_state_dict(tcell.state_dict())
    shape = (N,) if batched else ()
    x, tx = _leaf(torch, rng.standard_normal(shape + (I,)))
    states = [_leaf(torch, rng.standard_normal(shape + (H,))) for _ in range(2)]
    if cls is LSTMCell:
        ours = cell(x, (states[0][0], states[1][0]))
        theirs = tcell(tx, (states[0][1], states[1][1]))
    else:
        ours, theirs = (cell(x, states[0][0]),), (tcell(tx, states[0][1]),)
        states = states[:1]
    for a, b in zip(ours, theirs, strict=True):
        assert_close(a, b, **TOL)
    weights = [rng.standard_normal(tuple(b.shape)) for b in theirs]
    sum((a * em.tensor(w)).sum() for a, w in zip(ours, weights, strict=True)).backward()
    sum((b * torch.tensor(w)).sum() for b, w in zip(theirs, weights, strict=True)).backward()
    assert_close(x.grad, tx.grad, **TOL)
    for s, ts in states:
        assert_close(s.grad, ts.grad, **TOL)
    tparams = dict(tcell.named_parameters())
    for name, p in cell.named_parameters():
        assert_close(p.grad, tparams[name].grad, **TOL, name=name)


# ----------------------------------------------------------------------------- gradcheck

CELLS = {"rnn_tanh": (R.rnn_tanh_cell, 1), "rnn_relu": (R.rnn_relu_cell, 1),
         "lstm": (R.lstm_cell, 4), "gru": (R.gru_cell, 3)}


def _params(rng, gates, i, h, bias=True, scale=0.6):
    shapes = [(gates * h, i), (gates * h, h)] + ([(gates * h,), (gates * h,)] if bias else [])
    return [em.tensor(rng.standard_normal(s) * scale, dtype=em.float64, requires_grad=True)
            for s in shapes]


@pytest.mark.parametrize("kind", list(CELLS))
def test_gradcheck_cells(rng, kind):
    cell, gates = CELLS[kind]
    x = em.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    h = em.tensor(rng.standard_normal((2, 2)), requires_grad=True)
    c = em.tensor(rng.standard_normal((2, 2)), requires_grad=True)
    weights = _params(rng, gates, 3, 2)
    if kind == "lstm":
        assert gradcheck(lambda x, h, c, *w: cell(x, (h, c), *w), (x, h, c, *weights))
    else:
        assert gradcheck(lambda x, h, *w: cell(x, h, *w), (x, h, *weights))


@pytest.mark.parametrize("reverse,lengths", [(False, None), (True, None), (False, [3, 1]),
                                             (True, [2, 3])],
                         ids=["forward", "reverse", "lengths", "reverse_lengths"])
@pytest.mark.parametrize("kind", list(CELLS))
def test_gradcheck_fused_layer(rng, kind, reverse, lengths):
    """The hand-written backward through time of one layer against finite differences."""
    _, gates = CELLS[kind]
    x = em.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    h0 = em.tensor(rng.standard_normal((2, 2)), requires_grad=True)
    c0 = em.tensor(rng.standard_normal((2, 2)), requires_grad=True) if kind == "lstm" else None
    weights = _params(rng, gates, 2, 2)
    lengths = None if lengths is None else np.array(lengths)
    op = R._LAYER_OPS[kind]

    def run(x, h0, *rest):
        c = rest[0] if kind == "lstm" else None
        w = rest[1:] if kind == "lstm" else rest
        return op(x, h0, c, *w, R._Tape(), reverse=reverse, lengths=lengths)

    inputs = (x, h0, c0, *weights) if kind == "lstm" else (x, h0, *weights)
    assert gradcheck(run, inputs)


@pytest.mark.parametrize("kind", list(CELLS))
def test_sequence_equals_a_loop_of_its_cell(rng, kind):
    """The fused whole-sequence primitive computes what stepping the cell computes."""
    cell, gates = CELLS[kind]
    weights = _params(rng, gates, I, H)
    x = em.tensor(rng.standard_normal((T, N, I)))
    h = em.tensor(rng.standard_normal((N, H)))
    c = em.tensor(rng.standard_normal((N, H)))
    run = getattr(R, kind)
    hx = (h[None], c[None]) if kind == "lstm" else h[None]
    output = run(x, hx, weights)[0]
    state = (h, c) if kind == "lstm" else h
    for t in range(T):
        state = cell(x[t], state, *weights)
        assert_close(output[t], state[0] if kind == "lstm" else state, **TOL)


# ----------------------------------------------------------------------------- contract


def test_parameter_names_shapes_and_initialisation_follow_pytorch(torch):
    module = LSTM(3, 5, num_layers=2, bidirectional=True)
    tmodule = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    theirs = {k: tuple(v.shape) for k, v in tmodule.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in module.state_dict().items()} == theirs
    assert list(module.state_dict()) == list(theirs)
    bound = 1 / np.sqrt(5)
    for p in module.parameters():
        assert p.dtype == em.float32
        largest = np.abs(p.detach().numpy()).max()
        assert bound * 0.5 < largest <= bound
    assert len(module.all_weights) == 4 and len(module.all_weights[0]) == 4
    assert repr(module) == repr(tmodule)
    assert repr(RNN(2, 3, nonlinearity="relu", bias=False)) == "RNN(2, 3, bias=False)"
    assert repr(RNNCell(2, 3, nonlinearity="relu")) == repr(
        torch.nn.RNNCell(2, 3, nonlinearity="relu"))


def test_float32_end_to_end():
    module = GRU(I, H, num_layers=2, bidirectional=True, batch_first=True)
    x = em.randn(N, T, I, requires_grad=True)
    output, h_n = module(x)
    assert output.dtype == h_n.dtype == em.float32
    (output.sum() + h_n.sum()).backward()
    assert x.grad.dtype == em.float32
    assert all(p.grad.dtype == em.float32 for p in module.parameters())


def test_a_training_step_lowers_the_loss():
    em.manual_seed(0)
    model = LSTM(I, H, batch_first=True)
    head = em.nn.Linear(H, 1)
    params = list(model.parameters()) + list(head.parameters())
    optimizer = em.optim.Adam(params, lr=0.01)
    x, y = em.randn(8, T, I), em.randn(8, 1)
    losses = []
    for _ in range(20):
        loss = ((head(model(x)[0][:, -1]) - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


def test_inference_records_nothing_and_repeated_backward_accumulates():
    module = LSTM(I, H)
    x = em.randn(T, N, I)
    with em.no_grad():
        out, _ = module(x)
    assert not out.requires_grad and out.grad_fn is None
    out2, _ = module(x)
    assert_close(out, out2, rtol=0, atol=0)
    loss = out2.sum()
    loss.backward(retain_graph=True)
    first = module.weight_hh_l0.grad.numpy().copy()
    loss.backward()
    assert_close(module.weight_hh_l0.grad, 2 * first, rtol=1e-6, atol=1e-6)


def test_dropout_between_layers():
    em.manual_seed(0)
    module = GRU(I, H, num_layers=2, dropout=0.5)
    x = em.randn(T, N, I)
    train_out = module(x)[0]
    module.eval()
    eval_out = module(x)[0]
    assert not np.allclose(train_out.detach().numpy(), eval_out.detach().numpy())
    same = R.gru(x, None, module._flat_weights, True, 2, 0.5, False)[0]
    assert_close(eval_out, same, rtol=0, atol=0)
    with pytest.warns(UserWarning, match="num_layers=1"):
        LSTM(I, H, dropout=0.2)


def test_weights_loaded_from_pytorch_give_pytorch_outputs_in_float32(torch):
    torch.set_default_dtype(torch.float32)
    tmodule = torch.nn.LSTM(I, H, batch_first=True)
    module = LSTM(I, H, batch_first=True)
    module.load_state_dict(tmodule.state_dict())
    x = np.random.default_rng(0).standard_normal((N, T, I)).astype(np.float32)
    assert_close(module(em.tensor(x))[0], tmodule(torch.tensor(x))[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make,call,match", [
    (lambda: LSTM(I, H), lambda m: m(em.randn(T, N, I + 1)), "input_size=4"),
    (lambda: LSTM(I, H), lambda m: m(em.randn(T, N, I, N)), "2-d .* or 3-d"),
    (lambda: LSTM(I, H), lambda m: m(em.randn(T, N, I), em.zeros(1, N, H)), "tuple"),
    (lambda: LSTM(I, H), lambda m: m(em.randn(T, N, I), (em.zeros(2, N, H),) * 2),
     r"h_0 of shape \(1, 3, 6\)"),
    (lambda: GRU(I, H, bidirectional=True), lambda m: m(em.randn(T, N, I), em.zeros(1, N, H)),
     r"h_0 of shape \(2, 3, 6\)"),
    (lambda: RNN(I, H), lambda m: m(em.randn(T, N, I, dtype=em.float64)), "float64"),
    (lambda: LSTMCell(I, H), lambda m: m(em.randn(N, I + 1)), r"\(N, 4\)"),
    (lambda: GRUCell(I, H), lambda m: m(em.randn(N, I), em.zeros(N + 1, H)), "hx of shape"),
    (lambda: RNNCell(I, H), lambda m: m(em.randn(N, I, dtype=em.float64)), "float64"),
    (lambda: LSTMCell(I, H),
     lambda m: m(em.randn(N, I), (em.zeros(N, H), em.zeros(N, H, dtype=em.float64))),
     "c is float64"),
    (lambda: RNN(I, H), lambda m: R.rnn_tanh(em.randn(T, N, I), None, m._flat_weights,
                                             lengths=[T + 1] * N), "between 1 and"),
])
def test_bad_input_is_explained(make, call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call(make())


@pytest.mark.parametrize("build,match", [
    (lambda: LSTM(I, H, dropout=1.5), "dropout"),
    (lambda: LSTM(I, 0), "hidden_size"),
    (lambda: GRU(I, H, num_layers=0), "num_layers"),
    (lambda: RNN(I, H, nonlinearity="sigmoid"), "nonlinearity"),
    (lambda: RNNCell(I, H, nonlinearity="gelu"), "nonlinearity"),
])
def test_bad_arguments_are_explained(build, match):
    with pytest.raises(ValueError, match=match):
        build()
    with pytest.raises(NotImplementedError, match="proj_size"):
        LSTM(I, H, proj_size=2)


def test_vanishing_and_exploding_gradients_and_clipping():
    """Through 60 steps a contracting RNN's gradient vanishes, an expanding one explodes
    (and clip_grad_norm_ tames it), while an LSTM whose forget gate is open keeps it."""
    steps = 60

    def first_step_gradient(module):
        x = em.randn(steps, 2, 3, dtype=em.float64, requires_grad=True)
        module(x)[0][-1].sum().backward()
        return np.abs(x.grad.numpy()[0]).max()

    em.manual_seed(0)
    contracting = RNN(3, 8, dtype=em.float64)
    with em.no_grad():
        contracting.weight_hh_l0.mul_(0.3)
    assert first_step_gradient(contracting) < 1e-12

    expanding = RNN(3, 8, nonlinearity="relu", bias=False, dtype=em.float64)
    with em.no_grad():
        expanding.weight_ih_l0.copy_(expanding.weight_ih_l0.abs())
        expanding.weight_hh_l0.copy_(em.eye(8, dtype=em.float64) * 1.3)
    assert first_step_gradient(expanding) > 1e4
    norm = em.nn.utils.clip_grad_norm_(expanding.parameters(), max_norm=1.0)
    assert norm.item() > 1e4
    clipped = np.sqrt(sum((p.grad.numpy() ** 2).sum() for p in expanding.parameters()))
    assert clipped == pytest.approx(1.0, rel=1e-5)

    remembering = LSTM(3, 8, dtype=em.float64)
    with em.no_grad():
        remembering.bias_ih_l0[8:16] = 6.0  # forget gate f = sigma(6 + ...) ~ 1
    assert first_step_gradient(remembering) > 1e-3
