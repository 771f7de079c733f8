"""L1 versus L2 versus elastic net: only the L1 penalty drives weights to zero.

The penalty's gradient decides how a weight is pulled towards zero:

.. math:: \\frac{\\partial}{\\partial w} \\lambda |w| = \\lambda\\,\\mathrm{sign}(w),
          \\qquad \\frac{\\partial}{\\partial w} \\lambda w^2 = 2 \\lambda w.

L1 pulls with the same force however small the weight is, so a weight the data does not
need is pushed all the way to zero (and dithers there, within about one step
:math:`\\eta\\lambda`); L2's pull fades in proportion to the weight, which shrinks all
weights but leaves almost none at zero. The elastic net :math:`r\\lambda|w| + (1 -
r)\\lambda w^2` sits in between.

The same 64-64-10 network is trained on the digits with SGD without a penalty, with L2
(two strengths), L1, and the elastic net (half of each); the histogram of the weights
(biases excluded) and the share with :math:`|w| < 10^{-3}` are measured at the end.

References: R. Tibshirani, "Regression Shrinkage and Selection via the Lasso" (JRSS B
1996); H. Zou, T. Hastie, "Regularization and variable selection via the elastic net"
(JRSS B 2005); I. Goodfellow, Y. Bengio, A. Courville, *Deep Learning*, §7.1 (2016).
"""

from __future__ import annotations

import os

import numpy as np

from ember import nn, optim, random
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

NAME = "sparsity"
CLAIM = "an L1 penalty makes many weights (near) zero; L2 shrinks them without zeroing them"
SIZES = {
    "full": {"hidden": 64, "epochs": 40, "n_train": None},
    "smoke": {"hidden": 8, "epochs": 2, "n_train": 64},
}
RUNS = (  # (label, l1 strength, l2 strength)
    ("none", 0.0, 0.0),
    ("L2 1e-3", 0.0, 1e-3),
    ("L2 1e-2", 0.0, 1e-2),
    ("L1 1e-3", 1e-3, 0.0),
    ("elastic net 1e-3", 5e-4, 5e-4),
)
NEAR_ZERO = 1e-3


def weights(model: nn.Module) -> np.ndarray:
    """All the ``*.weight`` parameters (biases left out), flattened into one array."""
    return np.concatenate([p.detach().numpy().ravel() for name, p in model.named_parameters()
                           if name.endswith("weight")])


def run(out: str | os.PathLike, size: str = "full", seed: int = 0) -> Result:
    """Train with each penalty; plot the weight histograms and the share near zero."""
    config = SIZES[size]
    random.manual_seed(seed)
    x_train, y_train, x_test, y_test = digits_data(config["n_train"], standardize=True)
    table, all_weights = [], {}
    for label, l1, l2 in RUNS:
        random.manual_seed(seed)  # the same initial weights and batches
        model = nn.Sequential(nn.Linear(64, config["hidden"]), nn.ReLU(),
                              nn.Linear(config["hidden"], 10))
        trainer = quiet_trainer(model, nn.CrossEntropyLoss(),
                                optim.SGD(model.parameters(), lr=0.05), metrics=["accuracy"],
                                l1=l1, l2=l2)
        history = fit(trainer, loader(x_train, y_train, 32),
                      loader(x_test, y_test, 512, shuffle=False), config["epochs"])
        w = weights(model)
        all_weights[label] = w
        table.append({"penalty": label, "l1": l1, "l2": l2,
                      f"|w| < {NEAR_ZERO:g}": float((np.abs(w) < NEAR_ZERO).mean()),
                      "|w| < 0.01": float((np.abs(w) < 0.01).mean()),
                      "mean |w|": float(np.abs(w).mean()), "max |w|": float(np.abs(w).max()),
                      "val accuracy": history["val_accuracy"][-1]})

    share = {row["penalty"]: row[f"|w| < {NEAR_ZERO:g}"] for row in table}
    l2_best = max(share["L2 1e-3"], share["L2 1e-2"])
    held = share["L1 1e-3"] > 5 * l2_best and l2_best < share["elastic net 1e-3"] < share[
        "L1 1e-3"]
    accuracy = {row["penalty"]: row["val accuracy"] for row in table}
    finding = (f"{share['L1 1e-3']:.0%} of the weights ended within {NEAR_ZERO:g} of zero with "
               f"L1, {share['elastic net 1e-3']:.0%} with the elastic net, "
               f"{share['L2 1e-3']:.1%} and {share['L2 1e-2']:.1%} with the two L2 strengths "
               f"and {share['none']:.1%} without a penalty, at validation accuracies "
               f"{accuracy['L1 1e-3']:.1%}, {accuracy['elastic net 1e-3']:.1%}, "
               f"{accuracy['L2 1e-3']:.1%}, {accuracy['L2 1e-2']:.1%} and "
               f"{accuracy['none']:.1%}")
    plot = _plot(all_weights, table, out, size)
    return Result(NAME, CLAIM, table, verdict(held, finding), held, plot,
                  data={"weights": all_weights}, size=size)


def _plot(all_weights: dict, table: list[dict], out, size: str):
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))
    for label, w in all_weights.items():
        axes[0].hist(w, bins=121, range=(-0.3, 0.3), histtype="step", lw=1.2, label=label)
        axes[1].hist(np.log10(np.abs(w) + 1e-12), bins=60, range=(-8, 0), histtype="step",
                     lw=1.2, label=label)
    axes[0].set(title="weights (biases excluded)", xlabel="w", ylabel="count", yscale="log")
    axes[1].axvline(np.log10(NEAR_ZERO), color="grey", ls=":", lw=1)
    axes[1].set(title="size of the weights", xlabel="log10 |w|", ylabel="count")
    names = [row["penalty"] for row in table]
    axes[2].bar(np.arange(len(names)), [row[f"|w| < {NEAR_ZERO:g}"] for row in table])
    axes[2].set_xticks(np.arange(len(names)), names, rotation=15)
    axes[2].set(title=f"share of weights with |w| < {NEAR_ZERO:g}", ylim=(0, 1))
    for ax in axes[:2]:
        ax.legend(fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3)
    return save_figure(fig, out, NAME, size)
