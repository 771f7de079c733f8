"""Information measures of discrete distributions, in nats (``base=None``) or any base.

.. math::
    I(x) = -\\log p(x), \\qquad H(p) = -\\sum_i p_i \\log p_i,

    H(p, q) = -\\sum_i p_i \\log q_i, \\qquad
    D_{KL}(p \\| q) = \\sum_i p_i \\log \\frac{p_i}{q_i} = H(p, q) - H(p)

with the convention :math:`0 \\log 0 = 0` (a term with :math:`p_i = 0` contributes
nothing, whatever :math:`q_i`). Cross-entropy is entropy plus the extra cost of coding
p with a code built for q; the identity :math:`H(p, q) = H(p) + D_{KL}(p \\| q)` holds
term by term. All are composed of ember's primitives, so they have gradients.
"""

from __future__ import annotations

import math

from ember.ops import information as ops
from ember.tensor import Tensor

__all__ = ["entr", "xlogy", "information", "entropy", "cross_entropy", "kl_div"]


def _tensor(x) -> Tensor:
    from ember.creation import tensor

    return x if isinstance(x, Tensor) else tensor(x)


def _scale(value: Tensor, base) -> Tensor:
    return value if base is None else value / math.log(base)


def xlogy(x, y) -> Tensor:
    """:math:`x \\log y`, and 0 where x = 0 (even where y = 0), as ``torch.special.xlogy``.

    >>> import ember as em
    >>> em.special.xlogy(em.tensor([0.0, 2.0]), em.tensor([0.0, 1.0])).tolist()
    [0.0, 0.0]
    """
    return ops.xlogy(_tensor(x), _tensor(y))


def entr(x) -> Tensor:
    """:math:`-x \\log x` elementwise (0 at 0, -inf below 0), as ``torch.special.entr``;
    its derivative :math:`-(\\log x + 1)` is +inf at 0."""
    return ops.entr(_tensor(x))


def information(p, base: float | None = None) -> Tensor:
    """Self-information (surprisal) of outcomes of probability p: :math:`-\\log_b p`.

    >>> import ember as em
    >>> em.special.information(em.tensor([0.5, 0.125]), base=2).tolist()
    [1.0, 3.0]
    """
    return _scale(-_tensor(p).log(), base)


def entropy(p, dim: int = -1, base: float | None = None) -> Tensor:
    """Entropy :math:`H(p) = -\\sum_i p_i \\log p_i` of distributions along ``dim``.

    Args:
        p: probabilities (each slice along ``dim`` sums to 1).
        dim: the dimension that holds the outcomes.
        base: the logarithm's base (2: bits; None: nats).
    """
    return _scale(entr(p).sum(dim=dim), base)


def cross_entropy(p, q, dim: int = -1, base: float | None = None) -> Tensor:
    """Cross-entropy :math:`H(p, q) = -\\sum_i p_i \\log q_i` of two distributions
    (not ``F.cross_entropy``, which takes logits and class labels)."""
    return _scale(-xlogy(p, q).sum(dim=dim), base)


def kl_div(p, q, dim: int = -1, base: float | None = None) -> Tensor:
    """Kullback-Leibler divergence :math:`D_{KL}(p \\| q) = \\sum_i p_i \\log(p_i / q_i)`
    (not ``F.kl_div``, which takes log-probabilities first).

    >>> import ember as em
    >>> p, q = em.tensor([0.5, 0.5]), em.tensor([0.25, 0.75])
    >>> round(em.special.kl_div(p, q, base=2).item(), 4)
    0.2075
    """
    p, q = _tensor(p), _tensor(q)
    return _scale((xlogy(p, p) - xlogy(p, q)).sum(dim=dim), base)
