"""Vanishing gradients: through 20 sigmoid layers the first layers get almost no gradient.

Backpropagation multiplies the gradient, layer by layer, by the weights and by the
activation's derivative:

.. math:: \\frac{\\partial L}{\\partial h_{l-1}} = W_l^T \\left(\\sigma'(z_l) \\odot
          \\frac{\\partial L}{\\partial h_l}\\right),

and the sigmoid's derivative is at most 1/4, so over :math:`L` layers the gradient shrinks
like :math:`4^{-L}` unless the weights make up for it. ReLU's derivative is 1 where the
unit is active, and with He initialisation (:math:`\\mathrm{Var}\\,w = 2/n_{in}`) the
gradient keeps its size through depth; a residual connection :math:`h_l = h_{l-1} +
f(h_{l-1})` adds an identity path, :math:`\\partial h_l / \\partial h_{l-1} = I +
\\partial f / \\partial h_{l-1}`, along which the gradient passes unchanged.

Three 20-layer networks (20 Linear layers, 32 units wide) are trained on the digits with
Adam: sigmoid with Xavier initialisation, ReLU with He initialisation, and ReLU residual
blocks (branches with PyTorch's default initialisation). The norm of each layer's weight
gradient is measured on a fixed batch at initialisation and after training.

References: S. Hochreiter, "Untersuchungen zu dynamischen neuronalen Netzen" (1991);
Y. Bengio, P. Simard, P. Frasconi, "Learning long-term dependencies with gradient descent
is difficult" (IEEE TNN 1994); X. Glorot, Y. Bengio, "Understanding the difficulty of
training deep feedforward neural networks" (AISTATS 2010); K. He et al., "Deep Residual
Learning for Image Recognition" (CVPR 2016).
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
from ember.nn import functional as F

NAME = "vanishing_gradients"
CLAIM = ("in a deep sigmoid network the first layers' gradients vanish; ReLU (He "
         "initialisation) and residual connections keep them flowing")
SIZES = {
    "full": {"depth": 20, "width": 32, "epochs": 15, "n_train": None, "probe": 256},
    "smoke": {"depth": 6, "width": 8, "epochs": 1, "n_train": 128, "probe": 32},
}
NETWORKS = ("sigmoid", "ReLU", "ReLU + residual")


class Residual(nn.Module):
    """A residual block :math:`h + \\mathrm{relu}(W h + b)`."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.linear = nn.Linear(width, width)

    def forward(self, x):
        return x + self.linear(x).relu()


def network(kind: str, depth: int, width: int) -> nn.Sequential:
    """``depth`` Linear layers: 64 -> width, depth - 2 hidden ones, width -> 10."""
    activation = nn.Sigmoid if kind == "sigmoid" else nn.ReLU
    layers = [nn.Linear(64, width), activation()]
    for _ in range(depth - 2):
        if kind == "ReLU + residual":
            layers.append(Residual(width))
        else:
            layers += [nn.Linear(width, width), activation()]
    layers.append(nn.Linear(width, 10))
    model = nn.Sequential(*layers)
    if kind != "ReLU + residual":
        for layer in model:
            if isinstance(layer, nn.Linear):
                if kind == "sigmoid":
                    nn.init.xavier_normal_(layer.weight)
                else:
                    nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
                nn.init.zeros_(layer.bias)
    return model


def gradient_norms(model: nn.Module, x, y) -> np.ndarray:
    """The L2 norm of each Linear layer's weight gradient, input side first."""
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    norms = [np.linalg.norm(m.weight.grad.numpy()) for m in model.modules()
             if isinstance(m, nn.Linear)]
    model.zero_grad()
    return np.array(norms, dtype=np.float64)


def run(out: str | os.PathLike, size: str = "full", seed: int = 0) -> Result:
    """Measure per-layer gradient norms before and after training the three networks."""
    config = SIZES[size]
    random.manual_seed(seed)
    x_train, y_train, x_test, y_test = digits_data(config["n_train"], standardize=True)
    probe = (x_train[: config["probe"]], y_train[: config["probe"]])
    table, norms, accuracy = [], {}, {}
    for kind in NETWORKS:
        random.manual_seed(seed)
        model = network(kind, config["depth"], config["width"])
        before = gradient_norms(model, *probe)
        trainer = quiet_trainer(model, nn.CrossEntropyLoss(),
                                optim.Adam(model.parameters(), lr=1e-3), metrics=["accuracy"],
                                nan_guard=False)
        history = fit(trainer, loader(x_train, y_train, 32),
                      loader(x_test, y_test, 512, shuffle=False), config["epochs"])
        after = gradient_norms(model, *probe)
        norms[kind] = {"initial": before, "trained": after}
        accuracy[kind] = np.array(history["val_accuracy"])
        table.append({"network": kind, "first/last gradient at init": before[0] / before[-1],
                      "first/last gradient trained": after[0] / after[-1],
                      "first-layer gradient at init": before[0],
                      "val accuracy": accuracy[kind][-1]})

    rows = {row["network"]: row for row in table}
    ratio = {kind: rows[kind]["first/last gradient at init"] for kind in NETWORKS}
    final = {kind: rows[kind]["val accuracy"] for kind in NETWORKS}
    held = (ratio["sigmoid"] < 1e-3 and min(ratio["ReLU"], ratio["ReLU + residual"]) > 0.1
            and final["sigmoid"] < min(final["ReLU"], final["ReLU + residual"]))
    finding = (f"at initialisation the first layer's gradient was {ratio['sigmoid']:.1e} of "
               f"the last layer's with sigmoid, {ratio['ReLU']:.2g} with ReLU and "
               f"{ratio['ReLU + residual']:.2g} with residual ReLU blocks; after "
               f"{config['epochs']} epochs validation accuracy was {final['sigmoid']:.0%}, "
               f"{final['ReLU']:.0%} and {final['ReLU + residual']:.0%}")
    plot = _plot(norms, accuracy, out, size)
    return Result(NAME, CLAIM, table, verdict(held, finding), held, plot,
                  data={"gradient_norms": norms, "val_accuracy": accuracy}, size=size)


def _plot(norms: dict, accuracy: dict, out, size: str):
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for kind, norm in norms.items():
        layers = np.arange(1, len(norm["initial"]) + 1)
        for ax, when in zip(axes[:2], ("initial", "trained"), strict=True):
            ax.plot(layers, np.maximum(norm[when], 1e-30), marker="o", ms=3, label=kind)
        epochs = np.arange(1, len(accuracy[kind]) + 1)
        axes[2].plot(epochs, accuracy[kind], marker="o", ms=3, label=kind)
    for ax, when in zip(axes[:2], ("at initialisation", "after training"), strict=True):
        ax.set(title=f"weight-gradient norm per layer, {when}", xlabel="layer (input side first)",
               ylabel="||dL/dW||", yscale="log")
    axes[2].set(title="validation accuracy", xlabel="epoch")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return save_figure(fig, out, NAME, size)
