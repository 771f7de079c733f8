"""Precision-recall curves as a picture (matplotlib, an optional extra)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ["plot_precision_recall"]


def plot_precision_recall(curves: dict, path: str | os.PathLike, title: str = "") -> Path:
    """Draw precision against recall, one line per curve, and write a PNG.

    Args:
        curves: ``{name: (recall, precision)}`` (arrays of one length each), or
            ``{name: curve}`` with ``.recall`` and ``.precision`` (e.g.
            :class:`~ember.metrics.voc.PrecisionRecallCurve`).
        path: the PNG file to write.
        title: the figure's title.

    Returns:
        the path written.
    """
    from ember.train.plots import _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 4.2))
    for name, curve in curves.items():
        recall, precision = ((curve.recall, curve.precision) if hasattr(curve, "recall")
                             else curve)
        ax.step(np.asarray(recall), np.asarray(precision), where="post", label=str(name))
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1.0)
    ax.set_ylim(0, 1.05)
    ax.grid(alpha=0.3)
    if curves:
        ax.legend(loc="lower left", fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
