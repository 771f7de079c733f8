"""Custom autograd Functions and grad_fn introspection, against PyTorch in float64.

Each Function is written once, against a framework module ``fw`` (``torch`` or ``ember``),
exactly as a PyTorch user writes it; values, gradients, flags and errors must agree.
"""

from __future__ import annotations

import pytest

import ember as em
from ember.testing import assert_close, gradcheck

VALUES = [[0.5, -1.2, 2.0], [0.3, 0.9, -0.4]]


def _functions(fw):
    class Exp(fw.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad_output):
            (y,) = ctx.saved_tensors
            return grad_output * y

    class MulConstant(fw.autograd.Function):
        @staticmethod
        def forward(ctx, x, constant, w):
            ctx.constant = constant
            ctx.save_for_backward(x, w)
            ctx.flags = ctx.needs_input_grad
            return x * w * constant

        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            gx = grad * w * ctx.constant if ctx.needs_input_grad[0] else None
            gw = (grad * x * ctx.constant).sum(0) if ctx.needs_input_grad[2] else None
            return gx, None, gw

    class SinCos(fw.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, g_sin, g_cos):
            (x,) = ctx.saved_tensors
            return g_sin * x.cos() - g_cos * x.sin()

    class ClampWithMask(fw.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            mask = (x > 0).to(x.dtype)
            ctx.mark_non_differentiable(mask)
            ctx.save_for_backward(mask)
            return x.clamp(min=0), mask

        @staticmethod
        def backward(ctx, grad, grad_mask):
            (mask,) = ctx.saved_tensors
            return grad * mask + grad_mask

    class Square(fw.autograd.Function):  # the newer form: setup_context
        @staticmethod
        def forward(x):
            return x * x

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    class AddOneInPlace(fw.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    class BroadcastGrad(fw.autograd.Function):  # returns a gradient of a broadcast shape
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    return {"Exp": Exp, "MulConstant": MulConstant, "SinCos": SinCos,
            "ClampWithMask": ClampWithMask, "Square": Square, "AddOneInPlace": AddOneInPlace,
            "BroadcastGrad": BroadcastGrad}


def _programs(fw):
    f = _functions(fw)

    def leaf(values=VALUES):
        return fw.tensor(values, dtype=fw.float64, requires_grad=True)

    def exp():
        x = leaf()
        y = f["Exp"].apply(x)
        (y * y).sum().backward()
        return [y, x.grad], y.grad_fn.name()

    def mul_constant():
        x, w = leaf(), fw.tensor([1.5, -2.0, 0.5], dtype=fw.float64, requires_grad=True)
        y = f["MulConstant"].apply(x, 2.5, w)
        y.pow(2).sum().backward()
        return [y, x.grad, w.grad], y.grad_fn.name()

    def needs_input_grad():
        x, w = leaf(), fw.tensor([1.0, 2.0, 3.0], dtype=fw.float64)
        seen = []

        class Probe(fw.autograd.Function):
            @staticmethod
            def forward(ctx, a, b, c):
                seen.append(ctx.needs_input_grad)
                return a * b

            @staticmethod
            def backward(ctx, g):
                return g, None, None

        Probe.apply(x, w, 3)
        with fw.no_grad():
            Probe.apply(x, w, 3)
        return [], seen

    def sin_cos_one_output_used():
        x = leaf()
        s, c = f["SinCos"].apply(x)
        (s * 3).sum().backward()  # cos unused: its gradient arrives as zeros
        return [s, c, x.grad], (s.grad_fn.name(), c.requires_grad)

    def sin_cos_both():
        x = leaf()
        s, c = f["SinCos"].apply(x)
        (s * c.exp()).sum().backward()
        return [s, c, x.grad], None

    def non_differentiable():
        x = leaf()
        y, mask = f["ClampWithMask"].apply(x)
        y.sum().backward()
        return [y, mask, x.grad], (y.requires_grad, mask.requires_grad)

    def setup_context():
        x = leaf()
        y = f["Square"].apply(x)
        y.sum().backward()
        return [y, x.grad], y.grad_fn.name()

    def mark_dirty():
        x = leaf()
        h = x * 2
        y = f["AddOneInPlace"].apply(h)
        (y * y).sum().backward()
        return [y, x.grad], (y is h, y.grad_fn.name())

    def broadcast_gradient():
        x = leaf()
        b = fw.tensor([1.0, 2.0, 3.0], dtype=fw.float64, requires_grad=True)
        y = f["BroadcastGrad"].apply(x, b)
        (y * y).sum().backward()
        return [y, x.grad, b.grad], None

    def retain_graph_twice():
        x = leaf()
        y = f["Exp"].apply(x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return [x.grad], None

    return {name: fn for name, fn in locals().items() if callable(fn) and name != "leaf"}


@pytest.mark.parametrize("program", sorted(_programs(em)))
def test_custom_function_matches_pytorch(torch, program):
    theirs, their_info = _programs(torch)[program]()
    ours, our_info = _programs(em)[program]()
    assert our_info == their_info
    for a, b in zip(ours, theirs, strict=True):
        assert_close(a, b, rtol=1e-12, atol=1e-12)
        assert str(a.dtype) == str(b.dtype).replace("torch.", "")


def _errors(fw):
    f = _functions(fw)

    class TooFew(fw.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g

    class WrongShape(fw.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g.sum(0)

    x = fw.tensor(VALUES, dtype=fw.float64, requires_grad=True)

    def too_few():
        TooFew.apply(x, x).sum().backward()

    def wrong_shape():
        WrongShape.apply(x).sum().backward()

    def saved_modified():
        y = f["Exp"].apply(x * 1)
        with fw.no_grad():
            y.mul_(2)
        y.sum().backward()

    def twice():
        y = f["Exp"].apply(x).sum()
        y.backward()
        y.backward()

    def dirty_leaf():
        f["AddOneInPlace"].apply(fw.tensor([1.0], dtype=fw.float64, requires_grad=True))

    return {"too_few": too_few, "wrong_shape": wrong_shape, "saved_modified": saved_modified,
            "twice": twice, "dirty_leaf": dirty_leaf}


@pytest.mark.parametrize("case", ["too_few", "wrong_shape", "saved_modified", "twice",
                                  "dirty_leaf"])
def test_custom_function_errors_match_pytorch(torch, case):
    with pytest.raises(RuntimeError):
        _errors(torch)[case]()
    with pytest.raises(RuntimeError):
        _errors(em)[case]()


def test_custom_function_passes_gradcheck():
    f = _functions(em)
    x = em.tensor(VALUES, dtype=em.float64, requires_grad=True)
    w = em.tensor([1.5, -2.0, 0.5], dtype=em.float64, requires_grad=True)
    assert gradcheck(lambda a, b: f["MulConstant"].apply(a, 0.5, b), (x, w))
    assert gradcheck(lambda a: f["SinCos"].apply(a)[0] * f["SinCos"].apply(a)[1], (x,))


def test_materialize_grads_false_passes_none(torch):
    received = {}
    for fw in (torch, em):
        seen = received.setdefault(fw.__name__, [])

        class Pair(fw.autograd.Function):
            @staticmethod
            def forward(ctx, x, materialize):
                ctx.set_materialize_grads(materialize)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, g, g_unused, seen=seen):
                seen.append(g_unused is None)
                return g * 2, None

        for materialize in (True, False):
            x = fw.tensor([1.0, -1.0], dtype=fw.float64, requires_grad=True)
            y, _ = Pair.apply(x, materialize)
            y.sum().backward()
            assert x.grad.tolist() == [2.0, 2.0]
    assert received["ember"] == received["torch"] == [False, True]


def test_forward_must_be_static_and_function_not_instantiated():
    with pytest.raises(TypeError, match="staticmethod"):
        class Legacy(em.autograd.Function):
            def forward(self, x):
                return x
    with pytest.raises(RuntimeError, match="apply"):
        _functions(em)["Exp"]()
    from ember.autograd.function import once_differentiable

    class Twice(em.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            assert not em.is_grad_enabled()
            return g * 2

    x = em.ones(2, requires_grad=True)
    Twice.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def _graph(fw):
    x = fw.tensor([0.5, 1.5], dtype=fw.float64, requires_grad=True)
    w = fw.tensor([2.0, -1.0], dtype=fw.float64, requires_grad=True)
    c = fw.tensor([3.0, 4.0], dtype=fw.float64)
    return x, w, c


def _describe(fn) -> tuple:
    """A grad_fn as (name, [children]) down to the leaves, as PyTorch shows them."""
    if fn is None:
        return None
    return (fn.name(), [_describe(child) for child, _ in fn.next_functions])


@pytest.mark.parametrize("expression", [
    lambda x, w, c: (x.exp() + x * w).sum(),
    lambda x, w, c: (x * 2 - c / w).mean(),
    lambda x, w, c: (x @ w).relu() * x.sigmoid().sum(),
    lambda x, w, c: (x.tanh() ** 2).sum(dim=0),
    lambda x, w, c: x.reshape(2, 1).log_softmax(0).sum(),
])
def test_grad_fn_names_and_next_functions_match_pytorch(torch, expression):
    theirs = _describe(expression(*_graph(torch)).grad_fn)
    ours = _describe(expression(*_graph(em)).grad_fn)
    assert ours == theirs


def test_accumulate_grad_holds_the_leaf():
    x = em.ones(2, requires_grad=True)
    (node, index), (other, _) = (x * 2).grad_fn.next_functions
    assert node.variable is x and index == 0 and other is None
    assert node.name() == "torch::autograd::AccumulateGrad"
