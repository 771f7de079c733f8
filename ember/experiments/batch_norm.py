"""Batch normalisation: a deep network trains at larger learning rates, and so converges
in fewer epochs.

Batch normalisation standardises every unit over the mini-batch, then rescales it,

.. math:: y = \\gamma \\frac{x - \\mu_B}{\\sqrt{\\sigma_B^2 + \\epsilon}} + \\beta,

so that a layer's output no longer depends on the scale of its weights
(:math:`\\mathrm{BN}(aWx) = \\mathrm{BN}(Wx)`): a large step cannot blow up the
activations of the layers above, and larger learning rates become usable (Ioffe &
Szegedy: "Batch Normalization enables higher learning rates"; Santurkar et al.: it makes
the loss surface smoother).

The same 10-hidden-layer ReLU network (64 units, He initialisation) is trained on the
digits by plain SGD at three learning rates, with and without ``BatchNorm1d`` after each
hidden Linear layer; a run whose loss becomes NaN or infinite is stopped (diverged).

References: S. Ioffe, C. Szegedy, "Batch Normalization: Accelerating Deep Network
Training by Reducing Internal Covariate Shift" (ICML 2015); S. Santurkar et al., "How
Does Batch Normalization Help Optimization?" (NeurIPS 2018).
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

NAME = "batch_norm"
CLAIM = ("batch normalisation lets a deep network train at larger learning rates and reach "
         "a given accuracy in fewer epochs")
SIZES = {
    "full": {"depth": 10, "width": 64, "epochs": 15, "n_train": None,
             "lrs": (0.01, 0.1, 1.0)},
    "smoke": {"depth": 3, "width": 8, "epochs": 2, "n_train": 64, "lrs": (0.01, 1.0)},
}
TARGET = 0.9  # validation accuracy


def network(batch_norm: bool, depth: int, width: int) -> nn.Sequential:
    """``depth`` x (Linear [-> BatchNorm1d] -> ReLU), then Linear -> 10; He init."""
    layers, inputs = [], 64
    for _ in range(depth):
        layers.append(nn.Linear(inputs, width))
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(nn.ReLU())
        inputs = width
    model = nn.Sequential(*layers, nn.Linear(inputs, 10))
    for layer in model:
        if isinstance(layer, nn.Linear):
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)
    return model


def run(out: str | os.PathLike, size: str = "full", seed: int = 0) -> Result:
    """Train with and without batch norm at each learning rate; plot accuracy curves."""
    config = SIZES[size]
    random.manual_seed(seed)
    x_train, y_train, x_test, y_test = digits_data(config["n_train"], standardize=True)
    table, curves = [], {}
    for lr in config["lrs"]:
        for batch_norm in (False, True):
            random.manual_seed(seed)  # the same batches (and weights, without BN)
            model = network(batch_norm, config["depth"], config["width"])
            trainer = quiet_trainer(model, nn.CrossEntropyLoss(),
                                    optim.SGD(model.parameters(), lr=lr), metrics=["accuracy"])
            history = fit(trainer, loader(x_train, y_train, 32),
                          loader(x_test, y_test, 512, shuffle=False), config["epochs"])
            label = "batch norm" if batch_norm else "plain"
            accuracy = np.array(history.get("val_accuracy", []), dtype=np.float64)
            curves[f"{label}/{lr:g}"] = accuracy
            table.append({"network": label, "lr": lr,
                          f"epochs to {TARGET:.0%}": first_epoch(accuracy, TARGET),
                          "val accuracy": accuracy[-1] if len(accuracy) else None,
                          "diverged": trainer.stopped_reason is not None,
                          "epochs run": len(accuracy)})

    held, finding = _judge(table, config)
    plot = _plot(curves, config, out, size)
    return Result(NAME, CLAIM, table, verdict(held, finding), held, plot,
                  data={"val_accuracy": curves, "target": TARGET}, size=size)


def _judge(table: list[dict], config: dict) -> tuple[bool, str]:
    key, epochs, never = f"epochs to {TARGET:.0%}", config["epochs"], config["epochs"] + 1

    def best(label):
        rows = [r for r in table if r["network"] == label]
        return min(rows, key=lambda r: (r[key] or never, r["lr"]))

    plain, normed = best("plain"), best("batch norm")
    largest = max(config["lrs"])
    at_largest = {r["network"]: r for r in table if r["lr"] == largest}
    held = ((normed[key] or never) < (plain[key] or never)
            and at_largest["batch norm"][key] is not None
            and at_largest["plain"][key] is None)

    def state(row):
        return "diverged" if row["diverged"] else str(row[key] or f">{epochs}")

    per_network = ", ".join(
        f"{name} " + "/".join(state(r) for r in table if r["network"] == name)
        for name in ("plain", "batch norm"))
    finding = (f"batch norm reached {TARGET:.0%} validation accuracy "
               f"{epochs_text(normed[key], epochs)} (lr {normed['lr']:g}), plain at best "
               f"{epochs_text(plain[key], epochs)} (lr {plain['lr']:g}); epochs to "
               f"{TARGET:.0%} at lr {'/'.join(f'{lr:g}' for lr in config['lrs'])}: "
               f"{per_network}")
    return held, finding


def _plot(curves: dict, config: dict, out, size: str):
    plt = pyplot()
    lrs = config["lrs"]
    fig, axes = plt.subplots(1, len(lrs), figsize=(5 * len(lrs), 4), squeeze=False)
    for ax, lr in zip(axes[0], lrs, strict=True):
        for label, style in (("plain", "--"), ("batch norm", "-")):
            accuracy = curves[f"{label}/{lr:g}"]
            if len(accuracy) < config["epochs"]:
                label += f" (diverged in epoch {len(accuracy) + 1})"
            ax.plot(np.arange(1, len(accuracy) + 1), accuracy, style, marker="o", ms=3,
                    label=label)
        ax.axhline(TARGET, color="grey", lw=0.8, ls=":")
        ax.set(title=f"SGD, lr {lr:g}", xlabel="epoch", ylabel="validation accuracy",
               xlim=(0.5, config["epochs"] + 0.5), ylim=(0, 1))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    return save_figure(fig, out, NAME, size)
