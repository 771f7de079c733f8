"""A text (or dict) report of per-class precision, recall, F1 and support, laid out as
scikit-learn's ``classification_report``.

>>> print(classification_report([0, 1, 1, 2], [0, 1, 0, 2], class_names=["a", "b", "c"],
...                             digits=2))
              precision    recall  f1-score   support
<BLANKLINE>
           a       0.50      1.00      0.67         1
           b       1.00      0.50      0.67         2
           c       1.00      1.00      1.00         1
<BLANKLINE>
    accuracy                           0.75         4
   macro avg       0.83      0.83      0.78         4
weighted avg       0.88      0.75      0.75         4
<BLANKLINE>
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ember.metrics.classification import _labels, _pair, precision_recall_fscore_support

HEADERS = ("precision", "recall", "f1-score", "support")


def classification_report(target, pred, class_names: Sequence[str] | None = None,
                          digits: int = 4, output_dict: bool = False, zero_division="warn",
                          num_classes: int | None = None):
    """Precision, recall, F1 and support per class, then accuracy and the macro and
    support-weighted averages (formulas in :mod:`ember.metrics.classification`).

    Args:
        target, pred: class indices (pred may be scores (N, C), argmax-ed).
        class_names: the names of classes 0..C-1 (e.g. ``dataset.classes``); they set
            C. Default: the labels present, named by their numbers.
        digits: decimals shown.
        output_dict: return ``{name: {"precision": ..., "recall": ..., "f1-score": ...,
            "support": ...}, "accuracy": float, "macro avg": {...}, "weighted avg":
            {...}}`` instead of text.
        zero_division: as :func:`precision`.
        num_classes: C, when there are no names.
    """
    if class_names is not None:
        class_names = [str(name) for name in class_names]
        if num_classes is not None and num_classes != len(class_names):
            raise ValueError(f"classification_report: {len(class_names)} class_names but "
                             f"num_classes={num_classes}")
        num_classes = len(class_names)
    t, p = _pair(target, pred, "classification_report")
    labels = _labels(t, p, num_classes, "classification_report")
    names = class_names or [str(label) for label in labels]
    per_class = precision_recall_fscore_support(t, p, None, num_classes, zero_division)
    support = per_class[3]
    rows = [(name, *values) for name, *values in zip(names, *per_class, strict=True)]
    averages = {}
    for average, heading in (("micro", "accuracy"), ("macro", "macro avg"),
                             ("weighted", "weighted avg")):
        scores = precision_recall_fscore_support(t, p, average, num_classes, zero_division)
        averages[heading] = (*scores[:3], int(np.sum(support)))
    if output_dict:
        report = {name: dict(zip(HEADERS, (float(v) for v in values), strict=True))
                  for name, *values in rows}
        for heading, values in averages.items():
            report[heading] = dict(zip(HEADERS, (float(v) for v in values), strict=True))
        report["accuracy"] = report["accuracy"]["precision"]
        return report
    width = max(max(len(name) for name in names), len("weighted avg"), digits)
    text = f"{'':>{width}s} " + "".join(f" {h:>9}" for h in HEADERS) + "\n\n"
    line = "{:>{width}s} " + " {:>9.{digits}f}" * 3 + " {:>9}\n"
    for row in rows:
        text += line.format(*row, width=width, digits=digits)
    text += "\n"
    for heading, values in averages.items():
        if heading == "accuracy":
            text += (f"{heading:>{width}s} " + f" {'':>9}" * 2
                     + f" {values[2]:>9.{digits}f} {values[3]:>9}\n")
        else:
            text += line.format(heading, *values, width=width, digits=digits)
    return text
