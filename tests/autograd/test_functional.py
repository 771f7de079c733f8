"""em.autograd.functional against torch.autograd.functional in float64: values, the
structure of the results (tensors or tuples, as the inputs and outputs), create_graph,
strict mode, vectorize and the forward-mode strategy, and the errors."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.autograd import functional as EF
from ember.testing import assert_close

# PyTorch's vectorised paths (vmap) warn about its own torch.jit.script
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")


def _same(ours, theirs, path="result"):
    """Equal values in the same nesting (PyTorch's forward mode gives lists: as tuples)."""
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), path
        for i, (o, t) in enumerate(zip(ours, theirs, strict=True)):
            _same(o, t, f"{path}[{i}]")
    else:
        assert not isinstance(ours, tuple), path
        assert_close(ours, theirs.detach(), name=path)


def two_outputs(x, y):
    return (x * y).sin().sum(1) ** 2, (x.exp() * y).sum()


def scalar(x, y):
    first, second = two_outputs(x, y)
    return second + first.sum() * y.sum()


def single(x):
    return (x.sin() * x.sum()).tanh()


def cubes(x):
    return (x**3).sum()


@pytest.fixture
def points(torch, rng):
    x, y = rng.standard_normal(3), rng.standard_normal((2, 3))
    return ((em.tensor(x), em.tensor(y)), (torch.tensor(x), torch.tensor(y)), rng)


@pytest.mark.parametrize("vectorize", [False, True])
def test_jacobian(torch, points, vectorize):
    ours, theirs, _ = points
    tf = torch.autograd.functional
    _same(EF.jacobian(two_outputs, ours, vectorize=vectorize),
          tf.jacobian(two_outputs, theirs, vectorize=vectorize))
    _same(EF.jacobian(single, ours[0], vectorize=vectorize),
          tf.jacobian(single, theirs[0], vectorize=vectorize))
    _same(EF.jacobian(lambda x: two_outputs(x, ours[1]), ours[0], vectorize=vectorize),
          tf.jacobian(lambda x: two_outputs(x, theirs[1]), theirs[0], vectorize=vectorize))


def test_jacobian_forward_mode(torch, points):
    ours, theirs, _ = points
    _same(EF.jacobian(two_outputs, ours, vectorize=True, strategy="forward-mode"),
          torch.autograd.functional.jacobian(two_outputs, theirs, vectorize=True,
                                             strategy="forward-mode"))


@pytest.mark.parametrize("options", [{}, {"vectorize": True},
                                     {"vectorize": True, "outer_jacobian_strategy": "forward-mode"}])
def test_hessian(torch, points, options):
    ours, theirs, _ = points
    tf = torch.autograd.functional
    _same(EF.hessian(scalar, ours, **options), tf.hessian(scalar, theirs, **options))
    _same(EF.hessian(cubes, ours[1], **options), tf.hessian(cubes, theirs[1], **options))


@pytest.mark.parametrize("name", ["vjp", "jvp", "hvp", "vhp"])
def test_products(torch, points, name):
    ours, theirs, rng = points
    function = two_outputs if name in ("vjp", "jvp") else scalar
    if name == "vjp":
        v = (rng.standard_normal(2), np.array(1.5))
    else:
        v = (rng.standard_normal(3), rng.standard_normal((2, 3)))
    result = getattr(EF, name)(function, ours, tuple(em.tensor(a) for a in v))
    expected = getattr(torch.autograd.functional, name)(
        function, theirs, tuple(torch.tensor(a) for a in v))
    _same(result, expected)


def test_defaults_for_scalars_and_single_tensors(torch):
    x, t = em.tensor([0.7], dtype=em.float64), torch.tensor([0.7])
    tf = torch.autograd.functional
    for name in ("vjp", "jvp", "hvp", "vhp"):
        _same(getattr(EF, name)(lambda a: (a**3).sum(), x),
              getattr(tf, name)(lambda a: (a**3).sum(), t))


def test_create_graph_keeps_results_differentiable(torch, points):
    ours, theirs, rng = points
    x = ours[0].clone().requires_grad_()
    t = theirs[0].clone().requires_grad_()
    v = rng.standard_normal(3)
    hessian = EF.hessian(cubes, x, create_graph=True)
    _, product = EF.hvp(lambda a: (a.sin() * a).sum(), x, em.tensor(v), create_graph=True)
    assert hessian.requires_grad and product.requires_grad
    (hessian.sum() + product.sum()).backward()
    tf = torch.autograd.functional
    (tf.hessian(cubes, t, create_graph=True).sum()
     + tf.hvp(lambda a: (a.sin() * a).sum(), t, torch.tensor(v), create_graph=True)[1].sum()
     ).backward()
    assert_close(x.grad, t.grad)
    plain = EF.jacobian(single, x)
    assert not plain.requires_grad and plain.grad_fn is None


def test_strict_mode_and_independence():
    x = em.tensor([1.0, 2.0], dtype=em.float64)
    constant = lambda a: em.ones(2, dtype=em.float64)  # noqa: E731
    assert EF.jacobian(constant, x).tolist() == [[0.0, 0.0], [0.0, 0.0]]
    with pytest.raises(RuntimeError, match="strict"):
        EF.jacobian(constant, x, strict=True)
    with pytest.raises(RuntimeError, match="twice differentiable"):
        EF.hessian(lambda a: (a * 2).sum(), x, strict=True)
    assert EF.hessian(lambda a: (a * 2).sum(), x).tolist() == [[0.0, 0.0], [0.0, 0.0]]
    with pytest.raises(RuntimeError, match="strict=True and vectorize=True"):
        EF.jacobian(single, x, strict=True, vectorize=True)


def test_errors_name_the_problem():
    x = em.tensor([1.0, 2.0], dtype=em.float64)
    with pytest.raises(TypeError, match="must be a tensor or a tuple of tensors"):
        EF.jacobian(single, [x])
    with pytest.raises(RuntimeError, match="v can only be None"):
        EF.vjp(single, x)
    with pytest.raises(RuntimeError, match="v has invalid size"):
        EF.jvp(single, x, em.ones(3, dtype=em.float64))
    with pytest.raises(RuntimeError, match="single element"):
        EF.hessian(single, x)
    with pytest.raises(NotImplementedError, match="vectorize=True"):
        EF.jacobian(single, x, strategy="forward-mode")
    with pytest.raises(ValueError, match="strategy"):
        EF.jacobian(single, x, strategy="sideways")
