"""Classification metrics (scikit-learn's definitions) on ember tensors, arrays or lists.

>>> import ember as em
>>> logits = em.tensor([[2.0, 0.5], [0.1, 0.3], [1.0, 0.0]])
>>> em.metrics.accuracy(em.tensor([0, 1, 1]), logits)
0.6666666666666666
"""

from ember.metrics.classification import (
    UndefinedMetricWarning,
    accuracy,
    confusion_matrix,
    f1_score,
    precision,
    precision_recall_fscore_support,
    recall,
    top_k_accuracy,
)
from ember.metrics.detection_plots import plot_precision_recall
from ember.metrics.mean_ap import MeanAveragePrecision
from ember.metrics.report import classification_report
from ember.metrics.voc import average_precision, precision_recall_curves, voc_mean_average_precision

__all__ = [
    "UndefinedMetricWarning", "accuracy", "classification_report", "confusion_matrix",
    "f1_score", "precision", "precision_recall_fscore_support", "recall", "top_k_accuracy",
]
__all__ += ["MeanAveragePrecision", "average_precision", "precision_recall_curves",
            "voc_mean_average_precision", "plot_precision_recall"]
