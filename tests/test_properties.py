"""Property tests (hypothesis): broadcasting shapes and the shapes of gradients."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ember as em

settings.register_profile("ember", deadline=None, max_examples=60)
settings.load_profile("ember")


@given(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4),
       st.sampled_from(["add", "sub", "mul", "div", "maximum", "where"]))
def test_binary_ops_broadcast_and_gradients_keep_input_shapes(shapes, op):
    (shape_a, shape_b), result_shape = shapes.input_shapes, shapes.result_shape
    rng = np.random.default_rng(0)
    a = em.tensor(rng.uniform(0.5, 2, shape_a), requires_grad=True)
    b = em.tensor(rng.uniform(0.5, 2, shape_b), requires_grad=True)
    fns = {"add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b,
           "div": lambda: a / b, "maximum": lambda: em.maximum(a, b),
           "where": lambda: em.where(a > 1, a, b)}
    out = fns[op]()
    assert out.shape == result_shape
    out.sum().backward()
    assert a.grad.shape == shape_a and b.grad.shape == shape_b


@given(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
def test_broadcast_gradient_is_the_count_of_uses(shapes):
    # d/da sum(a + b) counts how many output elements each element of a reaches
    (shape_a, shape_b), result_shape = shapes.input_shapes, shapes.result_shape
    a = em.zeros(shape_a, dtype=em.float64, requires_grad=True)
    b = em.zeros(shape_b, dtype=em.float64)
    (a + b).sum().backward()
    uses = np.prod(result_shape) / max(np.prod(shape_a), 1)
    assert np.allclose(a.grad.numpy(), uses)


@given(hnp.array_shapes(min_dims=1, max_dims=4, max_side=4), st.data())
def test_reductions_keep_gradient_shape(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    keepdim = data.draw(st.booleans())
    x = em.randn(*shape, dtype=em.float64, requires_grad=True)
    for reduce in (em.sum, em.mean, em.amax, em.logsumexp):
        x.grad = None
        out = reduce(x, dim, keepdim)
        expected = list(shape)
        if keepdim:
            expected[dim] = 1
        else:
            del expected[dim]
        assert out.shape == tuple(expected)
        out.sum().backward()
        assert x.grad.shape == shape


@given(hnp.array_shapes(min_dims=1, max_dims=4, max_side=5), st.data())
def test_permute_then_inverse_is_identity(shape, data):
    perm = data.draw(st.permutations(range(len(shape))))
    x = em.randn(*shape, dtype=em.float64, requires_grad=True)
    y = x.permute(*perm)
    assert y.shape == tuple(shape[p] for p in perm)
    inverse = np.argsort(perm)
    assert np.array_equal(y.permute(*inverse.tolist()).detach().numpy(), x.detach().numpy())
