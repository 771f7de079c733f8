"""Plots of a training run (matplotlib, an optional extra): curves and a confusion matrix."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError('plots need matplotlib: pip install "ember[plot]"') from None
    matplotlib.use("Agg")  # files only: no screen needed
    import matplotlib.pyplot as plt

    return plt


def plot_history(history: dict, path: str | os.PathLike, title: str = "") -> None:
    """Loss (and every metric with a validation counterpart) against epochs, as a PNG.

    One panel per quantity; training as a solid line, validation dashed.
    """
    plt = _pyplot()
    names = [k for k in history if not k.startswith("val_")
             and k not in ("lr", "time", "stopped") and _numeric(history[k])]
    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        epochs = np.arange(1, len(history[name]) + 1)
        ax.plot(epochs, history[name], marker="o", ms=3, label=f"train {name}")
        if f"val_{name}" in history:
            ax.plot(epochs, history[f"val_{name}"], marker="o", ms=3, ls="--",
                    label=f"validation {name}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_confusion_matrix(matrix, path: str | os.PathLike,
                          class_names: Sequence[str] | None = None, title: str = "") -> None:
    """A confusion matrix (rows: true class, columns: predicted) as an annotated PNG."""
    plt = _pyplot()
    matrix = np.asarray(matrix)
    n = matrix.shape[0]
    names = list(class_names) if class_names is not None else [str(i) for i in range(n)]
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * n, 0.8 + 0.5 * n))
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(n), names, rotation=45, ha="right")
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    threshold = matrix.max() / 2 if matrix.size else 0
    for i in range(n):
        for j in range(n):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if matrix[i, j] > threshold else "black")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _numeric(values) -> bool:
    return all(isinstance(v, (int, float, np.floating)) for v in values)
