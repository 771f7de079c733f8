"""XOR: no line separates it, so logistic regression fails; one hidden layer succeeds.

Logistic regression predicts :math:`\\sigma(w_1 x_1 + w_2 x_2 + b)`, whose decision
boundary is a line. XOR's classes sit on opposite corners of a square, and no line puts
(-1, -1) and (1, 1) on one side and (-1, 1) and (1, -1) on the other (Minsky & Papert).
A hidden layer :math:`h = \\tanh(W x + c)` bends the plane: in the space of :math:`h` the
classes become linearly separable, and the output layer draws its line there.

Noisy XOR (200 points around the four corners) is fitted by logistic regression and by a
2-2-1 tanh network, both with Adam on the whole set; the network's two hidden units are
plotted as coordinates. A 2-unit hidden layer can also stall in a local minimum, so the
network is trained again from several seeds, and with 8 hidden units, to count how often
it finds the solution.

References: M. Minsky, S. Papert, *Perceptrons* (1969); D. Rumelhart, G. Hinton,
R. Williams, "Learning representations by back-propagating errors" (Nature 1986);
I. Goodfellow, Y. Bengio, A. Courville, *Deep Learning*, §6.1 (2016).
"""

from __future__ import annotations

import os

import numpy as np

from ember import nn, optim, random
from ember.autograd import no_grad
from ember.experiments.common import (
    Result,
    fit,
    loader,
    pyplot,
    quiet_trainer,
    save_figure,
    verdict,
)
from ember.tensor import Tensor

NAME = "xor"
CLAIM = ("logistic regression cannot separate XOR; a network with one hidden layer can, "
         "by mapping it to features where it is linearly separable")
SIZES = {
    "full": {"n": 200, "epochs": 500, "seeds": 10},
    "smoke": {"n": 16, "epochs": 5, "seeds": 2},
}
NOISE = 0.25
SOLVED = 0.95  # training accuracy


def xor_data(n: int) -> tuple[Tensor, Tensor]:
    """``n`` points around the corners (+-1, +-1), label 1 where the signs differ."""
    generator = random.generator()
    corners = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]], dtype=np.float32)
    corner = corners[generator.integers(0, 4, n)]
    x = corner + NOISE * generator.standard_normal((n, 2)).astype(np.float32)
    y = (corner[:, 0] * corner[:, 1] < 0).astype(np.float32)[:, None]
    return Tensor(x), Tensor(y)


def _accuracy(outputs, targets) -> float:
    """Accuracy of logits thresholded at 0 against 0/1 targets."""
    return float(((np.asarray(outputs) > 0) == (np.asarray(targets) > 0.5)).mean())


def _train(model: nn.Module, x: Tensor, y: Tensor, epochs: int) -> dict:
    trainer = quiet_trainer(model, nn.BCEWithLogitsLoss(),
                            optim.Adam(model.parameters(), lr=0.05), metrics=[_accuracy],
                            nan_guard=False)
    return fit(trainer, loader(x, y, len(x), shuffle=False), None, epochs)


def two_layer(hidden: int) -> nn.Sequential:
    """``Linear(2, hidden) -> Tanh -> Linear(hidden, 1)`` (a logit)."""
    return nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, 1))


def run(out: str | os.PathLike, size: str = "full", seed: int = 0) -> Result:
    """Fit both models; plot boundaries and the hidden features; count solved seeds."""
    config = SIZES[size]
    random.manual_seed(seed)
    x, y = xor_data(config["n"])
    random.manual_seed(seed)
    logistic = nn.Linear(2, 1)
    logistic_history = _train(logistic, x, y, config["epochs"])
    random.manual_seed(seed)
    network = two_layer(2)
    network_history = _train(network, x, y, config["epochs"])
    table = [{"model": "logistic regression", "seed": seed,
              "final loss": logistic_history["loss"][-1],
              "train accuracy": logistic_history["_accuracy"][-1], "runs solved": None},
             {"model": "2-2-1 tanh network", "seed": seed,
              "final loss": network_history["loss"][-1],
              "train accuracy": network_history["_accuracy"][-1], "runs solved": None}]
    solved = {}
    for hidden in (2, 8):
        accuracies = []
        for other in range(seed, seed + config["seeds"]):
            random.manual_seed(other)
            history = _train(two_layer(hidden), x, y, config["epochs"])
            accuracies.append(history["_accuracy"][-1])
        solved[hidden] = int(sum(a >= SOLVED for a in accuracies))
        table.append({"model": f"2-{hidden}-1 tanh network, {config['seeds']} seeds",
                      "seed": f"{seed}-{seed + config['seeds'] - 1}",
                      "final loss": None, "train accuracy": float(np.mean(accuracies)),
                      "runs solved": solved[hidden]})

    logistic_accuracy, network_accuracy = table[0]["train accuracy"], table[1]["train accuracy"]
    held = logistic_accuracy <= 0.8 and network_accuracy >= SOLVED
    finding = (f"logistic regression fitted {logistic_accuracy:.0%} of the XOR points, the "
               f"network with 2 hidden units {network_accuracy:.0%}; from {config['seeds']} "
               f"seeds, 2 hidden units reached {SOLVED:.0%} in {solved[2]} runs and 8 hidden "
               f"units in {solved[8]}")
    plot = _plot(x, y, logistic, network, logistic_history, network_history, out, size)
    return Result(NAME, CLAIM, table, verdict(held, finding), held, plot,
                  data={"x": x.numpy(), "y": y.numpy(), "solved": solved,
                        "loss": {"logistic": logistic_history["loss"],
                                 "network": network_history["loss"]}}, size=size)


def _plot(x, y, logistic, network, logistic_history, network_history, out, size: str):
    plt = pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(19, 4.4))
    points, labels = x.numpy(), y.numpy()[:, 0]
    grid = np.linspace(-2, 2, 200, dtype=np.float32)
    gx, gy = np.meshgrid(grid, grid)
    plane = Tensor(np.stack([gx.ravel(), gy.ravel()], axis=1))
    with no_grad():
        hidden = network[1](network[0](x)).numpy()
        surfaces = [m(plane).sigmoid().numpy().reshape(gx.shape) for m in (logistic, network)]
    for ax, surface, title in zip(axes[:2], surfaces,
                                  ("logistic regression", "2-2-1 tanh network"), strict=True):
        ax.contourf(gx, gy, surface, levels=20, cmap="RdBu_r", alpha=0.5, vmin=0, vmax=1)
        ax.contour(gx, gy, surface, levels=[0.5], colors="k", linewidths=1.5)
        ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="RdBu_r", edgecolors="k", s=18)
        ax.set(title=f"{title}: decision boundary", xlabel="x1", ylabel="x2")
    ax = axes[2]
    ax.scatter(hidden[:, 0], hidden[:, 1], c=labels, cmap="RdBu_r", edgecolors="k", s=18)
    weight, bias = network[2].weight.detach().numpy()[0], network[2].bias.detach().numpy()[0]
    line = np.linspace(-1, 1, 50)
    if abs(weight[1]) > 1e-8:  # the output's boundary w . h + b = 0 in the hidden space
        ax.plot(line, -(weight[0] * line + bias) / weight[1], "k-", lw=1.5)
    ax.set(title="the same points in the hidden layer (h1, h2)", xlabel="h1 = tanh(.)",
           ylabel="h2 = tanh(.)", xlim=(-1.1, 1.1), ylim=(-1.1, 1.1))
    ax = axes[3]
    ax.plot(logistic_history["loss"], label="logistic regression")
    ax.plot(network_history["loss"], label="2-2-1 network")
    ax.set(title="training loss (binary cross-entropy)", xlabel="epoch (full batch)",
           yscale="log")
    ax.legend()
    for ax in axes:
        ax.grid(alpha=0.3)
    return save_figure(fig, out, NAME, size)
