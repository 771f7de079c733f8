"""Losses, as functions (PyTorch's names and arguments), one family per file:

* :mod:`~ember.nn.functional.losses_regression`: mse, l1 (MAE), msle, mape, smooth L1, Huber;
* :mod:`~ember.nn.functional.losses_binary`: binary cross-entropy (on probabilities or
  logits), logistic, soft margin, hinge, exponential;
* :mod:`~ember.nn.functional.losses_cross_entropy`: nll_loss and cross_entropy (weights,
  ignore_index, label smoothing, probability targets, per-pixel inputs);
* :mod:`~ember.nn.functional.losses_multiclass`: multi_margin_loss, kl_div;
* :mod:`~ember.nn.functional.losses_imbalanced`: focal, sigmoid focal, Dice.

Shared conventions (:mod:`~ember.nn.functional.losses_common`): ``reduction`` is
``'mean'`` (default), ``'sum'`` or ``'none'``; a target whose shape does not match
the input's is an error naming the loss and both shapes.
"""

from ember.nn.functional import (
    losses_binary,
    losses_cross_entropy,
    losses_imbalanced,
    losses_multiclass,
    losses_regression,
)
from ember.nn.functional.losses_binary import *  # noqa: F403
from ember.nn.functional.losses_cross_entropy import *  # noqa: F403
from ember.nn.functional.losses_imbalanced import *  # noqa: F403
from ember.nn.functional.losses_multiclass import *  # noqa: F403
from ember.nn.functional.losses_regression import *  # noqa: F403

__all__ = [
    *losses_regression.__all__,
    *losses_binary.__all__,
    *losses_cross_entropy.__all__,
    *losses_multiclass.__all__,
    *losses_imbalanced.__all__,
]
