"""The perceptron: Rosenblatt's rule converges on AND, OR and NAND, and cycles on XOR.

The four two-input logic gates are the classic test of a single threshold unit,
``step(w1 x1 + w2 x2 + b)``. AND, OR and NAND are linearly separable: a line puts their
1s on one side and their 0s on the other, and Novikoff's theorem bounds the mistakes the
perceptron rule makes before it finds one. XOR is not (Minsky & Papert, 1969): the rule
keeps making mistakes, and since its updates add and subtract the integer inputs, the
weights come back to values they had before and repeat forever. Each gate is learnt
from zero weights with step size 1, presenting the four rows in order, until an epoch
without a mistake or a repeated state.

References: F. Rosenblatt, "The perceptron: a probabilistic model for information storage
and organization in the brain" (Psychological Review, 1958); A. Novikoff, "On convergence
proofs on perceptrons" (1962); M. Minsky, S. Papert, *Perceptrons* (1969).
"""

from __future__ import annotations

import os

import numpy as np

from ember import nn
from ember.experiments.common import Result, pyplot, save_figure, verdict
from ember.tensor import Tensor

NAME = "perceptron"
CLAIM = ("the perceptron learning rule converges on linearly separable data (AND, OR, NAND) "
         "and cycles forever on XOR")
SIZES = {"full": {"epochs": 100}, "smoke": {"epochs": 20}}
INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
GATES = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "NAND": [1, 1, 1, 0], "XOR": [0, 1, 1, 0]}


def run(out: str | os.PathLike, size: str = "full", seed: int = 0) -> Result:
    """Learn each gate with Rosenblatt's rule (deterministic: zero start, fixed order;
    ``seed`` is recorded only)."""
    config = SIZES[size]
    table, histories, models = [], {}, {}
    x = Tensor(INPUTS)
    for gate, targets in GATES.items():
        perceptron = nn.Perceptron(2)
        history = perceptron.fit(x, Tensor(np.array(targets, dtype=np.float32)),
                                 epochs=config["epochs"], lr=1.0)
        w, b = history.weights[-1]
        accuracy = float((perceptron(x).numpy() == np.array(targets)).mean())
        histories[gate], models[gate] = history, perceptron
        table.append({"gate": gate, "linearly separable": gate != "XOR",
                      "converged": history.converged, "epochs": history.epochs,
                      "mistakes": sum(history.mistakes),
                      "cycle (from epoch, period)": None if history.cycle is None else
                      f"{history.cycle[0] + 1}, {history.cycle[1]}",
                      "w1, w2, b": f"{w[0]:g}, {w[1]:g}, {b:g}", "accuracy": accuracy})
    separable_converged = all(histories[g].converged for g in ("AND", "OR", "NAND"))
    xor = histories["XOR"]
    held = separable_converged and not xor.converged and xor.cycle is not None
    finding = (", ".join(f"{g} converged in {histories[g].epochs} epochs"
                         if histories[g].converged else f"{g} did not converge"
                         for g in ("AND", "OR", "NAND"))
               + ("; XOR never converged: its weights repeated after epoch "
                  f"{xor.cycle[0] + xor.cycle[1]} (a cycle of {xor.cycle[1]} epoch"
                  f"{'s' if xor.cycle[1] > 1 else ''}), accuracy at most "
                  f"{table[-1]['accuracy']:.0%}" if xor.cycle else
                  f"; XOR: {'converged' if xor.converged else 'no cycle seen'}"))
    plot = _plot(histories, out, size)
    return Result(NAME, CLAIM, table, verdict(held, finding), held, plot,
                  data={"mistakes": {g: h.mistakes for g, h in histories.items()},
                        "cycle": xor.cycle, "seed": seed}, size=size)


def _plot(histories, out, size: str):
    plt = pyplot()
    fig, axes = plt.subplots(1, 5, figsize=(22, 4.2))
    line = np.linspace(-0.5, 1.5, 50)
    for ax, (gate, history) in zip(axes, histories.items(), strict=False):
        targets = np.array(GATES[gate])
        for states, style in ((history.weights[:-1], "--"), (history.weights[-1:], "-")):
            for w, b in states[-4:]:  # the last few boundaries w . x + b = 0
                if abs(w[1]) > 1e-12:
                    ax.plot(line, -(w[0] * line + b) / w[1], "k" + style,
                            lw=2 if style == "-" else 0.7, alpha=1 if style == "-" else 0.4)
                elif abs(w[0]) > 1e-12:
                    ax.axvline(-b / w[0], color="k", ls=style)
        ax.scatter(INPUTS[:, 0], INPUTS[:, 1], c=targets, cmap="coolwarm", s=160,
                   edgecolors="k", zorder=3)
        state = ("converged" if history.converged else
                 f"cycles (period {history.cycle[1]})" if history.cycle else "did not stop")
        ax.set(title=f"{gate}: {state}", xlim=(-0.5, 1.5), ylim=(-0.5, 1.5), xlabel="x1",
               ylabel="x2")
    ax = axes[4]
    for gate, history in histories.items():
        ax.plot(range(1, history.epochs + 1), history.mistakes, "o-", label=gate)
    ax.set(title="mistakes per epoch", xlabel="epoch", ylabel="mistakes")
    ax.legend()
    for ax in axes:
        ax.grid(alpha=0.3)
    return save_figure(fig, out, NAME, size)
