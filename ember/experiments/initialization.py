"""Initialisation: zeros never break symmetry, wrong scales vanish or explode, Xavier and
He keep the signal's size through depth.

A layer :math:`z = W h` with :math:`n` inputs and weights of variance :math:`\\sigma^2`
has :math:`\\mathrm{Var}\\,z = n \\sigma^2\\, \\mathrm{E}[h^2]`: the signal keeps its size
when :math:`n\\sigma^2 = 1` for tanh (Xavier/Glorot, :math:`\\sigma^2 = 2/(n_{in} +
n_{out})`) and :math:`n\\sigma^2 = 2` for ReLU, which zeroes half of it (He,
:math:`\\sigma^2 = 2/n_{in}`). Smaller weights shrink it geometrically with depth, larger
ones blow it up (ReLU) or saturate the units (tanh). All-zero weights make every unit of a
layer compute the same function and receive the same gradient (here, none at all), so
they stay identical forever: the symmetry never breaks.

Two 10-hidden-layer networks (64 units wide, tanh and ReLU) are initialised five ways
(biases zero); the standard deviation of every layer's activations is measured on 512
training images, then each network is trained on the digits with SGD and momentum.

References: X. Glorot, Y. Bengio, "Understanding the difficulty of training deep
feedforward neural networks" (AISTATS 2010); K. He et al., "Delving Deep into Rectifiers"
(ICCV 2015); I. Goodfellow, Y. Bengio, A. Courville, *Deep Learning*, §8.4 (2016).
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

NAME = "initialization"
CLAIM = ("all-zero weights never break symmetry, too small or too large weights make the "
         "activations vanish, explode or saturate, and Xavier (tanh) and He (ReLU) keep "
         "them stable through depth")
SIZES = {
    "full": {"depth": 10, "width": 64, "epochs": 10, "n_train": None, "probe": 512},
    "smoke": {"depth": 3, "width": 8, "epochs": 1, "n_train": 64, "probe": 32},
}
INITS = {
    "zeros": lambda weight: nn.init.zeros_(weight),
    "N(0, 0.01)": lambda weight: nn.init.normal_(weight, 0.0, 0.01),
    "N(0, 1)": lambda weight: nn.init.normal_(weight, 0.0, 1.0),
    "Xavier": lambda weight: nn.init.xavier_normal_(weight),
    "He": lambda weight: nn.init.kaiming_normal_(weight, nonlinearity="relu"),
}
ACTIVATIONS = {"tanh": nn.Tanh, "ReLU": nn.ReLU}
RECOMMENDED = {"tanh": "Xavier", "ReLU": "He"}


def network(activation: str, init: str, depth: int, width: int) -> nn.Sequential:
    """``depth`` hidden layers ``Linear -> activation``, then ``Linear -> 10``."""
    layers, inputs = [], 64
    for _ in range(depth):
        layers += [nn.Linear(inputs, width), ACTIVATIONS[activation]()]
        inputs = width
    model = nn.Sequential(*layers, nn.Linear(inputs, 10))
    for layer in model:
        if isinstance(layer, nn.Linear):
            INITS[init](layer.weight)
            nn.init.zeros_(layer.bias)
    return model


def activations(model: nn.Sequential, x) -> list[np.ndarray]:
    """The output of every hidden activation layer for the batch ``x``."""
    outputs = []
    with no_grad():
        for layer in model:
            x = layer(x)
            if not isinstance(layer, nn.Linear):
                outputs.append(x.numpy())
    return outputs


def distinct_units(model: nn.Sequential) -> int:
    """How many different incoming-weight rows the first hidden layer has (1: all the
    units are the same unit)."""
    weight = model[0].weight.detach().numpy()
    return len(np.unique(np.round(weight, 6), axis=0))


def run(out: str | os.PathLike, size: str = "full", seed: int = 0) -> Result:
    """Measure activation statistics per layer at initialisation, then train each pair."""
    config = SIZES[size]
    random.manual_seed(seed)
    x_train, y_train, x_test, y_test = digits_data(config["n_train"], standardize=True)
    probe = x_train[: config["probe"]]
    table, stds = [], {}
    for activation in ACTIVATIONS:
        for init in INITS:
            random.manual_seed(seed)
            model = network(activation, init, config["depth"], config["width"])
            outputs = activations(model, probe)
            std = np.array([a.std() for a in outputs], dtype=np.float64)
            stds[f"{activation}/{init}"] = std
            trainer = quiet_trainer(model, nn.CrossEntropyLoss(),
                                    optim.SGD(model.parameters(), lr=0.01, momentum=0.9),
                                    metrics=["accuracy"])
            fit(trainer, loader(x_train, y_train, 32), None, config["epochs"])
            table.append({
                "network": activation, "init": init, "std layer 1": std[0],
                f"std layer {len(std)}": std[-1],
                "saturated (|a| > 0.99)": float((np.abs(outputs[-1]) > 0.99).mean())
                if activation == "tanh" else None,
                "diverged": trainer.stopped_reason is not None,
                "distinct units": distinct_units(model),
                "val accuracy": trainer.evaluate(loader(x_test, y_test, 512, False))["accuracy"],
            })
    held, finding = _judge(table, config)
    plot = _plot(stds, table, out, size)
    return Result(NAME, CLAIM, table, verdict(held, finding), held, plot,
                  data={"activation_std": stds}, size=size)


def _judge(table: list[dict], config: dict) -> tuple[bool, str]:
    rows = {(row["network"], row["init"]): row for row in table}
    last = f"std layer {config['depth']}"

    def ratio(row):
        return row[last] / row["std layer 1"] if row["std layer 1"] else 0.0

    zeros = [rows[(a, "zeros")] for a in ACTIVATIONS]
    small = [rows[(a, "N(0, 0.01)")] for a in ACTIVATIONS]
    tanh_large, relu_large = rows[("tanh", "N(0, 1)")], rows[("ReLU", "N(0, 1)")]
    good = [rows[(a, RECOMMENDED[a])] for a in ACTIVATIONS]
    checks = [
        all(r["distinct units"] == 1 and r["val accuracy"] < 0.2 for r in zeros),
        all(ratio(r) < 1e-3 for r in small),
        tanh_large["saturated (|a| > 0.99)"] > 0.5,
        relu_large["diverged"] or ratio(relu_large) > 1e3,
        all(0.1 < ratio(r) < 10 and r["val accuracy"] >= 0.9 for r in good),
    ]
    width = config["width"]
    finding = (
        f"zeros left {zeros[0]['distinct units']} distinct unit of {width} (tanh) at "
        f"{zeros[0]['val accuracy']:.0%} accuracy; N(0, 0.01) shrank the activations' std "
        f"{1 / max(ratio(small[0]), 1e-300):.0e}-fold by layer {config['depth']} (tanh); "
        f"N(0, 1) saturated {tanh_large['saturated (|a| > 0.99)']:.0%} of the last tanh "
        f"layer and grew ReLU activations {ratio(relu_large):.0e}-fold"
        + (" (training diverged)" if relu_large["diverged"] else "")
        + f"; Xavier (tanh) and He (ReLU) kept the last layer's std at {ratio(good[0]):.2f} "
        f"and {ratio(good[1]):.2f} of the first's and reached {good[0]['val accuracy']:.0%} "
        f"and {good[1]['val accuracy']:.0%}")
    return all(checks), finding


def _plot(stds: dict, table: list[dict], out, size: str):
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for col, activation in enumerate(ACTIVATIONS):
        ax = axes[col]
        for init in INITS:
            std = stds[f"{activation}/{init}"]
            layers = np.arange(1, len(std) + 1)
            ax.plot(layers, np.maximum(std, 1e-16), marker="o", ms=3,
                    label=init + (" (std 0, drawn at 1e-16)" if not std.any() else ""))
        ax.set(title=f"{activation}: activation std per layer at initialisation",
               xlabel="hidden layer", ylabel="std of activations", yscale="log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    names = list(INITS)
    positions = np.arange(len(names))
    for shift, activation in ((-0.2, "tanh"), (0.2, "ReLU")):
        accuracy = [next(r["val accuracy"] for r in table
                         if r["network"] == activation and r["init"] == init) for init in names]
        axes[2].bar(positions + shift, accuracy, width=0.4, label=activation)
    axes[2].set_xticks(positions, names)
    axes[2].set(title="validation accuracy after training", ylim=(0, 1))
    axes[2].legend()
    axes[2].grid(alpha=0.3, axis="y")
    return save_figure(fig, out, NAME, size)
