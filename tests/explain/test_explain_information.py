"""ember explain entropy: the numbers against em.special (itself checked against PyTorch)
and the identity H(p, q) = H(p) + KL(p || q)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember as em
from ember.cli import main


@pytest.mark.parametrize("base", [2.0, math.e, 10.0])
def test_numbers_match_em_special(base):
    rng = np.random.default_rng(int(base * 10))
    p, q = rng.random(6), rng.random(6)
    p[2] = 0.0
    p, q = p / p.sum(), q / q.sum()
    e = em.explain.information_measures(p, q, base=base)
    b = None if base == math.e else base
    assert e.entropy == pytest.approx(em.special.entropy(p, base=b).item(), rel=1e-12)
    assert e.cross_entropy == pytest.approx(em.special.cross_entropy(p, q, base=b).item(),
                                            rel=1e-12)
    assert e.kl == pytest.approx(em.special.kl_div(p, q, base=b).item(), rel=1e-10)
    assert e.cross_entropy == pytest.approx(e.entropy + e.kl, rel=1e-12)
    assert e.information[2] == math.inf and e.result == (e.entropy, e.cross_entropy, e.kl)


def test_default_q_is_uniform_and_bad_input_is_refused():
    e = em.explain.information_measures([0.25] * 4)
    assert e.entropy == 2.0 and e.kl == 0.0  # uniform: the most uncertain, q = p
    with pytest.raises(ValueError, match="sum to 1"):
        em.explain.information_measures([0.5, 0.4])
    with pytest.raises(ValueError, match="as many outcomes"):
        em.explain.information_measures([0.5, 0.5], [1.0])
    with pytest.raises(ValueError, match="infinite"):
        em.explain.information_measures([0.5, 0.5], [1.0, 0.0])


def test_the_command_line(capsys):
    assert main(["explain", "entropy", "--p", "0.5 0.25 0.25", "--q", "0.25 0.5 0.25"]) == 0
    out = capsys.readouterr().out
    assert "= 1.5 bits" in out and "= 1.75 bits" in out and "= 0.25 bits" in out
    assert "H(p) + KL(p || q) = 1.5 + 0.25 = 1.75 = H(p, q)" in out
