"""Step and the perceptron: Rosenblatt's rule by hand, Novikoff's bound, XOR's cycle."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember import nn

GATE_INPUTS = em.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


def test_step_is_heaviside_at_the_threshold():
    torch = pytest.importorskip("torch")
    x = np.array([-2.0, -0.0, 0.0, 0.5, 3.0])
    expected = torch.heaviside(torch.tensor(x) - 0.5, torch.tensor(1.0, dtype=torch.float64))
    assert nn.Step(0.5)(em.tensor(x)).numpy().tolist() == expected.numpy().tolist()
    assert nn.Step()(em.tensor([-1, 0, 1])).dtype == em.float32


def test_one_epoch_by_hand():
    """OR from zero weights: the rule's four updates, computed by hand."""
    p = nn.Perceptron(2)
    history = p.fit(GATE_INPUTS, em.tensor([0.0, 1.0, 1.0, 1.0]), epochs=1)
    # (0,0): w.x+b = 0 >= 0 -> 1, target 0: w -= 0, b -= 1          -> w (0, 0), b -1
    # (0,1): -1 -> 0, target 1: w += (0, 1), b += 1                 -> w (0, 1), b 0
    # (1,0): 0 -> 1, correct; (1,1): 1 -> 1, correct
    assert history.mistakes == [2]
    assert p.weight.tolist() == [0.0, 1.0] and p.bias.item() == 0.0
    assert not history.converged and history.weights[0][1] == 0.0


@pytest.mark.parametrize("gate, targets", [("AND", [0, 0, 0, 1]), ("OR", [0, 1, 1, 1]),
                                           ("NAND", [1, 1, 1, 0])])
def test_separable_gates_converge(gate, targets):
    p = nn.Perceptron(2)
    history = p.fit(GATE_INPUTS, em.tensor(targets, dtype=em.float32))
    assert history.converged and history.mistakes[-1] == 0 and history.cycle is None
    assert p(GATE_INPUTS).tolist() == [float(t) for t in targets]


def test_xor_cycles_forever():
    p = nn.Perceptron(2)
    history = p.fit(GATE_INPUTS, em.tensor([0.0, 1.0, 1.0, 0.0]), epochs=1000)
    assert not history.converged and history.cycle is not None
    first, period = history.cycle
    assert history.epochs == first + period < 10  # found quickly, not after 1000 epochs
    w_first, b_first = history.weights[first]
    w_last, b_last = history.weights[-1]
    assert np.array_equal(w_first, w_last) and b_first == b_last
    assert all(m > 0 for m in history.mistakes)


@pytest.mark.parametrize("seed", range(5))
def test_novikoffs_bound_on_separable_data(seed):
    """At most (R / gamma)^2 mistakes, R the largest |(x, 1)|, gamma the margin of a
    unit-norm separator (bias absorbed as a constant input)."""
    rng = np.random.default_rng(seed)
    w_star, b_star = rng.standard_normal(3), 0.3
    x = rng.uniform(-1, 1, (200, 3))
    score = x @ w_star + b_star
    keep = np.abs(score) > 0.2  # a margin
    x, y = x[keep], (score[keep] > 0).astype(np.float64)
    augmented = np.hstack([x, np.ones((len(x), 1))])
    separator = np.append(w_star, b_star) / np.linalg.norm(np.append(w_star, b_star))
    gamma = np.min((2 * y - 1) * (augmented @ separator))
    radius = np.max(np.linalg.norm(augmented, axis=1))
    p = nn.Perceptron(3)
    history = p.fit(x, y, epochs=10_000)
    assert history.converged
    assert sum(history.mistakes) <= (radius / gamma) ** 2
    assert (p(em.tensor(x)).numpy() == y).all()


def test_errors_and_repr():
    p = nn.Perceptron(2)
    with pytest.raises(ValueError, match=r"x must be \(N, 2\)"):
        p.fit(np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="targets of 0 or 1"):
        p.fit(np.zeros((4, 2)), np.array([0, 1, 2, 1]))
    with pytest.raises(ValueError, match="weight_init"):
        nn.Perceptron(2, weight_init="ones")
    assert "in_features=2" in repr(p)
    em.manual_seed(0)
    assert nn.Perceptron(3, weight_init="uniform").weight.abs().max().item() > 0
