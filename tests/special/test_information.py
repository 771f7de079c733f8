"""Information measures against PyTorch in float64 (values and gradients), identities."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em

torch = pytest.importorskip("torch")


def _distributions(seed, shape=(3, 5), zeros=True):
    rng = np.random.default_rng(seed)
    p = rng.random(shape)
    if zeros:
        p[0, 1] = p[2, 4] = 0.0  # 0 log 0 = 0
    return p / p.sum(axis=-1, keepdims=True)


def _both(values):
    return (em.tensor(values, dtype=em.float64, requires_grad=True),
            torch.tensor(values, dtype=torch.float64, requires_grad=True))


def test_entropy_cross_entropy_kl_match_pytorch_values_and_gradients():
    p, q = _distributions(0), _distributions(1, zeros=False)
    (pe, pt), (qe, qt) = _both(p), _both(q)
    pairs = [
        (em.special.entropy(pe), torch.special.entr(pt).sum(-1)),
        (em.special.cross_entropy(pe, qe), -torch.special.xlogy(pt, qt).sum(-1)),
        (em.special.kl_div(pe, qe), torch.nn.functional.kl_div(qt.log(), pt,
                                                               reduction="none").sum(-1)),
        (em.special.entropy(pe, base=2), torch.special.entr(pt).sum(-1) / np.log(2)),
        (em.special.information(qe, base=2), -torch.log2(qt)),
        (em.special.entr(pe), torch.special.entr(pt)),
        (em.special.xlogy(pe, qe), torch.special.xlogy(pt, qt)),
    ]
    for i, (ours, theirs) in enumerate(pairs):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(),
                                   rtol=1e-12, atol=1e-15, err_msg=str(i))
        g = np.random.default_rng(i).standard_normal(tuple(ours.shape))
        ours.backward(em.tensor(g))
        theirs.backward(torch.tensor(g))
        for a, b in ((pe, pt), (qe, qt)):
            if b.grad is None:
                continue
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10,
                                       atol=1e-12, err_msg=str(i))
            a.grad, b.grad = None, None


def test_entropy_equals_torch_distributions_categorical():
    p = _distributions(4)
    expected = torch.distributions.Categorical(probs=torch.tensor(p)).entropy().numpy()
    np.testing.assert_allclose(em.special.entropy(p).numpy(), expected, rtol=1e-12)


def test_the_identity_and_edge_cases():
    p, q = _distributions(2), _distributions(3, zeros=False)
    h_pq = em.special.cross_entropy(p, q).numpy()
    np.testing.assert_allclose(h_pq, (em.special.entropy(p) + em.special.kl_div(p, q)).numpy(),
                               rtol=1e-12)
    assert np.allclose(em.special.kl_div(p, p).numpy(), 0.0)  # Gibbs: 0 only at p = q
    assert (em.special.kl_div(p, q).numpy() > 0).all()
    uniform = np.full(8, 1 / 8)
    assert em.special.entropy(uniform, base=2).item() == pytest.approx(3.0)  # the maximum
    assert em.special.entropy([1.0, 0.0, 0.0]).item() == 0.0  # certainty
    assert em.special.kl_div([0.5, 0.5], [1.0, 0.0]).item() == float("inf")
    assert em.special.entr([-1.0]).item() == float("-inf")
    columns = em.special.entropy(p.T, dim=0).numpy()  # along another dimension
    np.testing.assert_allclose(columns, em.special.entropy(p).numpy(), rtol=1e-12)
