"""Loss choice: a sigmoid output trained with squared error learns slower than with
cross-entropy.

With a sigmoid output :math:`a = \\sigma(z)` and target :math:`y`, the gradient reaching
the output's pre-activation is

.. math:: \\text{MSE: } \\frac{\\partial L}{\\partial z} = (a - y)\\,\\sigma'(z), \\qquad
          \\text{cross-entropy: } \\frac{\\partial L}{\\partial z} = a - y,

and :math:`\\sigma'(z) = a(1 - a) \\le 1/4` vanishes when the output saturates, however
wrong it is; cross-entropy cancels that factor (and so does softmax with cross-entropy:
:math:`\\partial L / \\partial z = \\mathrm{softmax}(z) - \\mathrm{onehot}(y)`).

The experiment trains the same network from the same initialisation with the same
optimiser on the digits: a binary task (digit >= 5) with sigmoid + MSE and sigmoid +
cross-entropy, and the 10-class task with 10 sigmoids + MSE against one-hot targets and
softmax + cross-entropy, and counts the epochs each needs to reach 90% validation accuracy.

References: M. Nielsen, *Neural Networks and Deep Learning*, ch. 3 ("The cross-entropy
cost function", 2015); P. Golik, P. Doetsch, H. Ney, "Cross-Entropy vs. Squared Error
Training: a Theoretical and Experimental Comparison" (Interspeech 2013).
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
from ember.nn import functional as F
from ember.tensor import Tensor

NAME = "loss_choice"
CLAIM = "cross-entropy trains a sigmoid/softmax output faster than mean squared error"
SIZES = {
    "full": {"epochs": 30, "hidden": 32, "n_train": None, "lr": 0.1, "batch_size": 32},
    "smoke": {"epochs": 2, "hidden": 8, "n_train": 128, "lr": 0.1, "batch_size": 32},
}
TARGET = 0.9  # validation accuracy


def _binary_accuracy(outputs, targets) -> float:
    """Accuracy of logits (N, 1) thresholded at 0 against 0/1 targets."""
    return float(((np.asarray(outputs).reshape(-1) > 0) == (np.asarray(targets).reshape(-1)
                                                            > 0.5)).mean())


def _sigmoid_mse(output: Tensor, target: Tensor) -> Tensor:
    """MSE between sigmoid(logits) and the 0/1 target (one-hot for class indices)."""
    if target.ndim == 1:
        target = F.one_hot(target, output.shape[1]).float()
    return F.mse_loss(output.sigmoid(), target)


RUNS = (  # (task, loss label, loss function)
    ("binary", "sigmoid + MSE", _sigmoid_mse),
    ("binary", "sigmoid + cross-entropy", nn.BCEWithLogitsLoss()),
    ("10-class", "sigmoid + MSE", _sigmoid_mse),
    ("10-class", "softmax + cross-entropy", nn.CrossEntropyLoss()),
)


def run(out: str | os.PathLike, size: str = "full", seed: int = 0) -> Result:
    """Train the four (task, loss) pairs and plot accuracy and loss against epochs."""
    config = SIZES[size]
    random.manual_seed(seed)
    x_train, y_train, x_test, y_test = digits_data(config["n_train"], standardize=True)
    labels = {"binary": lambda y: Tensor((y.numpy() >= 5).astype(np.float32)[:, None]),
              "10-class": lambda y: y}
    table, curves = [], {}
    for task, label, loss_fn in RUNS:
        classes = 1 if task == "binary" else 10
        random.manual_seed(seed)  # the same initialisation for both losses of a task
        model = nn.Sequential(nn.Linear(64, config["hidden"]), nn.Sigmoid(),
                              nn.Linear(config["hidden"], classes))
        metric = _binary_accuracy if task == "binary" else "accuracy"
        trainer = quiet_trainer(model, loss_fn, optim.SGD(model.parameters(), lr=config["lr"]),
                                metrics=[metric], nan_guard=False)
        train = loader(x_train, labels[task](y_train), config["batch_size"])
        val = loader(x_test, labels[task](y_test), 512, shuffle=False)
        start = trainer.evaluate(val)  # epoch 0: before any update
        history = fit(trainer, train, val, config["epochs"])
        key = "_binary_accuracy" if task == "binary" else "accuracy"
        accuracy = [start[key], *history[f"val_{key}"]]
        loss = [start["loss"], *history["val_loss"]]
        curves[f"{task}/{label}"] = {"accuracy": np.array(accuracy), "loss": np.array(loss)}
        table.append({"task": task, "loss": label,
                      f"epochs to {TARGET:.0%}": first_epoch(accuracy[1:], TARGET),
                      "val accuracy": accuracy[-1], "val loss": loss[-1]})

    held, parts = True, []
    for task in ("binary", "10-class"):
        mse, ce = (row for row in table if row["task"] == task)
        reach = [row[f"epochs to {TARGET:.0%}"] for row in (mse, ce)]
        inf = config["epochs"] + 1
        held &= reach[1] is not None and reach[1] < (reach[0] or inf)
        parts.append(f"{task}: {ce['loss']} reached {TARGET:.0%} validation accuracy "
                     f"{epochs_text(reach[1], config['epochs'])}, {mse['loss']} "
                     f"{epochs_text(reach[0], config['epochs'])}")
    plot = _plot(curves, out, size)
    return Result(NAME, CLAIM, table, verdict(held, "; ".join(parts)), held, plot,
                  data={"curves": curves, "target": TARGET}, size=size)


def _plot(curves: dict, out, size: str):
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for name, curve in curves.items():
        task, label = name.split("/")
        epochs = np.arange(len(curve["accuracy"]))
        style = "-" if "cross-entropy" in label else "--"
        ax = axes[0] if task == "binary" else axes[1]
        ax.plot(epochs, curve["accuracy"], style, marker="o", ms=3, label=label)
        axes[2].plot(epochs, curve["loss"] / curve["loss"][0], style, label=f"{task}: {label}")
    for ax, title in zip(axes[:2], ("binary (digit >= 5)", "10 classes"), strict=True):
        ax.axhline(TARGET, color="grey", lw=0.8, ls=":")
        ax.set(title=title, xlabel="epoch", ylabel="validation accuracy")
    axes[2].set(title="validation loss / its value at epoch 0", xlabel="epoch", yscale="log")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return save_figure(fig, out, NAME, size)
