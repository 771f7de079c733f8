"""The NaN/Inf guard restores everything a step changes, at every step; resume of a
BatchNorm model continues exactly."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import ember as em
from ember import nn
from ember.train import Trainer


class Blowup(nn.Module):
    """Identity, until its ``at``-th forward pass in training mode, which returns inf: as
    weights made infinite by a bad update would, it poisons BatchNorm's statistics."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at, self.calls = at, 0

    def forward(self, x):
        if self.training:
            self.calls += 1
            if self.calls == self.at:
                return x * float("inf")
        return x


def _bn_model(at):
    return nn.Sequential(nn.Linear(4, 8), Blowup(at), nn.BatchNorm1d(8), nn.ReLU(),
                         nn.Linear(8, 2))


def _data(n, batch_size, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    y = (x[:, 0] - x[:, 2] > 0).astype(np.int64)
    return em.data.DataLoader(em.data.TensorDataset(em.tensor(x), em.tensor(y)),
                              batch_size=batch_size, shuffle=True)


def _recording(trainer):
    """Record the whole state just before each optimizer step."""
    records = []
    step = trainer.optimizer.step

    def recording_step(*args, **kwargs):
        records.append({
            "model": {k: v.numpy().copy() for k, v in trainer.model.state_dict().items()},
            "optimizer": copy.deepcopy(trainer.optimizer.state_dict()),
            "scheduler": copy.deepcopy(trainer.scheduler.state_dict()),
            "global_step": trainer.global_step,
        })
        return step(*args, **kwargs)

    trainer.optimizer.step = recording_step
    return records


def _state_equal(trainer, record):
    for key, value in trainer.model.state_dict().items():
        assert np.array_equal(value.numpy(), record["model"][key]), key
    state = trainer.optimizer.state_dict()
    assert state["param_groups"] == record["optimizer"]["param_groups"]
    assert state["state"].keys() == record["optimizer"]["state"].keys()
    for index, values in record["optimizer"]["state"].items():
        for key, value in values.items():
            now = state["state"][index][key]
            if isinstance(value, em.Tensor):
                assert np.array_equal(now.numpy(), value.numpy()), (index, key)
            else:
                assert now == value, (index, key)
    assert trainer.scheduler.state_dict() == record["scheduler"]
    assert trainer.global_step == record["global_step"]


@pytest.mark.parametrize("batch_size, at", [(16, 7), (64, 3), (64, 1)],
                         ids=["mid-epoch", "full-batch", "first-step"])
def test_the_guard_restores_parameters_buffers_optimizer_and_scheduler(batch_size, at):
    """Mini-batches (4 steps an epoch), full batch (one step an epoch: the snapshot used
    to be per epoch, so no step was protected) and the very first step of the run."""
    em.manual_seed(0)
    model = _bn_model(at)
    optimizer = em.optim.Adam(model.parameters(), lr=0.01)
    scheduler = em.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.05, total_steps=100)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, scheduler=scheduler,
                      scheduler_interval="step", progress=False, log=lambda m: None)
    initial = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    initial_optimizer = copy.deepcopy(optimizer.state_dict())
    records = _recording(trainer)
    with pytest.warns(RuntimeWarning, match="restored"), np.errstate(invalid="ignore"):
        trainer.fit(_data(64, batch_size), epochs=10)
    assert trainer.stop_training and "restored" in trainer.stopped_reason
    bn = model[2]
    assert np.isfinite(bn.running_mean.numpy()).all()
    assert np.isfinite(bn.running_var.numpy()).all()
    if at == 1:  # nothing was updated: back to the very beginning
        assert not records
        for key, value in model.state_dict().items():
            assert np.array_equal(value.numpy(), initial[key]), key
        assert optimizer.state_dict()["state"] == initial_optimizer["state"] == {}
        assert trainer.global_step == 0
    else:
        assert len(records) == at - 1
        _state_equal(trainer, records[-1])
    model.eval()  # evaluation outputs differ per sample (inf statistics made them equal)
    with em.no_grad():
        out = model(em.randn(5, 4)).numpy()
    assert np.isfinite(out).all() and not np.allclose(out, out[0])


def test_training_can_continue_after_a_restore():
    em.manual_seed(0)
    model = _bn_model(5)
    trainer = Trainer(model, nn.CrossEntropyLoss(), em.optim.SGD(model.parameters(), lr=0.1,
                                                                 momentum=0.9),
                      progress=False, log=lambda m: None)
    with pytest.warns(RuntimeWarning), np.errstate(invalid="ignore"):
        trainer.fit(_data(64, 16), epochs=5)
    history = trainer.fit(_data(64, 16), epochs=5)  # Blowup fires only once
    assert np.isfinite(history["loss"][-1])


def test_resuming_a_batchnorm_model_equals_an_uninterrupted_run(tmp_path):
    def run(stop_at=None, resume=None):
        em.manual_seed(3)
        model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
                              nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
        rng = np.random.default_rng(0)
        x = em.tensor(rng.standard_normal((48, 1, 6, 6)).astype(np.float32))
        y = em.tensor(rng.integers(0, 3, 48))
        loader = em.data.DataLoader(em.data.TensorDataset(x, y), batch_size=16,
                                    shuffle=True)
        optimizer = em.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, metrics=["accuracy"],
                          scheduler=em.optim.lr_scheduler.StepLR(optimizer, 2, 0.5),
                          progress=False, log=lambda m: None)
        if resume:
            trainer.load_checkpoint(resume)
        trainer.fit(loader, loader, epochs=stop_at or 6)
        return trainer

    whole = run()
    half = run(stop_at=3)
    half.save_checkpoint(tmp_path / "half.safetensors")
    resumed = run(resume=tmp_path / "half.safetensors")
    drop_time = lambda history: {k: v for k, v in history.items() if k != "time"}  # noqa: E731
    assert drop_time(resumed.history) == drop_time(whole.history)
    for key, value in whole.model.state_dict().items():
        mine = resumed.model.state_dict()[key]
        assert mine.shape == value.shape and mine.dtype == value.dtype, key
        assert np.array_equal(mine.numpy(), value.numpy()), key
    assert resumed.model[1].num_batches_tracked.item() == 18
