"""Truncated backpropagation through time in the fit loop (``Trainer(tbptt_steps=k)``)."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember import nn
from ember.nn.layers.recurrent import LSTM
from ember.testing import assert_close
from ember.train import Trainer

STEPS, FEATURES, CLASSES = 12, 2, 3


class Tagger(nn.Module):
    """An LSTM labelling every step; forward takes and returns the recurrent state."""

    def __init__(self):
        super().__init__()
        self.lstm = LSTM(FEATURES, 8, batch_first=True)
        self.head = nn.Linear(8, CLASSES)

    def forward(self, x, state=None):
        output, state = self.lstm(x, state)
        return self.head(output), state


def per_step_loss(output, target):
    return nn.functional.cross_entropy(output.reshape(-1, CLASSES), target.reshape(-1))


def _data(n=16, seed=0):
    """Label of step t: which of three bins x_{t-1, 0} fell in (needs one step of memory)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, STEPS, FEATURES)).astype(np.float32)
    previous = np.concatenate([np.zeros((n, 1)), x[:, :-1, 0]], axis=1)
    y = np.digitize(previous, [-0.5, 0.5]).astype(np.int64)
    return em.tensor(x), em.tensor(y)


def _trainer(model, lr=0.1, **kwargs):
    kwargs.setdefault("progress", False)
    return Trainer(model, per_step_loss, em.optim.SGD(model.parameters(), lr=lr),
                   log=lambda message: None, **kwargs)


def test_each_chunk_is_one_update_with_the_state_carried_detached():
    em.manual_seed(0)
    x, y = _data()
    model, reference = Tagger(), Tagger()
    reference.load_state_dict(model.state_dict())
    trainer = _trainer(model, tbptt_steps=5)
    trainer.fit([(x, y)], epochs=1)
    assert trainer.global_step == 3  # chunks of 5, 5 and 2 steps

    optimizer = em.optim.SGD(reference.parameters(), lr=0.1)
    state = None
    for start in range(0, STEPS, 5):
        if state is not None:
            state = tuple(s.detach() for s in state)
        output, state = reference(x[:, start:start + 5], state)
        loss = per_step_loss(output, y[:, start:start + 5])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    for (name, p), q in zip(model.named_parameters(), reference.parameters(), strict=True):
        assert_close(p, q, rtol=0, atol=0, name=name)


def test_truncation_changes_the_gradient_and_one_chunk_is_full_bptt():
    em.manual_seed(0)
    x, y = _data()
    start = Tagger()
    results = {}
    for steps in (STEPS, 4):
        model = Tagger()
        model.load_state_dict(start.state_dict())
        _trainer(model, lr=1.0, tbptt_steps=steps).fit([(x[:, :8], y[:, :8])], epochs=1)
        results[steps] = model.lstm.weight_hh_l0.detach().numpy().copy()

    full = Tagger()
    full.load_state_dict(start.state_dict())
    loss = per_step_loss(full(x[:, :8])[0], y[:, :8])
    loss.backward()
    expected = start.lstm.weight_hh_l0.detach().numpy() - full.lstm.weight_hh_l0.grad.numpy()
    assert_close(results[STEPS], expected, rtol=1e-6, atol=1e-7)  # one chunk: plain BPTT
    assert not np.allclose(results[4], results[STEPS], atol=1e-4)


def test_learns_a_task_that_needs_memory_and_reports_per_step_accuracy():
    em.manual_seed(0)
    x, y = _data(n=128)
    model = Tagger()
    trainer = Trainer(model, per_step_loss, em.optim.Adam(model.parameters(), lr=0.03),
                      metrics=["accuracy"], tbptt_steps=4, progress=False,
                      log=lambda message: None)
    data = em.data.DataLoader(em.data.TensorDataset(x, y), batch_size=32, shuffle=True)
    history = trainer.fit(data, data, epochs=15)
    assert history["accuracy"][-1] > 0.85
    assert history["val_accuracy"][-1] > 0.85  # evaluated on whole sequences
    assert trainer.predict(data).shape == (128, STEPS, CLASSES)


def test_clipping_bounds_every_chunk_update():
    em.manual_seed(0)
    x, y = _data()
    model = Tagger()
    before = [p.detach().numpy().copy() for p in model.parameters()]
    _trainer(model, lr=1.0, tbptt_steps=STEPS, clip_grad_norm=1e-3).fit([(x * 50, y)],
                                                                       epochs=1)
    change = np.sqrt(sum(((p.detach().numpy() - b) ** 2).sum()
                         for p, b in zip(model.parameters(), before, strict=True)))
    assert 0 < change <= 1e-3 * (1 + 1e-4)


def test_bad_configurations_are_explained():
    x, y = _data()
    with pytest.raises(ValueError, match="tbptt_steps must be a positive int"):
        _trainer(Tagger(), tbptt_steps=0)
    with pytest.raises(ValueError, match="time dimension 1"):
        _trainer(Tagger(), tbptt_steps=4).fit([(x, y[:, 0])], epochs=1)
