"""The original LeNet-5: the paper's per-layer parameters and connections, its layers
against a dense PyTorch oracle, and that it learns."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember import nn
from ember.nn.layers.classic import LENET5_C3_TABLE, ConnectionTableConv2d, EuclideanRBF

PAPER = {  # LeCun et al. (1998), Section II.B
    "c1": (156, 122_304), "s2": (12, 5_880), "c3": (1_516, 151_600), "s4": (32, 2_000),
    "c5": (48_120, 48_120), "f6": (10_164, 10_164),
}


def test_the_papers_parameters_and_connections_per_layer():
    model = em.models.lenet5_original()
    info = em.summary(model, (1, 32, 32))
    rows = {layer.name: layer for layer in info.layers}
    for name, (params, connections) in PAPER.items():
        assert rows[name].trainable_params == params, name
        assert rows[name].connections == connections, name
    assert rows["output"].connections == 840 and rows["output"].params == 0
    assert info.trainable_params == 60_000 and info.connections == 340_908
    assert "Connections" in str(info) and "122,304" in str(info)
    assert [name for name, _ in model.named_children()][:7] == [
        "c1", "s2", "c3", "s4", "c5", "f6", "output"]


def test_table_one_wiring():
    assert len(LENET5_C3_TABLE) == 16
    assert [len(row) for row in LENET5_C3_TABLE] == [3] * 6 + [4] * 9 + [6]
    # every S2 map feeds ten C3 maps, the symmetry the table breaks
    assert [sum(i in row for row in LENET5_C3_TABLE) for i in range(6)] == [10] * 6


def test_connection_table_conv_equals_a_masked_dense_convolution():
    torch = pytest.importorskip("torch")
    em.manual_seed(0)
    layer = ConnectionTableConv2d(LENET5_C3_TABLE, 5).double()
    dense = np.zeros((16, 6, 5, 5))
    for size, maps in layer.groups:
        weight = layer._weight(size, maps).detach().numpy()
        for w, j in zip(weight, maps, strict=True):
            dense[j, list(LENET5_C3_TABLE[j])] = w
    x = np.random.default_rng(0).standard_normal((2, 6, 14, 14))
    xe = em.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(dense, requires_grad=True)
    bt = torch.tensor(layer.bias.detach().numpy(), requires_grad=True)
    ours, theirs = layer(xe), torch.nn.functional.conv2d(xt, wt, bt)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-14)
    g = np.random.default_rng(1).standard_normal(ours.shape)
    ours.backward(em.tensor(g))
    theirs.backward(torch.tensor(g))
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(layer.bias.grad.numpy(), bt.grad.numpy(), rtol=1e-12, atol=1e-14)
    for size, maps in layer.groups:
        expected = np.stack([wt.grad.numpy()[j, list(LENET5_C3_TABLE[j])] for j in maps])
        np.testing.assert_allclose(layer._weight(size, maps).grad.numpy(), expected,
                                   rtol=1e-12, atol=1e-14)


def test_subsampling_and_rbf_formulas_and_gradients():
    em.manual_seed(1)
    s2 = nn.Subsampling(3).double()
    x = em.randn(2, 3, 4, 4, dtype=em.float64)
    windows = x.numpy().reshape(2, 3, 2, 2, 2, 2).sum(axis=(3, 5))
    expected = windows * s2.weight.detach().numpy()[None, :, None, None] + \
        s2.bias.detach().numpy()[None, :, None, None]
    np.testing.assert_allclose(s2(x).detach().numpy(), expected, rtol=1e-12, atol=1e-14)
    assert em.autograd.gradcheck(s2, (em.randn(1, 3, 4, 4, dtype=em.float64,
                                               requires_grad=True),))
    s2.zero_grad()
    s2(x).sum().backward()  # d/dw_c = the sum of map c's window sums; d/db_c = #units
    np.testing.assert_allclose(s2.weight.grad.numpy(), windows.sum(axis=(0, 2, 3)))
    assert s2.bias.grad.tolist() == [8.0, 8.0, 8.0]
    prototypes = em.tensor([[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]], dtype=em.float64)
    rbf = EuclideanRBF(prototypes)
    v = em.tensor([[0.5, 0.0, 2.0]], dtype=em.float64, requires_grad=True)
    out = rbf(v)
    assert out.tolist() == [[0.25 + 1 + 1, 2.25 + 1 + 1]]
    assert list(rbf.parameters()) == [] and "weight" in rbf.state_dict()
    assert em.autograd.gradcheck(rbf, (v,))


def test_digit_bitmaps_are_7x12_plus_minus_one():
    from ember.models.lenet_original import DIGIT_BITMAPS, _prototypes

    assert all(len(rows) == 12 and all(len(r) == 7 for r in rows)
               for rows in DIGIT_BITMAPS.values())
    codes = _prototypes(10)
    assert codes.shape == (10, 84) and set(np.unique(codes)) == {-1.0, 1.0}
    assert len({c.tobytes() for c in codes}) == 10


def test_it_learns_the_digits():
    pytest.importorskip("sklearn")
    em.manual_seed(0)
    data = em.datasets.digits(train=True)
    x = em.nn.functional.interpolate(data.data[:512], size=(32, 32), mode="bilinear")
    y = data.targets[:512]
    model = em.models.lenet5_original()
    optimizer = em.optim.Adam(model.parameters(), lr=2e-3)
    loader = em.data.DataLoader(em.data.TensorDataset((x - 0.3) / 0.4, y), batch_size=32,
                                shuffle=True)
    trainer = em.train.Trainer(model, lambda penalty, target: nn.functional.cross_entropy(
        -penalty, target), optimizer, metrics=[lambda out, t: float(
            (out.argmin(axis=1) == t).mean())], progress=False)
    history = trainer.fit(loader, epochs=4)
    assert history["loss"][-1] < history["loss"][0] / 3
    assert list(history.values())[1][-1] > 0.85  # training accuracy: smallest penalty wins
