"""Optimisers on a ravine: momentum goes down the valley, plain gradient descent crawls.

In a ravine the curvature across (:math:`L`) is much larger than along (:math:`\\mu`).
Gradient descent is stable only for :math:`\\eta < 2/L`, so along the floor each step
shrinks the error by no more than :math:`1 - 2\\mu/L`: with condition number
:math:`\\kappa = L/\\mu = 100` that is hundreds of steps, spent zig-zagging across the
walls or crawling. Momentum keeps a velocity

.. math:: v_t = \\beta v_{t-1} + g_t, \\qquad \\theta_t = \\theta_{t-1} - \\eta v_t,

in which gradients that keep their sign (along the floor) add up, to :math:`g/(1-\\beta)`,
and those that alternate (across) cancel; Nesterov evaluates the gradient after the
momentum step. Adagrad, Adadelta, RMSprop and Adam divide each coordinate's step by a
running size of its gradients instead.

Each optimiser runs from the same start on a rotated quadratic ravine
:math:`f = \\frac{1}{2}(0.1\\,u^2 + 10\\,v^2)` and on the Rosenbrock function
:math:`(1 - x)^2 + 100 (y - x^2)^2`, with the learning rate from a common grid that gives
it the lowest loss at the end (so no optimiser is handicapped by a guess); momentum and
Nesterov take SGD's, so that they differ from it by the momentum alone. Then every
optimiser trains one small network on the digits with its usual learning rate.

References: I. Goodfellow, Y. Bengio, A. Courville, *Deep Learning*, §8.3.2 and
fig. 8.5 (2016); B. Polyak, "Some methods of speeding up the convergence of iteration
methods" (1964); I. Sutskever et al., "On the importance of initialization and momentum
in deep learning" (ICML 2013); S. Ruder, "An overview of gradient descent optimization
algorithms" (arXiv:1609.04747, 2016).
"""

from __future__ import annotations

import os
import warnings

import numpy as np

from ember import creation, dtypes, nn, optim, random
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

NAME = "optimizers"
CLAIM = ("momentum traverses a ravine lengthwise and reaches its minimum in far fewer steps "
         "than plain gradient descent, whose step size the steep walls hold back")
SIZES = {
    "full": {"steps": {"ravine": 150, "Rosenbrock valley": 600}, "grid": np.logspace(-4, 1, 11),
             "epochs": 20, "n_train": None},
    "smoke": {"steps": {"ravine": 15, "Rosenbrock valley": 15}, "grid": np.logspace(-3, 0, 3),
              "epochs": 1, "n_train": 128},
}
OPTIMIZERS = {  # name -> (constructor, learning rate on the digits)
    "SGD": (lambda params, lr: optim.SGD(params, lr=lr), 0.05),
    "momentum": (lambda params, lr: optim.SGD(params, lr=lr, momentum=0.9), 0.05),
    "Nesterov": (lambda params, lr: optim.SGD(params, lr=lr, momentum=0.9, nesterov=True),
                 0.05),
    "Adagrad": (lambda params, lr: optim.Adagrad(params, lr=lr), 0.05),
    "Adadelta": (lambda params, lr: optim.Adadelta(params, lr=lr), 1.0),
    "RMSprop": (lambda params, lr: optim.RMSprop(params, lr=lr), 1e-3),
    "Adam": (lambda params, lr: optim.Adam(params, lr=lr), 1e-3),
}
TOLERANCE = 1e-3  # "reached the minimum": loss <= TOLERANCE * the loss at the start


def ravine(p):
    """A quadratic valley at 45 degrees, condition number 100 (arrays or tensors)."""
    u, v = (p[0] + p[1]) / np.sqrt(2), (p[0] - p[1]) / np.sqrt(2)
    return 0.5 * (0.1 * u**2 + 10 * v**2)


def rosenbrock(p):
    """Rosenbrock's curved valley, minimum 0 at (1, 1) (arrays or tensors)."""
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


PROBLEMS = {"ravine": (ravine, (-6.0, -4.0), (0.0, 0.0)),
            "Rosenbrock valley": (rosenbrock, (-1.5, 2.0), (1.0, 1.0))}


def trajectory(name: str, function, start, lr: float, steps: int) -> np.ndarray:
    """The points (steps + 1, 2) an optimiser visits minimising ``function`` from start."""
    point = creation.tensor(start, dtype=dtypes.float64, requires_grad=True)
    optimizer = OPTIMIZERS[name][0]([point], lr)
    path = [point.detach().numpy().copy()]
    with np.errstate(all="ignore"):
        for _ in range(steps):
            optimizer.zero_grad()
            function(point).backward()
            optimizer.step()
            path.append(point.detach().numpy().copy())
    return np.array(path)


def turn_backs(path: np.ndarray) -> float:
    """The share of steps that turn back (more than 90 degrees from the previous step):
    the zig-zag."""
    steps = np.diff(path, axis=0)
    dots = (steps[1:] * steps[:-1]).sum(axis=1)
    return float((dots < 0).mean()) if len(dots) else 0.0


def _best_run(name: str, function, start, grid, steps: int):
    """(lr, path) of the grid's learning rate with the lowest final loss."""
    best = None
    for lr in grid:
        path = trajectory(name, function, start, float(lr), steps)
        with np.errstate(all="ignore"):
            final = function(path[-1])
        if np.isfinite(final) and (best is None or final < best[0]):
            best = (final, float(lr), path)
    return best[1], best[2]


def run(out: str | os.PathLike, size: str = "full", seed: int = 0) -> Result:
    """Race the optimisers on the two valleys, then on the digits; plot the paths."""
    config = SIZES[size]
    random.manual_seed(seed)
    table, paths = [], {}
    for problem, (function, start, _) in PROBLEMS.items():
        steps, start_loss = config["steps"][problem], function(np.array(start))
        sgd_lr = None
        for name in OPTIMIZERS:
            if name in ("momentum", "Nesterov"):  # the same step size as SGD, plus momentum
                lr, path = sgd_lr, trajectory(name, function, start, sgd_lr, steps)
            else:
                lr, path = _best_run(name, function, start, config["grid"], steps)
                sgd_lr = sgd_lr or lr
            losses = np.array([function(p) for p in path])
            reached = np.flatnonzero(losses <= TOLERANCE * start_loss)
            paths[f"{problem}/{name}"] = path
            table.append({"problem": problem, "optimizer": name, "lr": lr,
                          "final loss": float(losses[-1]),
                          "steps to minimum": int(reached[0]) if len(reached) else None,
                          "turn-backs": turn_backs(path), "val accuracy": None})
    digits_curves = _digits(config, seed)
    for name, (_, lr) in OPTIMIZERS.items():
        table.append({"problem": "digits (validation)", "optimizer": name, "lr": lr,
                      "final loss": digits_curves[name]["val_loss"][-1],
                      "steps to minimum": None, "turn-backs": None,
                      "val accuracy": digits_curves[name]["val_accuracy"][-1]})

    held, parts = True, []
    for problem in PROBLEMS:
        rows = {row["optimizer"]: row for row in table if row["problem"] == problem}
        limit = config["steps"][problem] + 1
        sgd = rows["SGD"]["steps to minimum"] or limit
        for name in ("momentum", "Nesterov"):
            held &= (rows[name]["steps to minimum"] or limit) < sgd
        parts.append(f"on the {problem} (lr {rows['SGD']['lr']:g}) momentum and Nesterov cut "
                     f"the loss {1 / TOLERANCE:,.0f}-fold in {_steps(rows['momentum'], limit)}"
                     f" and {_steps(rows['Nesterov'], limit)}, SGD "
                     f"{_steps(rows['SGD'], limit)} (turn-backs: SGD "
                     f"{rows['SGD']['turn-backs']:.0%}, momentum "
                     f"{rows['momentum']['turn-backs']:.0%}, Nesterov "
                     f"{rows['Nesterov']['turn-backs']:.0%})")
    best = min(digits_curves, key=lambda n: digits_curves[n]["val_loss"][-1])
    parts.append(f"on the digits {best} reached the lowest validation loss "
                 f"({digits_curves[best]['val_loss'][-1]:.3f}; SGD "
                 f"{digits_curves['SGD']['val_loss'][-1]:.3f}, momentum "
                 f"{digits_curves['momentum']['val_loss'][-1]:.3f})")
    plot = _plot(paths, digits_curves, out, size)
    return Result(NAME, CLAIM, table, verdict(held, "; ".join(parts)), held, plot,
                  data={"paths": paths, "digits": digits_curves}, size=size)


def _steps(row: dict, limit: int) -> str:
    steps = row["steps to minimum"]
    return f"{steps} steps" if steps is not None else f"not within {limit - 1} steps"


def _digits(config: dict, seed: int) -> dict:
    """Validation loss and accuracy per epoch of one MLP trained by each optimiser."""
    random.manual_seed(seed)
    x_train, y_train, x_test, y_test = digits_data(config["n_train"], standardize=True)
    curves = {}
    for name, (make, lr) in OPTIMIZERS.items():
        random.manual_seed(seed)  # the same initial weights and batches for every optimiser
        model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
        trainer = quiet_trainer(model, nn.CrossEntropyLoss(), make(model.parameters(), lr),
                                metrics=["accuracy"], nan_guard=False)
        history = fit(trainer, loader(x_train, y_train, 32),
                      loader(x_test, y_test, 512, shuffle=False), config["epochs"])
        curves[name] = {k: np.array(history[k]) for k in ("val_loss", "val_accuracy")}
    return curves


def _plot(paths: dict, digits_curves: dict, out, size: str):
    plt = pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(16, 9.5))
    colors = dict(zip(OPTIMIZERS, plt.rcParams["axes.prop_cycle"].by_key()["color"],
                      strict=False))
    groups = (("SGD", "momentum", "Nesterov"), ("Adagrad", "Adadelta", "RMSprop", "Adam"))
    for row, (problem, (function, start, minimum)) in enumerate(PROBLEMS.items()):
        box = (-8, 3, -6, 4) if problem == "ravine" else (-2, 2, -1, 3)
        x, y = np.meshgrid(np.linspace(box[0], box[1], 300), np.linspace(box[2], box[3], 300))
        z = function(np.stack([x, y]))
        for col, group in enumerate(groups):
            ax = axes[row, col]
            ax.contour(x, y, np.log10(z + 1e-3), levels=25, cmap="Greys", linewidths=0.6)
            for name in group:
                path = paths[f"{problem}/{name}"]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    ax.plot(path[:, 0], path[:, 1], ".-", ms=2.5, lw=0.9, color=colors[name],
                            label=name)
            ax.plot(*start, "ko", ms=5)
            ax.plot(*minimum, "k*", ms=11)
            ax.set(xlim=box[:2], ylim=box[2:], title=f"{problem}: {', '.join(group)}",
                   xlabel="x", ylabel="y")
            ax.legend(fontsize=8, loc="lower right")
    for ax, key in zip(axes[:, 2], ("val_loss", "val_accuracy"), strict=True):
        for name, curve in digits_curves.items():
            epochs = np.arange(1, len(curve[key]) + 1)
            ax.plot(epochs, curve[key], marker="o", ms=2.5, color=colors[name], label=name)
        ax.set(title=f"digits MLP: {key.replace('_', ' ')}", xlabel="epoch",
               yscale="log" if key == "val_loss" else "linear")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return save_figure(fig, out, NAME, size)
