"""em.autograd.grad and backward(create_graph, inputs): PyTorch's semantics, checked
against PyTorch in float64 (higher derivatives, non-leaf inputs, several outputs,
unused inputs, batched vectors, retained graphs, hooks, a gradient penalty)."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em
from ember.testing import assert_close


def _pair(torch, array):
    return (em.tensor(array, dtype=em.float64, requires_grad=True),
            torch.tensor(array, dtype=torch.float64, requires_grad=True))


def test_derivatives_of_any_order_match_pytorch(torch, rng):
    x, t = _pair(torch, rng.standard_normal(4))
    y, ty = (x.sin() * x.exp()).sum(), (t.sin() * t.exp()).sum()
    for order in range(1, 5):
        (y,) = em.autograd.grad(y, x, create_graph=True)
        (ty,) = torch.autograd.grad(ty, t, create_graph=True)
        assert_close(y, ty, name=f"derivative {order}")
        y, ty = y.sum(), ty.sum()


def test_grad_returns_gradients_and_leaves_dot_grad_alone(rng):
    x = em.tensor(rng.standard_normal(3), dtype=em.float64, requires_grad=True)
    (g,) = em.autograd.grad((x * x).sum(), x)
    assert_close(g, 2 * x.detach())
    assert x.grad is None and g.grad_fn is None and not g.requires_grad
    assert isinstance(em.autograd.grad((x * 2).sum(), [x]), tuple)


def test_gradient_with_respect_to_a_non_leaf_is_the_total_derivative(torch, rng):
    x, t = _pair(torch, rng.standard_normal(3))
    a, ta = x * 3, t * 3
    y, ty = (a * a.sin()).sum() + x.sum(), (ta * ta.sin()).sum() + t.sum()
    ours = em.autograd.grad(y, [a, x])
    theirs = torch.autograd.grad(ty, [ta, t])
    for o, e in zip(ours, theirs, strict=True):
        assert_close(o, e)


def test_several_outputs_with_vectors_and_dict_inputs(torch, rng):
    x, t = _pair(torch, rng.standard_normal((2, 3)))
    w, tw = _pair(torch, rng.standard_normal(3))
    v = rng.standard_normal((2, 3))
    outputs, toutputs = [x * w, (x @ w).sum()], [t * tw, (t @ tw).sum()]
    ours = em.autograd.grad(outputs, {"x": x, "w": w}, [em.tensor(v), None])
    theirs = torch.autograd.grad(toutputs, [t, tw], [torch.tensor(v), None])
    assert list(ours) == ["x", "w"]
    assert_close(ours["x"], theirs[0])
    assert_close(ours["w"], theirs[1])


def test_unused_inputs_none_zeros_or_a_clear_error():
    x = em.tensor([1.0, 2.0], requires_grad=True)
    unused = em.tensor([3.0], requires_grad=True)
    y = (x * x).sum()
    with pytest.raises(RuntimeError, match="input 1 .* was not used.*allow_unused=True"):
        em.autograd.grad(y, [x, unused], retain_graph=True)
    assert em.autograd.grad(y, [x, unused], allow_unused=True, retain_graph=True)[1] is None
    zeros = em.autograd.grad(y, [x, unused], materialize_grads=True, retain_graph=True)[1]
    assert zeros.tolist() == [0.0] and not zeros.requires_grad
    with pytest.raises(ValueError, match="materialize_grads"):
        em.autograd.grad(y, [x, unused], allow_unused=False, materialize_grads=True)


def test_errors_name_the_problem():
    x = em.tensor([1.0, 2.0], requires_grad=True)
    constant = em.tensor([1.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        em.autograd.grad(constant * 2, constant)
    with pytest.raises(RuntimeError, match="output 1 does not require grad"):
        em.autograd.grad([x.sum(), constant.sum()], x)
    with pytest.raises(RuntimeError, match="scalar outputs.*shape \\(2,\\)"):
        em.autograd.grad(x * 2, x)
    with pytest.raises(RuntimeError, match="gradient has shape \\(3,\\)"):
        em.autograd.grad(x * 2, x, em.ones(3))
    with pytest.raises(RuntimeError, match="cannot be empty"):
        em.autograd.grad(x.sum(), [])
    with pytest.raises(RuntimeError, match="2 gradients given for 1 outputs"):
        em.autograd.grad(x * 2, x, [em.ones(2), em.ones(2)])


def test_batched_vectors_give_the_rows_of_the_jacobian(torch, rng):
    x, t = _pair(torch, rng.standard_normal(3))
    eye = np.eye(3)
    (ours,) = em.autograd.grad(x.sin() * x, x, em.tensor(eye), is_grads_batched=True)
    (theirs,) = torch.autograd.grad(t.sin() * t, t, torch.tensor(eye), is_grads_batched=True)
    assert_close(ours, theirs)


def test_the_graph_is_freed_unless_retained_and_create_graph_retains_it():
    x = em.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    em.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="second time"):
        em.autograd.grad(y, x)
    y = (x.exp() * x).sum()
    first = em.autograd.grad(y, x, create_graph=True)[0]
    assert_close(em.autograd.grad(y, x)[0], first.detach())


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")  # PyTorch's
def test_backward_with_create_graph_leaves_differentiable_gradients(torch, rng):
    x, t = _pair(torch, rng.standard_normal(3))
    (x**3).sum().backward(create_graph=True)
    (t**3).sum().backward(create_graph=True)
    assert x.grad.grad_fn is not None
    first = x.grad
    (first * first).sum().backward()  # x.grad accumulates d/dx sum (3 x^2)^2 = 36 x^3
    (t.grad * t.grad).sum().backward()
    assert_close(x.grad, t.grad)


def test_backward_into_chosen_inputs_only(torch, rng):
    x, t = _pair(torch, rng.standard_normal(3))
    w, tw = _pair(torch, rng.standard_normal(3))
    hidden, thidden = x * w, t * tw
    hidden.retain_grad()
    (hidden.tanh().sum()).backward(inputs=[w, hidden])
    (thidden.tanh().sum()).backward(inputs=[tw, thidden])
    assert x.grad is None and t.grad is None
    assert_close(w.grad, tw.grad)
    assert_close(hidden.grad, thidden.grad)


def test_autograd_backward_takes_sequences_like_pytorch(torch, rng):
    x, t = _pair(torch, rng.standard_normal(3))
    v = rng.standard_normal(3)
    em.autograd.backward([x * x, x.sum()], [em.tensor(v), None])
    torch.autograd.backward([t * t, t.sum()], [torch.tensor(v), None])
    assert_close(x.grad, t.grad)


def test_hooks_see_recorded_gradients():
    x = em.tensor([1.0, 2.0], dtype=em.float64, requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.requires_grad) or g * 2)
    (g,) = em.autograd.grad((x**3).sum(), x, create_graph=True)
    assert seen == [True]
    assert g.tolist() == [6.0, 24.0]  # 2 * 3 x^2, and still differentiable
    assert em.autograd.grad(g.sum(), x)[0].tolist() == [24.0, 48.0]  # 2 * 2 * 6 x, as PyTorch


def test_a_gradient_of_itself_is_the_vector():
    x = em.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    assert em.autograd.grad(y, y, em.tensor([3.0, 4.0]))[0].tolist() == [3.0, 4.0]
    assert em.autograd.grad(x, x, em.tensor([5.0, 6.0]))[0].tolist() == [5.0, 6.0]


def test_gradient_penalty_matches_pytorch(torch, rng):
    """WGAN-GP's term (||d critic / d x|| - 1)^2: its gradient with respect to the
    critic's weights is a second derivative, through Linear, LeakyReLU and LayerNorm."""
    em.manual_seed(0)
    critic = em.nn.Sequential(em.nn.Linear(3, 8), em.nn.LayerNorm(8), em.nn.LeakyReLU(0.2),
                              em.nn.Linear(8, 1)).double()
    reference = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.LayerNorm(8),
                                    torch.nn.LeakyReLU(0.2), torch.nn.Linear(8, 1)).double()
    reference.load_state_dict({k: torch.tensor(v.numpy()) for k, v in
                               critic.state_dict().items()})
    points = rng.standard_normal((5, 3))
    x, t = _pair(torch, points)
    (g,) = em.autograd.grad(critic(x).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad(reference(t).sum(), t, create_graph=True)
    penalty = ((g * g).sum(1).sqrt() - 1) ** 2
    tpenalty = (tg.norm(2, dim=1) - 1) ** 2
    penalty.mean().backward()
    tpenalty.mean().backward()
    assert_close(penalty, tpenalty)
    for (name, p), tp in zip(critic.named_parameters(), reference.parameters(), strict=True):
        # the last bias, and the LayerNorm's (it shifts LeakyReLU's input, not its slope),
        # get no gradient: None, or zeros where PyTorch keeps the link
        zeros = np.zeros(p.shape)
        assert_close(zeros if p.grad is None else p.grad, zeros if tp.grad is None else tp.grad,
                     name=name)


def test_first_order_backward_records_nothing_and_frees_the_graph():
    x = em.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    assert x.grad.grad_fn is None and not x.grad.requires_grad
    assert y.grad_fn.arrays is None


def test_the_gradient_penalty_example_runs(capsys, monkeypatch):
    """examples/gradient_penalty.py: its worked case agrees with the formula, and a few
    WGAN-GP steps run."""
    import importlib.util
    from pathlib import Path

    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")  # what the example sets, undone after

    path = Path(__file__).parents[2] / "examples" / "gradient_penalty.py"
    spec = importlib.util.spec_from_file_location("gradient_penalty_example", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    for ours, by_hand in example.worked_linear_case().values():
        np.testing.assert_allclose(ours, by_hand, rtol=1e-5)
    example.train(steps=2, critic_steps=2, batch=16, weight=10.0, width=8, lr=1e-3, seed=0)
    assert "2 generator steps (4 critic steps" in capsys.readouterr().out


def test_a_custom_function_is_differentiated_twice_through_its_backward(torch, rng):
    """em.autograd.Function: with create_graph, backward's ops on tensors are recorded."""

    def cube(module):
        class Cube(module.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * 3 * x ** 2

        return Cube

    x, t = _pair(torch, rng.standard_normal(3))
    (g,) = em.autograd.grad(cube(em).apply(x).sin().sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad(cube(torch).apply(t).sin().sum(), t, create_graph=True)
    assert_close(em.autograd.grad(g.sum(), x)[0], torch.autograd.grad(tg.sum(), t)[0])
