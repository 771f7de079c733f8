"""The output layer of a classifier worked by hand: softmax, cross-entropy and its
gradient p - y; and the metrics of a confusion matrix."""

from __future__ import annotations

import math

import numpy as np

from ember.explain.registry import Explanation, option, register
from ember.explain.values import as_int, as_matrix, as_vector, number

__all__ = ["softmax_cross_entropy", "confusion_metrics"]


@register("softmax-ce", "softmax, cross-entropy and its gradient p - y for given logits",
          option("--logits", "logits", as_vector, 'the scores z, e.g. "2 1 0.1"'),
          option("--target", "target", lambda t: as_int(t, "target", minimum=0),
                 "the true class index y (from 0)"))
def softmax_cross_entropy(logits, target: int) -> Explanation:
    """Softmax, the cross-entropy loss and its gradient with respect to the logits:

    .. math::
        p_i = \\frac{e^{z_i - m}}{\\sum_j e^{z_j - m}} \\;(m = \\max_j z_j), \\qquad
        L = -\\log p_y, \\qquad \\frac{\\partial L}{\\partial z_i} = p_i - [i = y]

    Subtracting the maximum changes nothing (it cancels) but keeps every exponential at
    most 1, so large logits cannot overflow. The gradient is the predicted distribution
    minus the one-hot target: it pushes the true class's score up and every other one
    down, in proportion to the probability the model gave it.

    Returns:
        the working; ``result`` is ``(p, L, dL/dz)``; also ``probabilities``, ``loss``,
        ``gradient``.

    >>> import ember as em
    >>> e = em.explain.softmax_cross_entropy("2 1 0.1", 0)
    >>> round(e.loss, 4), [round(g, 4) for g in e.gradient]
    (0.417, [-0.341, 0.2424, 0.0986])
    """
    z = as_vector(logits, "logits")
    y = as_int(target, "target", minimum=0)
    if y >= z.size:
        raise ValueError(f"target {y} is not a class of {z.size} logits (0 to {z.size - 1})")
    m = float(z.max())
    exps = [math.exp(v - m) for v in z]
    total = sum(exps)
    p = [e / total for e in exps]
    loss = m + math.log(total) - float(z[y])  # -log p_y, without forming a tiny p_y
    gradient = [pi - (1.0 if i == y else 0.0) for i, pi in enumerate(p)]
    lines = [f"z = [{', '.join(number(v) for v in z)}], true class y = {y}", "",
             f"Softmax (m = max z = {number(m)}, subtracted for stability):"]
    lines += [f"  e^(z_{i} - m) = e^({number(v - m)}) = {number(e)}"
              for i, (v, e) in enumerate(zip(z, exps, strict=True))]
    lines.append(f"  sum = {' + '.join(number(e) for e in exps)} = {number(total)}")
    lines += [f"  p_{i} = {number(e)} / {number(total)} = {number(pi)}"
              for i, (e, pi) in enumerate(zip(exps, p, strict=True))]
    lines += ["", "Cross-entropy L = -log p_y = m + ln(sum) - z_y:",
              f"  L = -ln({number(p[y])}) = {number(m)} + ln({number(total)}) - "
              f"{number(z[y])} = {number(loss)}", "",
              "Gradient dL/dz_i = p_i - y_i (y one-hot):"]
    lines += [f"  dL/dz_{i} = {number(pi)} - {1 if i == y else 0} = {number(g)}"
              for i, (pi, g) in enumerate(zip(p, gradient, strict=True))]
    lines.append("  (the components sum to 0: the scores move against each other)")
    return Explanation("Softmax and cross-entropy", lines, (p, loss, gradient),
                       probabilities=p, loss=loss, gradient=gradient)


def _counts(matrix: np.ndarray, k: int) -> tuple[int, int, int, int]:
    tp = int(matrix[k, k])
    fn = int(matrix[k].sum() - tp)
    fp = int(matrix[:, k].sum() - tp)
    tn = int(matrix.sum() - tp - fn - fp)
    return tp, fp, fn, tn


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


@register("metrics", "precision, recall, F1, specificity and accuracy from a confusion "
                     "matrix",
          option("--matrix", "matrix", as_matrix, 'counts, rows: true class, columns: '
                 'predicted, e.g. "50 10; 5 35"'),
          option("--positive", "positive", lambda t: as_int(t, "positive", minimum=0),
                 "the positive class of a 2x2 matrix (default 1)", default=1))
def confusion_metrics(matrix, positive: int = 1) -> Explanation:
    """The metrics of a confusion matrix ``C`` (rows: true class, columns: predicted, as
    ``em.metrics.confusion_matrix`` and scikit-learn), for each class against the rest:

    .. math::
        \\text{precision} = \\frac{TP}{TP + FP}, \\quad
        \\text{recall} = \\frac{TP}{TP + FN}, \\quad
        F_1 = \\frac{2 P R}{P + R}, \\quad
        \\text{specificity} = \\frac{TN}{TN + FP}, \\quad
        \\text{accuracy} = \\frac{\\sum_k C_{kk}}{\\sum C}

    (a 0/0 ratio is reported as 0). A 2x2 matrix is worked for its ``positive`` class; a
    larger one for every class, then the macro average (the plain mean over classes).

    Returns:
        the working; ``result`` is the accuracy; ``per_class`` maps each class to its
        precision, recall, f1, specificity and tp/fp/fn/tn; ``macro`` the averages.

    >>> import ember as em
    >>> e = em.explain.confusion_metrics("50 10; 5 35")
    >>> round(e.per_class[1]["precision"], 4), round(e.per_class[1]["recall"], 4)
    (0.7778, 0.875)
    """
    c = as_matrix(matrix, "matrix")
    if c.shape[0] != c.shape[1] or c.shape[0] < 2:
        raise ValueError(f"matrix must be square, at least 2x2 (classes x classes), got "
                         f"{c.shape[0]}x{c.shape[1]}")
    if (c < 0).any() or not np.array_equal(c, np.round(c)):
        raise ValueError("matrix must hold counts: whole numbers, 0 or more")
    k_classes = c.shape[0]
    classes = [as_int(positive, "positive", minimum=0)] if k_classes == 2 else \
        list(range(k_classes))
    if classes[0] >= k_classes:
        raise ValueError(f"positive class {classes[0]} is not 0 or 1")
    total = int(c.sum())
    accuracy = _ratio(float(np.trace(c)), total)
    lines = ["C (rows: true class, columns: predicted):"]
    lines += ["  " + "  ".join(f"{int(v):>5}" for v in row) for row in c]
    per_class = {}
    for k in classes:
        tp, fp, fn, tn = _counts(c, k)
        precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        f1 = _ratio(2 * precision * recall, precision + recall)
        specificity = _ratio(tn, tn + fp)
        per_class[k] = {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": precision,
                        "recall": recall, "f1": f1, "specificity": specificity}
        lines += ["", f"Class {k} as positive: TP = C[{k},{k}] = {tp}, FN = row {k} less TP "
                      f"= {fn}, FP = column {k} less TP = {fp}, TN = the rest = {tn}",
                  f"  precision   = TP / (TP + FP) = {tp} / {tp + fp} = {number(precision)}",
                  f"  recall      = TP / (TP + FN) = {tp} / {tp + fn} = {number(recall)}",
                  f"  F1          = 2PR / (P + R) = 2*{number(precision)}*{number(recall)} / "
                  f"({number(precision)} + {number(recall)}) = {number(f1)}",
                  f"  specificity = TN / (TN + FP) = {tn} / {tn + fp} = {number(specificity)}"]
    macro = None
    if len(classes) > 1:
        macro = {key: float(np.mean([per_class[k][key] for k in classes]))
                 for key in ("precision", "recall", "f1", "specificity")}
        lines += ["", "Macro averages (mean over classes): " + ", ".join(
            f"{key} {number(value)}" for key, value in macro.items())]
    lines += ["", f"accuracy = trace(C) / sum(C) = {int(np.trace(c))} / {total} = "
                  f"{number(accuracy)}"]
    return Explanation("Metrics of a confusion matrix", lines, accuracy,
                       accuracy=accuracy, per_class=per_class, macro=macro)
