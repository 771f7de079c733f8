"""Metric names the fit loop understands, mapped to functions of (outputs, targets).

``outputs`` are the model's outputs for a whole epoch (logits or probabilities (N, C) for
classification, values for regression), ``targets`` the labels or values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import numpy as np


def _classification(name: str) -> Callable | None:
    from ember import metrics

    if name == "accuracy":
        return metrics.accuracy
    top = re.fullmatch(r"top(\d+)_accuracy", name)
    if top:
        k = int(top.group(1))
        return lambda outputs, targets: metrics.top_k_accuracy(outputs, targets, k=k)
    averaged = re.fullmatch(r"(macro|micro|weighted)_(f1|precision|recall)", name)
    if averaged:
        average, kind = averaged.groups()
        fn = {"f1": metrics.f1_score, "precision": metrics.precision,
              "recall": metrics.recall}[kind]
        return lambda outputs, targets: fn(targets, outputs, average=average)
    return None


_REGRESSION = {
    "mae": lambda outputs, targets: float(np.mean(np.abs(outputs.reshape(targets.shape)
                                                         - targets))),
    "mse": lambda outputs, targets: float(np.mean((outputs.reshape(targets.shape)
                                                   - targets) ** 2)),
}


def _segmentation(name: str) -> Callable | None:
    """Metrics of score maps (N, C, H, W) against label maps (N, H, W)."""
    from ember.metrics import segmentation

    table = {
        "mean_iou": lambda outputs, targets: segmentation.mean_iou(
            outputs, targets, num_classes=outputs.shape[1])[1],
        "pixel_accuracy": segmentation.pixel_accuracy,
        "mean_dice": lambda outputs, targets: float(np.nanmean(segmentation.dice_score(
            outputs, targets, num_classes=outputs.shape[1]))),
    }
    return table.get(name)


def resolve_metrics(metrics: Iterable) -> dict[str, Callable]:
    """``["accuracy", my_fn]`` -> ``{"accuracy": fn, "my_fn": my_fn}``."""
    resolved = {}
    for metric in metrics:
        if callable(metric):
            resolved[getattr(metric, "__name__", "metric")] = metric
            continue
        fn = _REGRESSION.get(metric) or _classification(metric) or _segmentation(metric)
        if fn is None:
            raise ValueError(
                f"unknown metric {metric!r}; use 'accuracy', 'topK_accuracy' (e.g. "
                "'top5_accuracy'), 'macro_f1', 'micro_precision', 'weighted_recall', 'mae', "
                "'mse', 'mean_iou', 'pixel_accuracy', 'mean_dice' (segmentation), or a "
                "function f(outputs, targets)"
            )
        resolved[metric] = fn
    return resolved
