"""Loss modules, with PyTorch's names: ``loss = nn.CrossEntropyLoss()(logits, target)``.

Each is a thin Module around one function of :mod:`ember.nn.functional` (the math lives
there), holding its settings (``reduction``, class weights as buffers):

* regression: MSELoss, L1Loss, MSLELoss, MAPELoss, SmoothL1Loss, HuberLoss;
* classification: BCELoss, BCEWithLogitsLoss, LogisticLoss, SoftMarginLoss, HingeLoss,
  ExponentialLoss, NLLLoss, CrossEntropyLoss, MultiMarginLoss, KLDivLoss;
* imbalanced classes and hard examples: FocalLoss, DiceLoss.
"""

from ember.nn.layers import losses_classification, losses_imbalanced, losses_regression
from ember.nn.layers.losses_classification import *  # noqa: F403
from ember.nn.layers.losses_imbalanced import *  # noqa: F403
from ember.nn.layers.losses_regression import *  # noqa: F403

__all__ = [
    *losses_regression.__all__,
    *losses_classification.__all__,
    *losses_imbalanced.__all__,
]
