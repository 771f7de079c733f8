"""Classification metrics, defined as scikit-learn's.

Inputs are ember Tensors, NumPy arrays or lists. Predictions are class indices (N,) or
scores (N, C) -- logits or probabilities -- which are argmax-ed. The order is
scikit-learn's: ``(target, pred)``. For a class c, with TP, FP, FN counted over the
samples (TP: predicted c and truly c; FP: predicted c, truly not; FN: truly c, not
predicted c):

    precision = TP / (TP + FP)      recall = TP / (TP + FN)
    F1 = 2 precision recall / (precision + recall) = 2 TP / (2 TP + FP + FN)

``average`` combines the per-class values: None (one per class), ``"macro"`` (their
plain mean), ``"weighted"`` (mean weighted by each class's support, its number of true
samples), ``"micro"`` (the formula on TP, FP, FN summed over classes; for single-label
classification, micro precision = recall = F1 = accuracy). A ratio whose denominator is
0 is ``zero_division``: ``"warn"`` (0, with an UndefinedMetricWarning), 0.0, 1.0 or
``np.nan`` (then left out of averages).

Classes are ``range(num_classes)`` when given, else the sorted labels present in
``target`` or ``pred`` (as scikit-learn without ``labels``).

>>> target = [0, 1, 2, 2, 1]
>>> logits = [[2.0, 0.1, 0.3], [0.2, 1.5, 0.1], [0.1, 0.2, 3.0], [1.0, 0.1, 0.2],
...           [0.3, 0.9, 0.1]]
>>> accuracy(target, logits)
0.8
>>> precision(target, logits)
array([0.5, 1. , 1. ])
>>> recall(target, logits, average="macro")
0.8333333333333334
>>> confusion_matrix(target, logits)
array([[1, 0, 0],
       [0, 2, 0],
       [1, 0, 1]])
"""

from __future__ import annotations

import warnings

import numpy as np

from ember.tensor import Tensor

AVERAGES = (None, "micro", "macro", "weighted")


class UndefinedMetricWarning(UserWarning):
    """A metric's denominator was 0 and ``zero_division="warn"`` set it to 0."""


def _array(x, name: str) -> np.ndarray:
    if isinstance(x, Tensor):
        return x.detach().numpy()
    array = np.asarray(x)
    if array.dtype == object:
        raise TypeError(f"{name}: expects a tensor, an array or a list of numbers")
    return array


def _classes(x, name: str) -> np.ndarray:
    """Class indices (N,) from indices or from scores (N, C) (argmax)."""
    x = _array(x, name)
    if x.ndim == 2:
        return x.argmax(axis=1)
    if x.ndim != 1:
        raise ValueError(f"{name}: expects class indices (N,) or scores (N, C), got shape "
                         f"{x.shape}")
    if x.dtype.kind == "f":
        if not np.all(np.isfinite(x)) or np.any(x != np.round(x)):
            raise ValueError(f"{name}: expects integer class indices (N,) or scores (N, C); "
                             "got non-integer values of shape (N,)")
    elif x.dtype.kind not in "iub":
        raise TypeError(f"{name}: expects integer class indices, got dtype {x.dtype}")
    return x.astype(np.int64)


def _pair(target, pred, op: str) -> tuple[np.ndarray, np.ndarray]:
    """(target, pred) as class-index arrays of one length; target must be indices."""
    t = _array(target, f"{op}: target")
    if t.ndim != 1:
        raise ValueError(f"{op}: target must be class indices of shape (N,), got shape "
                         f"{t.shape}; pass {op}(target, pred), in scikit-learn's order")
    t, p = _classes(t, f"{op}: target"), _classes(pred, f"{op}: pred")
    if len(t) != len(p):
        raise ValueError(f"{op}: target has {len(t)} samples but pred has {len(p)}")
    if len(t) == 0:
        raise ValueError(f"{op}: no samples")
    return t, p


def _labels(target, pred, num_classes, op: str) -> np.ndarray:
    if num_classes is None:
        return np.union1d(target, pred)
    if np.any(target < 0) or np.any(pred < 0) or max(target.max(), pred.max()) >= num_classes:
        raise ValueError(f"{op}: labels must lie in 0..{num_classes - 1} for "
                         f"num_classes={num_classes}, got values from "
                         f"{min(target.min(), pred.min())} to {max(target.max(), pred.max())}")
    return np.arange(num_classes)


def accuracy(target, pred) -> float:
    """The fraction of correct predictions: accuracy = (1/N) sum_i [pred_i == target_i].

    Either argument may be scores (N, C), which are argmax-ed; the two play the same
    role, so ``accuracy(pred, target)`` gives the same value.

    >>> accuracy([1, 0, 1, 1], [1, 1, 1, 0])
    0.5
    """
    a = _array(target, "accuracy: target")
    if a.ndim == 2:  # scores first: symmetric, so just swap
        target, pred = pred, target
    t, p = _pair(target, pred, "accuracy")
    return float(np.mean(t == p))


def top_k_accuracy(scores, target, k: int = 5) -> float:
    """The fraction of samples whose true class is among the k highest scores.

    Ties are broken as scikit-learn's ``top_k_accuracy_score`` (the higher class index
    ranks first). k >= C gives 1.0 with an UndefinedMetricWarning.

    Args:
        scores: (N, C) logits or probabilities.
        target: (N,) class indices.
        k: how many of the top classes count as a hit.

    >>> top_k_accuracy([[0.5, 0.3, 0.2], [0.1, 0.3, 0.6]], [1, 0], k=2)
    0.5
    """
    s = _array(scores, "top_k_accuracy: scores")
    t = _array(target, "top_k_accuracy: target")
    if s.ndim != 2:
        hint = "; did you pass the target first?" if t.ndim == 2 else ""
        raise ValueError(f"top_k_accuracy: scores must have shape (N, C), got {s.shape}{hint}")
    t = _classes(t, "top_k_accuracy: target")
    if t.ndim != 1 or len(t) != len(s):
        raise ValueError(f"top_k_accuracy: target must have shape ({len(s)},), got {t.shape}")
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise ValueError(f"top_k_accuracy: k must be a positive int, got {k!r}")
    if len(t) == 0:
        raise ValueError("top_k_accuracy: no samples")
    classes = s.shape[1]
    if t.min() < 0 or t.max() >= classes:
        raise ValueError(f"top_k_accuracy: target labels must lie in 0..{classes - 1} for "
                         f"scores with {classes} columns")
    if k >= classes:
        warnings.warn(f"'k' ({k}) greater than or equal to 'n_classes' ({classes}) will "
                      "result in a perfect score and is therefore meaningless.",
                      UndefinedMetricWarning, stacklevel=2)
    ranked = np.argsort(s, axis=1, kind="mergesort")[:, ::-1][:, :k]
    return float(np.mean((ranked == t[:, None]).any(axis=1)))


def confusion_matrix(target, pred, num_classes: int | None = None,
                     normalize: str | None = None) -> np.ndarray:
    """C[i, j] = the number of samples of true class i predicted as class j.

    Rows are true classes, columns predicted ones, as scikit-learn.

    Args:
        target, pred: class indices (pred may be scores (N, C)).
        num_classes: C (default: the labels present, sorted).
        normalize: None (counts), ``"true"`` (rows sum to 1), ``"pred"`` (columns sum to
            1) or ``"all"`` (the matrix sums to 1).
    """
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"confusion_matrix: normalize must be None, 'true', 'pred' or "
                         f"'all', got {normalize!r}")
    t, p = _pair(target, pred, "confusion_matrix")
    labels = _labels(t, p, num_classes, "confusion_matrix")
    return _confusion(t, p, labels, normalize)


def _confusion(t, p, labels, normalize=None) -> np.ndarray:
    n = len(labels)
    rows, cols = np.searchsorted(labels, t), np.searchsorted(labels, p)
    counts = np.bincount(rows * n + cols, minlength=n * n).reshape(n, n).astype(np.int64)
    if normalize is None:
        return counts
    with np.errstate(all="ignore"):
        if normalize == "true":
            out = counts / counts.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            out = counts / counts.sum(axis=0, keepdims=True)
        else:
            out = counts / counts.sum()
    return np.nan_to_num(out)


def precision_recall_fscore_support(target, pred, average: str | None = None,
                                    num_classes: int | None = None, zero_division="warn",
                                    warn_for=("precision", "recall", "f-score")):
    """(precision, recall, F1, support), as scikit-learn's function of the same name
    (support, the number of true samples per class, is None when averaged)."""
    return _prfs(target, pred, average, num_classes, zero_division, warn_for,
                 "precision_recall_fscore_support")


def _prfs(target, pred, average, num_classes, zero_division, warn_for, op: str):
    if average not in AVERAGES:
        raise ValueError(f"{op}: average must be one of {AVERAGES}, got {average!r}")
    if not (zero_division == "warn" or zero_division in (0, 1)
            or (isinstance(zero_division, float) and np.isnan(zero_division))):
        raise ValueError(f"{op}: zero_division must be 'warn', 0.0, 1.0 or np.nan, got "
                         f"{zero_division!r}")
    t, p = _pair(target, pred, op)
    labels = _labels(t, p, num_classes, op)
    counts = _confusion(t, p, labels)
    tp = np.diag(counts).astype(np.float64)
    pred_sum = counts.sum(axis=0).astype(np.float64)
    true_sum = counts.sum(axis=1).astype(np.float64)
    support = true_sum.astype(np.int64)
    if average == "micro":
        tp, pred_sum, true_sum = tp.sum(keepdims=True), pred_sum.sum(keepdims=True), \
            true_sum.sum(keepdims=True)
    division = (average, warn_for, zero_division)
    precision_ = _divide(tp, pred_sum, "precision", "predicted", *division)
    recall_ = _divide(tp, true_sum, "recall", "true", *division)
    f_score = _divide(2 * tp, true_sum + pred_sum, "f-score", "true nor predicted", *division)
    if average is None:
        return precision_, recall_, f_score, support
    weights = true_sum if average == "weighted" else None
    return (_nanaverage(precision_, weights), _nanaverage(recall_, weights),
            _nanaverage(f_score, weights), None)


def precision(target, pred, average: str | None = None, num_classes: int | None = None,
              zero_division="warn"):
    """Precision = TP / (TP + FP): of the samples predicted as a class, the share that
    truly are. Per class (``average=None``) or averaged; see the module docs."""
    return _prfs(target, pred, average, num_classes, zero_division, ("precision",), "precision")[0]


def recall(target, pred, average: str | None = None, num_classes: int | None = None,
           zero_division="warn"):
    """Recall = TP / (TP + FN): of the samples of a class, the share predicted as it.
    Per class (``average=None``) or averaged; see the module docs."""
    return _prfs(target, pred, average, num_classes, zero_division, ("recall",), "recall")[1]


def f1_score(target, pred, average: str | None = None, num_classes: int | None = None,
             zero_division="warn"):
    """F1 = 2 TP / (2 TP + FP + FN), the harmonic mean of precision and recall.
    Per class (``average=None``) or averaged; see the module docs.

    >>> f1_score([0, 1, 1, 1], [0, 1, 0, 1], average="macro")
    0.7333333333333334
    """
    return _prfs(target, pred, average, num_classes, zero_division, ("f-score",), "f1_score")[2]


def _divide(numerator, denominator, metric, modifier, average, warn_for, zero_division):
    """numerator / denominator, with ``zero_division`` where the denominator is 0."""
    zero = denominator == 0
    result = numerator / np.where(zero, 1.0, denominator)
    if not zero.any():
        return result
    result[zero] = 0.0 if zero_division == "warn" else float(zero_division)
    if zero_division == "warn" and metric in warn_for:
        where = "due to" if result.shape[0] == 1 else "in labels with"
        warnings.warn(f"{metric.capitalize()} is ill-defined and being set to 0.0 {where} no "
                      f"{modifier} samples. Use `zero_division` parameter to control this "
                      "behavior.", UndefinedMetricWarning, stacklevel=4)
    return result


def _nanaverage(values: np.ndarray, weights) -> float:
    """The (weighted) mean ignoring NaNs; equal weights if all weights are 0."""
    keep = ~np.isnan(values)
    if not keep.any():
        return float("nan")
    if weights is None or weights[keep].sum() == 0:
        return float(values[keep].mean())
    return float(np.average(values[keep], weights=weights[keep]))
