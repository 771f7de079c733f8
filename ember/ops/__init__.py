"""The primitives: each op's forward and vector-Jacobian product, side by side.

``arithmetic`` (+ - * / ** @), ``elementwise`` (exp, log, activations, where),
``reduction`` (sum, mean, var, max, softmax), ``shape`` (reshape, indexing, cat, pad)
and ``compare`` (comparisons and logic, no gradient).
"""
