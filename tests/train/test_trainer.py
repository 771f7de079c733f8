"""The fit loop: learning, validation, callbacks, NaN guard, repeatability, resuming."""

from __future__ import annotations

import csv

import numpy as np
import pytest

import ember as em
from ember import nn
from ember.train import CSVLogger, EarlyStopping, ModelCheckpoint, Trainer


def _problem(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
    data = em.data.TensorDataset(em.tensor(x), em.tensor(y))
    train, val = em.data.random_split(data, [n * 3 // 4, n - n * 3 // 4])
    return (em.data.DataLoader(train, batch_size=32, shuffle=True),
            em.data.DataLoader(val, batch_size=64))


def _model():
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 2))


def _trainer(model, **kwargs):
    kwargs.setdefault("metrics", ["accuracy"])
    kwargs.setdefault("progress", False)
    optimizer = kwargs.pop("optimizer", None) or em.optim.SGD(model.parameters(), lr=0.1,
                                                              momentum=0.9)
    return Trainer(model, nn.CrossEntropyLoss(), optimizer, log=lambda m: None, **kwargs)


def test_fit_learns_and_records_history():
    em.manual_seed(0)
    train, val = _problem()
    model = _model()
    trainer = _trainer(model)
    history = trainer.fit(train, val, epochs=8)
    assert set(history) >= {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"}
    assert all(len(v) == 8 for v in history.values())
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_accuracy"][-1] > 0.9
    assert trainer.epoch == 8 and model.training  # back in training mode after evaluating
    results = trainer.evaluate(val)
    assert results["accuracy"] == pytest.approx(history["val_accuracy"][-1])
    assert trainer.predict(val).shape == (64, 2)


def test_same_seed_same_run_bit_for_bit():
    runs = []
    for _ in range(2):
        em.manual_seed(5)
        train, val = _problem()
        model = _model()
        history = _trainer(model).fit(train, val, epochs=3)
        runs.append((history["loss"], [p.detach().numpy().copy() for p in model.parameters()]))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1], strict=True):
        assert np.array_equal(a, b)


def test_resuming_from_a_checkpoint_equals_an_uninterrupted_run(tmp_path):
    em.manual_seed(1)
    train, val = _problem()
    model = _model()
    scheduler_opt = em.optim.Adam(model.parameters(), lr=0.01)
    scheduler = em.optim.lr_scheduler.StepLR(scheduler_opt, step_size=2, gamma=0.5)
    trainer = _trainer(model, optimizer=scheduler_opt, scheduler=scheduler)
    trainer.fit(train, val, epochs=4)
    uninterrupted = [p.detach().numpy().copy() for p in model.parameters()]
    history = trainer.history

    em.manual_seed(1)
    train, val = _problem()
    model = _model()
    optimizer = em.optim.Adam(model.parameters(), lr=0.01)
    scheduler = em.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    first = _trainer(model, optimizer=optimizer, scheduler=scheduler)
    first.fit(train, val, epochs=2)
    first.save_checkpoint(tmp_path / "half.safetensors")

    em.manual_seed(999)  # a different process state: everything must come from the file
    model = _model()
    optimizer = em.optim.Adam(model.parameters(), lr=0.01)
    scheduler = em.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    resumed = _trainer(model, optimizer=optimizer, scheduler=scheduler)
    resumed.load_checkpoint(tmp_path / "half.safetensors")
    resumed.fit(train, val, epochs=4)
    for a, b in zip(uninterrupted, model.parameters(), strict=True):
        assert np.array_equal(a, b.detach().numpy())
    assert resumed.history["loss"] == history["loss"]
    assert resumed.history["lr"] == history["lr"]


def test_nan_loss_stops_and_restores_the_last_good_weights():
    em.manual_seed(0)
    train, _ = _problem()
    model = nn.Linear(4, 2)
    calls = {"n": 0}
    cross_entropy = nn.CrossEntropyLoss()

    def exploding(output, target):
        calls["n"] += 1
        loss = cross_entropy(output, target)
        return loss * float("nan") if calls["n"] == 11 else loss

    seen = []
    trainer = Trainer(model, exploding, em.optim.SGD(model.parameters(), lr=0.1),
                      progress=False, log=lambda m: None)
    original_step = trainer.optimizer.step

    def recording_step():
        seen.append([p.detach().numpy().copy() for p in model.parameters()])
        original_step()

    trainer.optimizer.step = recording_step
    with pytest.warns(RuntimeWarning, match=r"loss became nan at epoch 2, step 5"):
        history = trainer.fit(train, epochs=5)
    assert trainer.stop_training and "restored" in trainer.stopped_reason
    assert len(history["loss"]) == 1 and history["stopped"]
    # the weights are those before the last update (the one that preceded the NaN)
    for before, p in zip(seen[-1], model.parameters(), strict=True):
        assert np.array_equal(before, p.detach().numpy())


def test_early_stopping_restores_the_best_weights():
    em.manual_seed(0)
    train, val = _problem()
    model = _model()
    stopper = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    trainer = _trainer(model, callbacks=[stopper],
                       optimizer=em.optim.SGD(model.parameters(), lr=3.0))
    history = trainer.fit(train, val, epochs=40)
    assert len(history["loss"]) < 40 and stopper.stopped_epoch is not None
    best = int(np.argmin(history["val_loss"]))
    assert stopper.best == history["val_loss"][best]
    assert trainer.evaluate(val)["loss"] == pytest.approx(stopper.best, rel=1e-6)


def test_checkpoint_and_csv_callbacks(tmp_path):
    em.manual_seed(0)
    train, val = _problem()
    model = _model()
    trainer = _trainer(model, callbacks=[ModelCheckpoint(tmp_path, monitor="val_accuracy"),
                                         CSVLogger(tmp_path / "history.csv")],
                       meta={"model": "tiny"})
    trainer.fit(train, val, epochs=3)
    assert (tmp_path / "best.safetensors").exists() and (tmp_path / "last.safetensors").exists()
    last = em.load(tmp_path / "last.safetensors")
    assert last["epoch"] == 3 and last["meta"] == {"model": "tiny"}
    rows = list(csv.DictReader(open(tmp_path / "history.csv")))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert float(rows[-1]["val_accuracy"]) == pytest.approx(trainer.history["val_accuracy"][-1])


def test_penalties_and_clipping_options():
    em.manual_seed(0)
    train, _ = _problem()
    plain = nn.Linear(4, 2)
    l1 = nn.Linear(4, 2)
    l1.load_state_dict(plain.state_dict())
    _trainer(plain, metrics=[]).fit(train, epochs=10)
    _trainer(l1, metrics=[], l1=0.05).fit(train, epochs=10)
    assert l1.weight.detach().abs().sum().item() < plain.weight.abs().sum().item()

    clipped = nn.Linear(4, 2)
    norms = []
    trainer = _trainer(clipped, metrics=[], clip_grad_norm=0.01)
    original_step = trainer.optimizer.step

    def check():
        norms.append(np.sqrt(sum((p.grad.numpy() ** 2).sum() for p in clipped.parameters())))
        original_step()

    trainer.optimizer.step = check
    trainer.fit(train, epochs=1)
    assert max(norms) <= 0.01 * (1 + 1e-5)


def test_schedulers_per_epoch_and_per_step():
    em.manual_seed(0)
    train, val = _problem()
    model = _model()
    optimizer = em.optim.SGD(model.parameters(), lr=0.1)
    step_lr = em.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    history = _trainer(model, optimizer=optimizer, scheduler=step_lr).fit(train, val, epochs=3)
    assert history["lr"] == pytest.approx([0.1, 0.05, 0.025])

    optimizer = em.optim.SGD(model.parameters(), lr=0.1)
    plateau = em.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=0, factor=0.1)
    _trainer(model, optimizer=optimizer, scheduler=plateau).fit(train, val, epochs=2)

    optimizer = em.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    one_cycle = em.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.5, total_steps=12)
    _trainer(model, optimizer=optimizer, scheduler=one_cycle,
             scheduler_interval="step").fit(train, epochs=2)
    assert one_cycle.last_epoch == 12


def test_unknown_metric_and_empty_data_are_clear_errors():
    model = nn.Linear(4, 2)
    with pytest.raises(ValueError, match="unknown metric 'accurasy'"):
        _trainer(model, metrics=["accurasy"])
    trainer = _trainer(model)
    with pytest.raises(ValueError, match="no batches"):
        trainer.fit([], epochs=1)


def test_metric_names():
    em.manual_seed(0)
    train, val = _problem()
    model = _model()
    history = _trainer(model, metrics=["accuracy", "top1_accuracy", "macro_f1",
                                       "weighted_recall"]).fit(train, val, epochs=2)
    assert history["top1_accuracy"] == history["accuracy"]
    assert 0 <= history["val_macro_f1"][-1] <= 1
