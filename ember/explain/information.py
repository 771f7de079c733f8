"""Entropy, cross-entropy and KL divergence of two distributions, term by term, and the
identity that ties them: H(p, q) = H(p) + KL(p || q)."""

from __future__ import annotations

import math

import numpy as np

from ember.explain.registry import Explanation, option, register
from ember.explain.values import as_number, as_vector, number

__all__ = ["information_measures"]


def _distribution(value, name: str) -> np.ndarray:
    p = as_vector(value, name)
    if (p < 0).any() or abs(p.sum() - 1) > 1e-6:
        raise ValueError(f"{name} must be probabilities (0 or more) that sum to 1; they sum "
                         f"to {number(p.sum(), 6)}")
    return p


def _base(value) -> float:
    base = as_number(value, "base")
    if base <= 0 or base == 1:
        raise ValueError(f"base must be positive and not 1, got {number(base)}")
    return base


@register("entropy", "entropy, cross-entropy and KL divergence, and H(p,q) = H(p) + KL(p||q)",
          option("--p", "p", as_vector, 'the true distribution, e.g. "0.5 0.25 0.25"'),
          option("--q", "q", as_vector, "the model's distribution (default uniform)",
                 default=None),
          option("--base", "base", _base, "the logarithm's base: 2 for bits (default), "
                 "2.718281828 for nats", default=2.0))
def information_measures(p, q=None, base: float = 2.0) -> Explanation:
    """Self-information, entropy, cross-entropy and Kullback-Leibler divergence:

    .. math::
        I(x_i) = -\\log p_i, \\quad H(p) = \\sum_i p_i I(x_i), \\quad
        H(p, q) = -\\sum_i p_i \\log q_i, \\quad
        D_{KL}(p \\| q) = \\sum_i p_i \\log \\frac{p_i}{q_i} = H(p, q) - H(p)

    Entropy is the average surprise of outcomes drawn from p; cross-entropy the average
    cost of coding them with a code built for q; KL divergence the extra cost, never
    negative and zero only when q = p. (Minimising a classifier's cross-entropy loss
    minimises KL(data || model): H(p) does not depend on the model.)

    Args:
        p: the true distribution.
        q: the other distribution (default uniform).
        base: the logarithm's base (2: bits).

    Returns:
        the working; ``result`` is ``(H(p), H(p, q), KL(p || q))``; also ``entropy``,
        ``cross_entropy``, ``kl``, ``information`` (per outcome).

    >>> import ember as em
    >>> e = em.explain.information_measures("0.5 0.25 0.25", "0.25 0.5 0.25")
    >>> [round(v, 6) for v in (e.entropy, e.cross_entropy, e.kl)]
    [1.5, 1.75, 0.25]
    """
    p = _distribution(p, "p")
    q = np.full_like(p, 1 / p.size) if q is None else _distribution(q, "q")
    if q.size != p.size:
        raise ValueError(f"p and q must have as many outcomes; p has {p.size}, q {q.size}")
    if any(v > 0 and w == 0 for v, w in zip(p, q, strict=True)):
        raise ValueError("q gives probability 0 to an outcome p allows: H(p, q) and "
                         "KL(p || q) are infinite")
    unit = {2.0: "bits", math.e: "nats", 10.0: "bans"}.get(base, f"base-{number(base)} units")
    log = f"log{number(base)}" if base != math.e else "ln"

    def lg(x: float) -> float:
        return math.log(x) / math.log(base) if x > 0 else -math.inf

    p, q = [float(v) for v in p], [float(v) for v in q]
    information = [-lg(v) for v in p]
    h = sum(v * i for v, i in zip(p, information, strict=True) if v > 0)
    cross = -sum(v * lg(w) for v, w in zip(p, q, strict=True) if v > 0)
    kl = cross - h
    lines = [f"p = [{', '.join(number(v) for v in p)}],  q = [{', '.join(number(v) for v in q)}]"
             f"  (logarithms base {number(base, 6)}: {unit}; 0 log 0 = 0)", "",
             "Self-information I(x_i) = -log p_i:"]
    lines += [f"  I(x_{i + 1}) = -{log}({number(v)}) = {number(inf)}"
              for i, (v, inf) in enumerate(zip(p, information, strict=True))]
    lines += ["", "Entropy H(p) = sum_i p_i I(x_i):",
              "  = " + " + ".join(f"{number(v)}*{number(inf)}" for v, inf in
                                  zip(p, information, strict=True) if v > 0),
              f"  = {number(h)} {unit}", "",
              "Cross-entropy H(p, q) = -sum_i p_i log q_i:",
              "  = " + " + ".join(f"{number(v)}*{number(-lg(w))}" for v, w in
                                  zip(p, q, strict=True) if v > 0),
              f"  = {number(cross)} {unit}", "",
              "KL divergence KL(p || q) = sum_i p_i log(p_i / q_i):",
              "  = " + " + ".join(f"{number(v)}*{log}({number(v)}/{number(w)})" for v, w in
                                  zip(p, q, strict=True) if v > 0),
              f"  = {number(kl)} {unit}", "",
              f"Check: H(p) + KL(p || q) = {number(h)} + {number(kl)} = {number(h + kl)} = "
              f"H(p, q)"]
    return Explanation("Entropy, cross-entropy and KL divergence", lines, (h, cross, kl),
                       entropy=h, cross_entropy=cross, kl=kl, information=information)
