"""Dying ReLU: a large learning rate leaves ReLU units dead; Leaky ReLU units come back.

A ReLU unit :math:`h = \\max(0, w \\cdot x + b)` whose pre-activation is negative for
every input outputs 0 everywhere and gets the gradient

.. math:: \\frac{\\partial L}{\\partial w} = \\frac{\\partial L}{\\partial h}\\,
          \\mathbb{1}[w \\cdot x + b > 0]\\; x = 0

for every input: nothing can move it again, it is dead. One large update (a large
learning rate) can throw a unit there. Leaky ReLU, :math:`h = \\max(\\alpha z, z)` with
:math:`\\alpha = 0.01`, keeps the gradient :math:`\\alpha` on the negative side, so a unit
pushed there can still learn its way back.

The same two-hidden-layer network (128 + 128 units) is trained on the digits with Adam
at its usual learning rate (1e-3, ReLU) and at ten times it (1e-2, ReLU and Leaky ReLU),
and after every epoch each hidden unit is checked on every training image: a unit that
is negative on all of them is *inactive* (for ReLU: dead).

References: A. Maas, A. Hannun, A. Ng, "Rectifier Nonlinearities Improve Neural Network
Acoustic Models" (ICML 2013 workshop); A. Karpathy, CS231n notes, "Commonly used
activation functions" (2016); L. Lu et al., "Dying ReLU and Initialization: Theory and
Numerical Examples" (2019).
"""

from __future__ import annotations

import os

import numpy as np

from ember import nn, optim, random
from ember.autograd import no_grad
from ember.experiments.common import (
    Result,
    digits_data,
    fit,
    loader,
    pyplot,
    quiet_trainer,
    save_figure,
    verdict,
)
from ember.train import Callback

NAME = "dying_relu"
CLAIM = ("with a large learning rate many ReLU units die (inactive on every input, no "
         "gradient), while Leaky ReLU units keep a gradient and recover")
SIZES = {
    "full": {"width": 128, "epochs": 20, "n_train": None},
    "smoke": {"width": 16, "epochs": 2, "n_train": 64},
}
RUNS = (  # (label, activation, Adam learning rate)
    ("ReLU, lr 1e-3", "ReLU", 1e-3),
    ("ReLU, lr 1e-2", "ReLU", 1e-2),
    ("Leaky ReLU, lr 1e-2", "LeakyReLU", 1e-2),
)


def active_share(model: nn.Sequential, x) -> np.ndarray:
    """For every hidden unit (both layers, concatenated): the share of the inputs ``x`` on
    which its pre-activation is positive (0: inactive on all of them)."""
    shares = []
    with no_grad():
        for layer in model:
            x = layer(x)
            if isinstance(layer, nn.Linear) and layer is not model[-1]:
                shares.append((x.numpy() > 0).mean(axis=0))
    return np.concatenate(shares)


class _Track(Callback):
    """The active share of every unit after every epoch."""

    def __init__(self, x) -> None:
        self.x, self.shares = x, []

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        self.shares.append(active_share(trainer.model, self.x))


def run(out: str | os.PathLike, size: str = "full", seed: int = 0) -> Result:
    """Train the three runs, tracking the inactive units; plot them against epochs."""
    config = SIZES[size]
    random.manual_seed(seed)
    x_train, y_train, x_test, y_test = digits_data(config["n_train"], standardize=True)
    width = config["width"]
    table, curves = [], {}
    for label, activation, lr in RUNS:
        random.manual_seed(seed)  # the same initial weights and batches
        model = nn.Sequential(nn.Linear(64, width), getattr(nn, activation)(),
                              nn.Linear(width, width), getattr(nn, activation)(),
                              nn.Linear(width, 10))
        track = _Track(x_train)
        track.shares.append(active_share(model, x_train))  # epoch 0
        trainer = quiet_trainer(model, nn.CrossEntropyLoss(),
                                optim.Adam(model.parameters(), lr=lr), metrics=["accuracy"],
                                callbacks=[track])
        history = fit(trainer, loader(x_train, y_train, 32),
                      loader(x_test, y_test, 512, shuffle=False), config["epochs"])
        inactive = np.array([(share == 0).mean() for share in track.shares])
        first_dead = track.shares[1] == 0
        revived = float((first_dead & (track.shares[-1] > 0)).sum() / max(first_dead.sum(), 1))
        curves[label] = {"inactive": inactive, "val_accuracy": np.array(history["val_accuracy"]),
                         "active_share": track.shares[-1]}
        table.append({"run": label, "inactive after epoch 1": inactive[1],
                      "inactive at the end": inactive[-1], "peak inactive": inactive.max(),
                      "revived": revived,
                      "val accuracy": history["val_accuracy"][-1]})

    normal, large, leaky = table
    key = "inactive at the end"
    revived_key = "revived"
    held = large[key] > max(2 * leaky[key], normal[key] + 0.05)
    finding = (f"with Adam at lr 1e-2, {large[key]:.0%} of the ReLU units were dead at the end "
               f"(peak {large['peak inactive']:.0%}) against {normal[key]:.0%} at lr 1e-3; "
               f"Leaky ReLU ended with {leaky[key]:.0%} inactive (peak "
               f"{leaky['peak inactive']:.0%}), "
               f"{leaky[revived_key]:.0%} of those inactive "
               f"after epoch 1 came back (ReLU: "
               f"{large[revived_key]:.0%}); validation "
               f"accuracy {large['val accuracy']:.1%} (ReLU) and {leaky['val accuracy']:.1%} "
               f"(Leaky ReLU)")
    plot = _plot(curves, out, size)
    return Result(NAME, CLAIM, table, verdict(held, finding), held, plot,
                  data={"curves": curves}, size=size)


def _plot(curves: dict, out, size: str):
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for label, curve in curves.items():
        axes[0].plot(np.arange(len(curve["inactive"])), curve["inactive"], marker="o", ms=3,
                     label=label)
        axes[1].plot(np.arange(1, len(curve["val_accuracy"]) + 1), curve["val_accuracy"],
                     marker="o", ms=3, label=label)
    for label in [label for label, _, lr in RUNS if lr == 1e-2]:
        axes[2].hist(curves[label]["active_share"], bins=25, range=(0, 1), alpha=0.6,
                     label=label)
    axes[0].set(title="share of hidden units inactive on every image", xlabel="epoch")
    axes[1].set(title="validation accuracy", xlabel="epoch")
    axes[2].set(title="units by the share of images that activate them (end)",
                xlabel="share of training images with a positive pre-activation",
                ylabel="units")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return save_figure(fig, out, NAME, size)
