"""Batch size: per epoch, small batches learn most; per second, mini-batches win.

An epoch of batch size :math:`B` over :math:`N` samples makes :math:`N/B` updates, each
with the average gradient of :math:`B` samples,

.. math:: \\theta \\leftarrow \\theta - \\frac{\\eta}{B} \\sum_{i \\in \\text{batch}}
          \\nabla_\\theta \\ell_i(\\theta),

whose noise falls as :math:`1/\\sqrt{B}` while its cost grows as :math:`B`. Stochastic
gradient descent (:math:`B = 1`) makes the most updates per epoch but pays the per-step
overhead :math:`N` times and cannot use vectorised arithmetic; full-batch gradient descent
(:math:`B = N`) makes one exact step per epoch. A mini-batch trades between the two, and
usually reaches a given loss in the least time.

The same network, from the same initialisation, is trained on the digits by SGD with
batch size 1, 32 and 1,438 (the whole training set), each with its own learning rate
(larger batches take larger steps); the training loss over the whole set is measured
after every epoch, against epochs and against the training time.

References: L. Bottou, F. Curtis, J. Nocedal, "Optimization Methods for Large-Scale
Machine Learning", SIAM Review 60(2) (2018), §3-4; I. Goodfellow, Y. Bengio,
A. Courville, *Deep Learning*, §8.1.3 (2016).
"""

from __future__ import annotations

import os

import numpy as np

from ember import nn, optim, random
from ember.experiments.common import (
    Result,
    digits_data,
    epochs_text,
    first_epoch,
    fit,
    loader,
    pyplot,
    quiet_trainer,
    save_figure,
    verdict,
)
from ember.train import Callback

NAME = "batch_size"
CLAIM = ("batch size 1 makes the most progress per epoch, but a mini-batch reaches a given "
         "loss in the least time; full-batch gradient descent needs the most epochs")
SIZES = {  # runs: (label, batch size (None: all), learning rate, epochs)
    "full": {"n_train": None, "runs": (("SGD, batch 1", 1, 0.01, 15),
                                       ("mini-batch 32", 32, 0.1, 40),
                                       ("full batch", None, 0.5, 200))},
    "smoke": {"n_train": 64, "runs": (("SGD, batch 1", 1, 0.01, 2),
                                      ("mini-batch 32", 32, 0.1, 2),
                                      ("full batch", None, 0.5, 3))},
}
TARGET = 0.05  # training loss


class _Measure(Callback):
    """After every epoch: the training time so far and the loss over the whole training
    set (measured outside the timed training)."""

    def __init__(self, whole_train) -> None:
        self.whole_train, self.seconds, self.times, self.losses = whole_train, 0.0, [], []

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        self.seconds += logs["time"]
        self.times.append(self.seconds)
        self.losses.append(trainer.evaluate(self.whole_train)["loss"])


def run(out: str | os.PathLike, size: str = "full", seed: int = 0) -> Result:
    """Train with each batch size; plot loss against epochs and against seconds."""
    config = SIZES[size]
    random.manual_seed(seed)
    x_train, y_train, x_test, y_test = digits_data(config["n_train"], standardize=True)
    whole = loader(x_train, y_train, len(x_train), shuffle=False)
    table, curves = [], {}
    for label, batch_size, lr, epochs in config["runs"]:
        random.manual_seed(seed)  # the same initial weights for every batch size
        model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
        measure = _Measure(whole)
        trainer = quiet_trainer(model, nn.CrossEntropyLoss(),
                                optim.SGD(model.parameters(), lr=lr), callbacks=[measure],
                                nan_guard=False)
        fit(trainer, loader(x_train, y_train, batch_size or len(x_train)), None, epochs)
        losses, times = np.array(measure.losses), np.array(measure.times)
        reached = first_epoch(losses, TARGET, above=False)
        curves[label] = {"loss": losses, "seconds": times}
        table.append({"run": label, "batch size": batch_size or len(x_train), "lr": lr,
                      "updates per epoch": -(-len(x_train) // (batch_size or len(x_train))),
                      "epochs": epochs, f"epochs to loss {TARGET}": reached,
                      "final train loss": losses[-1],
                      "val accuracy": _accuracy(model, x_test, y_test),
                      f"time to loss {TARGET} (s)": times[reached - 1] if reached else None,
                      "time per epoch (s)": times[-1] / epochs})

    one, mini, full = table
    key, time_key = f"epochs to loss {TARGET}", f"time to loss {TARGET} (s)"
    inf = float("inf")
    fewest_epochs = (one[key] or inf) < min(mini[key] or inf, full[key] or inf)
    most_epochs = (full[key] or inf) > max(one[key] or 0, mini[key] or 0)
    fastest = mini[time_key] is not None and mini[time_key] < min(
        one[time_key] or inf, full[time_key] or inf)
    held = fewest_epochs and most_epochs and fastest
    finding = (f"training loss {TARGET} was reached by batch 1 {_when(one, key, time_key)}, "
               f"by mini-batches of 32 {_when(mini, key, time_key)}, by the full batch "
               f"{_when(full, key, time_key)}")
    plot = _plot(curves, out, size)
    return Result(NAME, CLAIM, table, verdict(held, finding), held, plot,
                  data={"curves": curves, "target": TARGET}, size=size)


def _accuracy(model, x, y) -> float:
    from ember import metrics
    from ember.autograd import no_grad

    with no_grad():
        return metrics.accuracy(y, model(x))


def _when(row: dict, key: str, time_key: str) -> str:
    if row[key] is None:
        return epochs_text(None, row["epochs"])
    return f"{epochs_text(row[key], row['epochs'])} ({row[time_key]:.2f} s)"


def _plot(curves: dict, out, size: str):
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for label, curve in curves.items():
        epochs = np.arange(1, len(curve["loss"]) + 1)
        axes[0].plot(epochs, curve["loss"], marker="o", ms=2.5, label=label)
        axes[1].plot(curve["seconds"], curve["loss"], marker="o", ms=2.5, label=label)
    axes[0].set(xlabel="epoch", xscale="log", title="training loss against epochs")
    axes[1].set(xlabel="training time (s)", xscale="log", title="training loss against time")
    for ax in axes:
        ax.axhline(TARGET, color="grey", lw=0.8, ls=":")
        ax.set(ylabel="training loss (whole set)", yscale="log")
        ax.grid(alpha=0.3)
        ax.legend()
    return save_figure(fig, out, NAME, size)
