"""0-d tensors: every gradient is an array of its tensor's shape and dtype.

A 0-d parameter used more than once got a NumPy scalar as its gradient (0-d arithmetic in
NumPy returns scalars), so ``w.grad.zero_()`` raised and SGD's momentum buffer never
updated. Every primitive runs here downstream of 0-d leaves that are each used twice.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import ember as em
from ember.autograd.primitives import Primitive
from ember.nn import functional as F
from ember.nn.functional.sync_batch_norm import sync_batch_norm
from ember.testing.distributed import SingleProcessGroup


def _v(x):  # a 1-element vector from a 0-d tensor
    return x.reshape(1)


def _image(x, y):  # (1, 2, 4, 4), depending on both leaves
    base = em.arange(32, dtype=x.dtype).reshape(1, 2, 4, 4) / 32
    return base * x + y


def _written(x, y):  # in-place writes of 0-d values into a buffer (index_put)
    h = em.zeros(3, dtype=x.dtype)
    h[0] = x
    h[1:] = y * x
    return h.sum()


def _linalg_case(m):
    """Every linear-algebra primitive on a 2 x 2 matrix m built from the leaves."""
    spd = m @ m.mT + em.eye(2, dtype=m.dtype)
    em.linalg.qr(m, mode="r")  # recorded; its backward refuses (as PyTorch's)
    return (em.linalg.inv(m).sum() + em.linalg.det(m) + em.linalg.slogdet(m).logabsdet
            + em.linalg.solve(m, m[0]).sum() + em.linalg.cholesky(spd).sum()
            + em.linalg.qr(m).R.sum() + em.linalg.svdvals(m).sum()
            + em.linalg.eigvalsh(spd).sum() + em.linalg.pinv(m).sum()
            + em.linalg.vector_norm(m) + em.einsum("ij,jk->", m, m)
            + em.diag_embed(m[0]).sum() + m.diagonal().sum())


CASES = {
    "setitem": _written,
    "elementwise": lambda x, y: (x.abs() + x.exp() + x.log() + x.log1p() + x.sqrt()
                                 + x.sin() + x.cos() + x.tanh() + x.sigmoid() + x.relu()
                                 + x.sign() + x.floor() + x.ceil() + x.round() - (-y)
                                 + em.erf(x) + em.erfc(y) + x.clamp(0.1, 0.4)),
    "binary": lambda x, y: x * y + x / y - y + x ** y + em.maximum(x, y) + em.minimum(x, y)
                           + em.where(x > y, x, y),
    "activations": lambda x, y: (F.gelu(x) + F.gelu(y, approximate="tanh") + F.elu(x)
                                 + F.hardswish(x) + F.hardtanh(y) + F.leaky_relu(x)
                                 + F.logsigmoid(x) + F.silu(y) + F.softplus(x) + F.selu(y)
                                 + F.celu(x) + F.mish(y) + F.softsign(x)),
    "reductions": lambda x, y: (x.sum() + y.mean() + x.amax() + y.amin()
                                + _v(x).max(dim=0)[0] + _v(y).min(dim=0)[0]
                                + em.logsumexp(_v(x), dim=0) + F.softmax(_v(x), 0).sum() * y
                                + F.log_softmax(_v(y), 0).sum() * x
                                + em.stack([x, y]).std() + em.stack([x, y]).var()),
    "shapes": lambda x, y: (em.stack([x, y]).sum() + em.cat([_v(x), _v(y)]).flip(0)[0]
                            + x.expand(3).sum() + _v(x)[em.tensor([0, 0])].sum()
                            + x.reshape(1, 1).permute(1, 0).sum() + _v(y).repeat(2).sum()
                            + F.pad(_v(x), (1, 1)).sum() + x.float().double() + x.clone()
                            + _v(x).gather(0, em.tensor([0])).sum()
                            + em.cat([_v(x), _v(y)])[1:].sum()),
    "products": lambda x, y: (_v(x) @ _v(y) + F.linear(x.reshape(1, 1), y.reshape(1, 1)).sum()
                              + (x.reshape(1, 1) @ y.reshape(1, 1)).sum()),
    "losses": lambda x, y: (F.binary_cross_entropy(x, y) + F.mse_loss(x, y)
                            + F.binary_cross_entropy_with_logits(x, y)
                            + F.cross_entropy(em.stack([x, y])[None], em.tensor([1]))
                            + F.smooth_l1_loss(x, y) + F.huber_loss(x, y) + F.l1_loss(x, y)),
    "convolution": lambda x, y: (F.conv2d(_image(x, y), em.ones(3, 2, 2, 2, dtype=x.dtype) * y,
                                          bias=_v(x).expand(3)).sum()
                                 + F.conv_transpose2d(_image(x, y),
                                                      em.ones(2, 1, 2, 2, dtype=x.dtype) * x).sum()
                                 + F.conv1d(_image(x, y)[0], em.ones(1, 4, 2, dtype=x.dtype) * x
                                            ).sum()),
    "pooling": lambda x, y: (F.max_pool2d(_image(x, y), 2).sum() + F.avg_pool2d(_image(y, x), 2).sum()
                             + F.adaptive_max_pool2d(_image(x, y), 1).sum()
                             + F.adaptive_max_pool2d(_image(x, y), 3).sum()
                             + F.adaptive_avg_pool2d(_image(x, y), 3).sum()
                             + F.unfold(_image(x, y), 2).sum()
                             + F.fold(F.unfold(_image(x, y), 2), (4, 4), 2).sum()
                             + F.interpolate(_image(x, y), scale_factor=2, mode="bilinear").sum()),
    "normalisation": lambda x, y: (
        F.batch_norm(_image(x, y), None, None, _v(x).expand(2), _v(y).expand(2), training=True).sum()
        + F.layer_norm(_image(x, y), (4,), _v(x).expand(4), _v(y).expand(4)).sum()
        + F.group_norm(_image(x, y), 2, _v(y).expand(2)).sum()
        + F.instance_norm(_image(x, y)).sum()),
    "maths": lambda x, y: (x.tan() + x.asin() + x.acos() + x.atan() + em.atan2(x, y)
                           + em.hypot(x, y) + x.sinh() + y.cosh() + x.asinh()
                           + (1 + y).acosh() + x.atanh() + x.log2() + y.log10() + x.exp2()
                           + y.expm1() + em.logaddexp(x, y) + em.logaddexp2(x, y)
                           + (3 * x).trunc() + em.fmod(x, y) + em.remainder(x, y)
                           + em.copysign(x, -y) + em.xlogy(x, y)),
    "scans_and_selection": lambda x, y: (
        em.stack([x, y, x]).cumsum(0).sum() + em.stack([x, y]).cumprod(0).sum()
        + em.stack([y, x]).logcumsumexp(0).sum() + em.stack([x, y]).prod()
        + em.stack([x, y, y]).sort().values[0] + em.stack([x, y]).roll(1)[0]
        + em.stack([x, y, x]).unfold(0, 2, 1).sum()
        + em.zeros(2, dtype=x.dtype).scatter_add(0, em.tensor([1, 1]), em.stack([x, y]))[1]
        + em.stack([x, y]).scatter_reduce(0, em.tensor([0, 0]), em.stack([y, x]), "amax")[0]
        + em.stack([x, y]).scatter_reduce(0, em.tensor([1, 1]), em.stack([y, x]), "prod")[1]),
    "linalg": lambda x, y: _linalg_case(em.stack([x + 2, y, y, x + 3]).reshape(2, 2)) * y,
    "volumes": lambda x, y: (
        F.conv3d(_image(x, y).reshape(1, 1, 2, 4, 4), em.ones(1, 1, 2, 2, 2, dtype=x.dtype) * x
                 ).sum()
        + F.conv_transpose3d(_image(x, y).reshape(1, 2, 1, 4, 4),
                             em.ones(2, 1, 2, 1, 1, dtype=x.dtype) * y, stride=2).sum()),
    "information": lambda x, y: (em.special.xlogy(x, y) + em.special.entr(x)
                                 + em.special.entropy(em.stack([x, y]))),
    "embedding": lambda x, y: F.embedding(em.tensor([0, 1, 1]),
                                          em.stack([x, y]).reshape(2, 1) * x).sum(),
    "recurrent": lambda x, y: sum(
        layer(_image(x, y).reshape(2, 4, 4))[0].sum()
        for layer in (em.nn.RNN(4, 2, dtype=x.dtype), em.nn.LSTM(4, 2, dtype=x.dtype),
                      em.nn.GRU(4, 2, dtype=x.dtype))) * y,
    "vision": lambda x, y: _vision().direction(x * y, y) + _vision().direction(x, -y),
    "sync_batch_norm": lambda x, y: sync_batch_norm(
        _image(x, y), None, None, _v(x).expand(2), _v(y).expand(2), 0.1, 1e-5, SingleProcessGroup()
    ).sum(),
}


def _vision():
    import ember.vision as V  # its private atan2 primitive

    return V


@pytest.fixture
def recorded(monkeypatch):
    """The names of the primitives called while a case runs."""
    names = set()
    call = Primitive.__call__

    def recording(self, *args, **kwargs):
        names.add(self.name)
        return call(self, *args, **kwargs)

    monkeypatch.setattr(Primitive, "__call__", recording)
    on = Primitive.on  # a primitive run inside another's VJP (a conv's transposed conv)

    def recording_on(self, xp, *args, **kwargs):
        names.add(self.name)
        return on(self, xp, *args, **kwargs)

    monkeypatch.setattr(Primitive, "on", recording_on)
    return names


@pytest.mark.parametrize("dtype", [em.float64, em.float32])
@pytest.mark.parametrize("case", sorted(CASES))
def test_gradients_of_0d_leaves_used_twice_are_arrays(case, dtype):
    em.manual_seed(0)
    x = em.tensor(0.3, dtype=dtype, requires_grad=True)
    y = em.tensor(0.6, dtype=dtype, requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g) or None)
    loss = CASES[case](x, y) + CASES[case](x, y)  # each leaf used (at least) twice
    loss.backward()
    for name, leaf in (("x", x), ("y", y)):
        assert leaf.grad is not None, name
        assert type(leaf.grad._data) is np.ndarray, (name, type(leaf.grad._data))
        assert leaf.grad.shape == () and leaf.grad.dtype == dtype, name
        assert np.isfinite(leaf.grad.item()), name
    assert all(type(g._data) is np.ndarray and g.shape == () for g in seen)
    x.grad.zero_()  # raised on a NumPy scalar
    assert x.grad.item() == 0.0


def test_every_registered_primitive_is_exercised(recorded):
    for case in CASES.values():
        x = em.tensor(0.3, dtype=em.float64, requires_grad=True)
        y = em.tensor(0.6, dtype=em.float64, requires_grad=True)
        case(x, y).backward()
    registered = {v.name for name, module in list(sys.modules.items())
                  if name.startswith("ember") and module is not None
                  for v in vars(module).values() if isinstance(v, Primitive)}
    not_differentiable = {p.name for name, module in list(sys.modules.items())
                          if name.startswith("ember") and module is not None
                          for p in vars(module).values()
                          if isinstance(p, Primitive) and not p.differentiable}
    missing = registered - recorded - not_differentiable
    assert not missing, f"add a 0-d case that runs these primitives: {sorted(missing)}"


def test_momentum_with_a_0d_parameter_matches_pytorch():
    """The PyTorch tutorial's polynomial fit (four 0-d parameters), SGD with momentum."""
    torch = pytest.importorskip("torch")
    x = np.linspace(-np.pi, np.pi, 200)
    target = np.sin(x)
    coefficients = np.random.default_rng(0).standard_normal(4)

    def run(lib, tensor, optimizer):
        params = [tensor(float(c), dtype=lib.float64, requires_grad=True) for c in coefficients]
        a, b, c, d = params
        xs, ys = tensor(x, dtype=lib.float64), tensor(target, dtype=lib.float64)
        opt = optimizer(params, lr=1e-6, momentum=0.9)
        for _ in range(300):
            opt.zero_grad()
            loss = ((a + b * xs + c * xs ** 2 + d * xs ** 3 + a * 0.0 - ys) ** 2).sum()
            loss.backward()
            opt.step()
        return loss.item(), [p.detach().numpy().copy() for p in params]

    ours = run(em, em.tensor, em.optim.SGD)
    theirs = run(torch, torch.tensor, torch.optim.SGD)
    assert ours[0] == pytest.approx(theirs[0], rel=1e-10)
    for a, b in zip(ours[1], theirs[1], strict=True):
        assert a.shape == () and np.allclose(a, b, rtol=1e-10, atol=0)


def test_assigning_a_non_tensor_grad_is_a_type_error():
    w = em.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="Tensor or None.*float"):
        w.grad = 0.0
    with pytest.raises(TypeError, match="ndarray"):
        w.grad = np.zeros(2, np.float32)
    with pytest.raises(RuntimeError, match="different size"):
        w.grad = em.zeros(3)
    with pytest.raises(RuntimeError, match="different type"):
        w.grad = em.zeros(2, dtype=em.float64)
    w.grad = em.ones(2)
    assert w.grad.tolist() == [1.0, 1.0]
    w.grad = None
    assert w.grad is None
    del w.grad
    assert w.grad is None
