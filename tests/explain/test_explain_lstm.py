"""One LSTM step worked by hand, against PyTorch's LSTMCell."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ember.explain import lstm_step


def _sigmoid(z):
    return 1 / (1 + math.exp(-z))


def test_scalar_step_by_hand():
    # one input, one unit; weights per gate i, f, g, o
    e = lstm_step(x=[2], h=[1], c=[0.5], weight_ih=[0.5, 0.25, 1.0, -0.5],
                  weight_hh=[0.1, 0.2, -0.3, 0.4], bias_ih=[0.0, 1.0, 0.0, 0.0])
    i = _sigmoid(0.5 * 2 + 0.1 * 1)          # sigmoid(1.1)
    f = _sigmoid(0.25 * 2 + 1.0 + 0.2 * 1)   # sigmoid(1.7)
    g = math.tanh(1.0 * 2 - 0.3 * 1)         # tanh(1.7)
    o = _sigmoid(-0.5 * 2 + 0.4 * 1)         # sigmoid(-0.6)
    c = f * 0.5 + i * g
    h = o * math.tanh(c)
    assert e.i[0] == pytest.approx(i) and e.f[0] == pytest.approx(f)
    assert e.g[0] == pytest.approx(g) and e.o[0] == pytest.approx(o)
    assert e.c_next[0] == pytest.approx(c) and e.h_next[0] == pytest.approx(h)
    text = str(e)
    assert "i = sigmoid(0.5*2 + 0 + 0.1*1) = sigmoid(1.1) = 0.7503" in text
    assert "f = sigmoid(0.25*2 + 1 + 0.2*1) = sigmoid(1.7) = 0.8455" in text
    assert "g = tanh(1*2 + 0 + (-0.3)*1) = tanh(1.7) = 0.9354" in text
    assert "o = sigmoid((-0.5)*2 + 0 + 0.4*1) = sigmoid(-0.6) = 0.3543" in text
    assert f"c' = 0.8455*0.5 + 0.7503*0.9354 = {c:.4f}" in text


def test_matches_torch_lstm_cell(torch, rng):
    n_in, hidden = 3, 2
    cell = torch.nn.LSTMCell(n_in, hidden)
    x, h, c = rng.standard_normal(n_in), rng.standard_normal(hidden), rng.standard_normal(hidden)
    with torch.no_grad():
        h_next, c_next = cell(torch.tensor(x)[None], (torch.tensor(h)[None], torch.tensor(c)[None]))
    e = lstm_step(x, h, c, cell.weight_ih.detach().numpy(), cell.weight_hh.detach().numpy(),
                  cell.bias_ih.detach().numpy(), cell.bias_hh.detach().numpy())
    np.testing.assert_allclose(e.h_next, h_next[0].numpy(), rtol=1e-12)
    np.testing.assert_allclose(e.result[1], c_next[0].numpy(), rtol=1e-12)
    assert "i[1] = sigmoid(" in str(e)


def test_zero_state_by_default_and_shape_errors():
    e = lstm_step([1.0], weight_ih=[1, 1, 1, 1], weight_hh=[0, 0, 0, 0])
    assert e.c_next[0] == pytest.approx(_sigmoid(1) * math.tanh(1))
    with pytest.raises(ValueError, match="weight_hh must be 4\\*hidden x input = 4x1"):
        lstm_step([1.0], weight_ih=[1, 1, 1, 1], weight_hh=[0, 0])
    with pytest.raises(ValueError, match="h must have 1 numbers"):
        lstm_step([1.0], h=[0, 0], weight_ih=[1, 1, 1, 1], weight_hh=[0, 0, 0, 0])
    with pytest.raises(ValueError, match="bias_ih must have 4\\*hidden = 4 numbers"):
        lstm_step([1.0], weight_ih=[1, 1, 1, 1], weight_hh=[0, 0, 0, 0], bias_ih=[1, 2])
    with pytest.raises(ValueError, match="weight_ih must have"):
        lstm_step([1.0, 2.0], weight_ih=[1, 1, 1], weight_hh=[0, 0, 0, 0])
