"""Dropout worked by hand: the mask, the inverted-dropout scaling 1/(1 - p), and why the
expected activation does not change."""

from __future__ import annotations

import numpy as np

from ember.explain.registry import Explanation, option, register
from ember.explain.values import as_number, as_vector, number

__all__ = ["dropout"]


def _probability(text) -> float:
    p = as_number(text, "p")
    if not 0 <= p < 1:
        raise ValueError(f"p (the drop probability) must be in [0, 1), got {number(p)}")
    return p


@register("dropout", "inverted dropout: mask, scaling by 1/(1 - p), train against eval",
          option("--x", "x", as_vector, 'the activations, e.g. "1 2 3 4"'),
          option("--p", "p", _probability, "the probability of dropping a unit (default 0.5)",
                 default=0.5),
          option("--mask", "mask", as_vector, "which units are kept, 1 or 0 each (default: "
                 "drawn with seed 0)", default=None))
def dropout(x, p: float = 0.5, mask=None) -> Explanation:
    """Inverted dropout (as ``nn.Dropout`` and PyTorch): in training each unit is kept
    with probability ``1 - p`` and the kept ones are scaled up; in evaluation nothing
    changes:

    .. math::
        y_i = \\frac{m_i x_i}{1 - p}, \\; m_i \\sim \\text{Bernoulli}(1 - p)
        \\quad\\Rightarrow\\quad E[y_i] = \\frac{(1 - p) x_i}{1 - p} = x_i

    The original dropout (Srivastava et al., 2014) did not scale in training and
    multiplied the weights by ``1 - p`` at test time instead; inverted dropout moves the
    scaling to training so that the network runs unchanged at test time.

    Returns:
        the working; ``result`` is the training output y; ``mask``, ``scale``, ``eval``.

    >>> import ember as em
    >>> em.explain.dropout("1 2 3 4", 0.5, mask="1 0 1 1").result
    [2.0, 0.0, 6.0, 8.0]
    """
    x = as_vector(x, "x")
    p = _probability(p)
    if mask is None:
        mask = (np.random.default_rng(0).random(x.size) >= p).astype(np.float64)
        origin = "drawn with seed 0: each unit kept with probability 1 - p"
    else:
        mask = as_vector(mask, "mask")
        origin = "as given"
        if mask.size != x.size or not np.isin(mask, (0.0, 1.0)).all():
            raise ValueError(f"mask must be {x.size} values of 0 or 1")
    scale = 1 / (1 - p)
    y = [float(v * m * scale) for v, m in zip(x, mask, strict=True)]
    lines = [f"x = [{', '.join(number(v) for v in x)}], p = {number(p)}",
             f"mask m = [{', '.join(number(v) for v in mask)}] ({origin})",
             f"scale = 1 / (1 - p) = 1 / {number(1 - p)} = {number(scale)}", "",
             "Training: y_i = m_i x_i / (1 - p):"]
    lines += [f"  y_{i} = {number(m)}*{number(v)}*{number(scale)} = {number(out)}"
              for i, (v, m, out) in enumerate(zip(x, mask, y, strict=True))]
    lines += ["", f"Expectation: E[y_i] = (1 - p) * x_i * {number(scale)} = x_i: the next "
                  "layer sees activations of the same size on average",
              f"Evaluation: y = x = [{', '.join(number(v) for v in x)}] (no mask, no "
              "scaling)",
              f"(Original dropout: no scaling in training; at test time y = (1 - p) x = "
              f"[{', '.join(number((1 - p) * v) for v in x)}])"]
    return Explanation("Inverted dropout", lines, y, mask=[float(m) for m in mask],
                       scale=scale, eval=[float(v) for v in x], p=p)
