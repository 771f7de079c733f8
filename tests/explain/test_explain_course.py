"""The course's worked calculations against independent computations: PyTorch (values,
gradients, optimiser steps, a GRU cell), ember's metrics, and the published numbers of the
classic backpropagation example."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember as em
from ember.cli import main

torch = pytest.importorskip("torch")


def test_softmax_cross_entropy_against_pytorch():
    logits = np.array([2.0, -1.0, 0.5, 3.0])
    e = em.explain.softmax_cross_entropy(logits, 2)
    z = torch.tensor(logits, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(z[None], torch.tensor([2]))
    loss.backward()
    assert e.loss == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(e.probabilities, torch.softmax(z, 0).detach().numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(e.gradient, z.grad.numpy(), rtol=1e-12, atol=1e-15)
    big = em.explain.softmax_cross_entropy([1000.0, 0.0], 1)  # no overflow
    assert big.loss == pytest.approx(1000.0)
    with pytest.raises(ValueError, match="not a class"):
        em.explain.softmax_cross_entropy([1.0, 2.0], 2)


def test_confusion_metrics_against_ember_metrics():
    rng = np.random.default_rng(0)
    target, pred = rng.integers(0, 3, 200), rng.integers(0, 3, 200)
    matrix = em.metrics.confusion_matrix(target, pred, num_classes=3)
    e = em.explain.confusion_metrics(matrix)
    for k in range(3):
        tp = ((pred == k) & (target == k)).sum()
        tn = ((pred != k) & (target != k)).sum()
        fp = ((pred == k) & (target != k)).sum()
        row = e.per_class[k]
        assert row["precision"] == pytest.approx(
            em.metrics.precision(target, pred, average=None, num_classes=3)[k])
        assert row["recall"] == pytest.approx(
            em.metrics.recall(target, pred, average=None, num_classes=3)[k])
        assert row["f1"] == pytest.approx(
            em.metrics.f1_score(target, pred, average=None, num_classes=3)[k])
        assert row["specificity"] == pytest.approx(tn / (tn + fp))
        assert row["tp"] == tp
    assert e.result == pytest.approx(em.metrics.accuracy(pred, target))
    assert e.macro["f1"] == pytest.approx(em.metrics.f1_score(target, pred, average="macro",
                                                              num_classes=3))
    binary = em.explain.confusion_metrics("50 10; 5 35")  # positive class 1
    assert list(binary.per_class) == [1] and binary.per_class[1]["specificity"] == 50 / 60
    with pytest.raises(ValueError, match="square"):
        em.explain.confusion_metrics("1 2 3; 4 5 6")


def test_dropout_scaling_and_expectation():
    e = em.explain.dropout("1 2 3 4", 0.25, mask="1 1 0 1")
    assert e.result == pytest.approx([4 / 3, 8 / 3, 0.0, 16 / 3])
    assert e.eval == [1.0, 2.0, 3.0, 4.0]
    x = np.arange(1.0, 20001.0) % 7  # the expectation, over many draws of the mask
    drawn = em.explain.dropout(x, 0.3)
    assert np.mean(drawn.result) == pytest.approx(x.mean(), rel=0.02)
    assert set(np.unique(drawn.mask)) <= {0.0, 1.0}
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        em.explain.dropout("1 2", 1.0)


@pytest.mark.parametrize("W, F, S, D", [(224, 7, 2, 1), (5, 2, 2, 1), (32, 3, 1, 1),
                                        (17, 4, 3, 1), (10, 3, 2, 2), (6, 3, 3, 1)])
def test_same_padding_at_any_stride(W, F, S, D):
    e = em.explain.same_padding_any_stride(W, F, S, D)
    assert e.result == math.ceil(W / S)
    x = torch.randn(1, 1, W, W, dtype=torch.float64)
    weight = torch.randn(1, 1, F, F, dtype=torch.float64)
    padded = torch.nn.functional.pad(x, (e.before, e.after, e.before, e.after))
    out = torch.nn.functional.conv2d(padded, weight, stride=S, dilation=D)
    assert out.shape[-1] == e.result
    if S == 1:  # PyTorch's own 'same' pads the same way
        same = torch.nn.functional.conv2d(x, weight, padding="same", dilation=D)
        np.testing.assert_allclose(out.numpy(), same.numpy(), rtol=1e-12)


def test_gru_step_against_pytorchs_cell():
    torch.manual_seed(0)
    cell = torch.nn.GRUCell(3, 2).double()
    x, h = torch.randn(1, 3, dtype=torch.float64), torch.randn(1, 2, dtype=torch.float64)
    e = em.explain.gru_step(x[0].numpy(), h[0].numpy(), *(p.detach().numpy() for p in (
        cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)))
    np.testing.assert_allclose(e.h_next, cell(x, h)[0].detach().numpy(), rtol=1e-12)
    without_bias = em.explain.gru_step([1.0], None, [0.5, 0.5, 0.5], [1, 1, 1])
    assert without_bias.h_next.shape == (1,)


_TORCH = {"sgd": lambda p, lr: torch.optim.SGD(p, lr=lr),
          "momentum": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9),
          "nesterov": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9, nesterov=True),
          "adagrad": lambda p, lr: torch.optim.Adagrad(p, lr=lr),
          "adadelta": lambda p, lr: torch.optim.Adadelta(p, lr=lr),
          "rmsprop": lambda p, lr: torch.optim.RMSprop(p, lr=lr),
          "adam": lambda p, lr: torch.optim.Adam(p, lr=lr)}


def _torch_steps(name, w, gradients, lr):
    p = torch.tensor(w, requires_grad=True)
    optimizer = _TORCH[name]([p], lr)
    for g in gradients:
        p.grad = torch.tensor(g)
        optimizer.step()
    return p.detach().numpy(), optimizer.state[p]


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adagrad", "adadelta",
                                  "rmsprop", "adam"])
def test_optimizer_step_against_pytorch_first_and_later_steps(name):
    w, g0, g1 = np.array([1.0, -2.0, 0.3]), np.array([0.5, -1.0, 2.0]), np.array([
        -0.2, 0.4, 1.0])
    first = em.explain.optimizer_step(w, g0, name, lr=0.05)
    expected, state = _torch_steps(name, w, [g0], 0.05)
    np.testing.assert_allclose(first.result[name], expected, rtol=1e-12)
    # a second step from the state the first left, given as the options would give it
    keys = {"momentum": {"velocity": "momentum_buffer"}, "nesterov": {
        "velocity": "momentum_buffer"}, "adagrad": {"accumulator": "sum"},
            "rmsprop": {"square_avg": "square_avg"},
            "adadelta": {"square_avg": "square_avg", "acc_delta": "acc_delta"},
            "adam": {"m": "exp_avg", "v": "exp_avg_sq"}}.get(name, {})
    options = {ours: state[theirs].numpy() for ours, theirs in keys.items()}
    if name == "adam":
        options["step"] = 1
    second = em.explain.optimizer_step(first.result[name], g1, name, lr=0.05, **options)
    expected, _ = _torch_steps(name, w, [g0, g1], 0.05)
    np.testing.assert_allclose(second.result[name], expected, rtol=1e-12)


def test_backprop_against_autograd_and_the_published_example():
    e = em.explain.backprop()
    # Mazur (2015): E_total, out_o1, and the updated weights
    assert e.result == pytest.approx(0.298371109, abs=1e-9)
    assert e.outputs[0] == pytest.approx(0.75136507, abs=1e-8)
    np.testing.assert_allclose(e.new_w_output, [[0.35891648, 0.408666186],
                                                [0.511301270, 0.561370121]], atol=1e-9)
    np.testing.assert_allclose(e.new_w_hidden, [[0.149780716, 0.19956143],
                                                [0.24975114, 0.29950229]], atol=1e-8)
    for loss in ("half-sse", "mse"):
        rng = np.random.default_rng(1)
        x, t = rng.random(3), rng.random(2)
        w1, w2 = rng.standard_normal((4, 3)), rng.standard_normal((2, 4))
        ours = em.explain.backprop(x, t, w1, 0.1, w2, -0.2, lr=0.3, loss=loss,
                                   update_biases=True)
        tw1, tw2 = torch.tensor(w1, requires_grad=True), torch.tensor(w2, requires_grad=True)
        b1 = torch.tensor(0.1, dtype=torch.float64, requires_grad=True)
        b2 = torch.tensor(-0.2, dtype=torch.float64, requires_grad=True)
        out = torch.sigmoid(tw2 @ torch.sigmoid(tw1 @ torch.tensor(x) + b1) + b2)
        error = ((torch.tensor(t) - out) ** 2)
        total = 0.5 * error.sum() if loss == "half-sse" else error.mean()
        total.backward()
        assert ours.result == pytest.approx(total.item(), rel=1e-12)
        np.testing.assert_allclose(ours.grad_w_hidden, tw1.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(ours.grad_w_output, tw2.grad.numpy(), rtol=1e-10)
        assert ours.grad_b_hidden == pytest.approx(b1.grad.item(), rel=1e-10)
        assert ours.grad_b_output == pytest.approx(b2.grad.item(), rel=1e-10)
        np.testing.assert_allclose(ours.new_w_hidden, w1 - 0.3 * tw1.grad.numpy(), rtol=1e-12)
        assert ours.new_b_output == pytest.approx(-0.2 - 0.3 * b2.grad.item())


@pytest.mark.parametrize("argv, expected", [
    (["backprop"], "E_total = 0.298371109"),
    (["optimizer", "--w", "1", "--grad", "0.5", "--optimizer", "adam"], "step t = 1"),
    (["softmax-ce", "--logits", "2 1 0.1", "--target", "0"], "L = -ln(0.659) = 2 + ln(1.5174) - 2 = 0.417"),
    (["metrics", "--matrix", "50 10; 5 35"], "precision   = TP / (TP + FP) = 35 / 45"),
    (["gru-step", "--x", "1", "--weight-ih", "0.5; 0.5; 0.5", "--weight-hh", "1; 1; 1"],
     "new hidden state"),
    (["padding", "--width", "224", "--kernel", "7", "--stride", "2"],
     "F.pad(x, (2, 3, 2, 3))"),
    (["dropout", "--x", "1 2", "--p", "0.5", "--mask", "1 0"], "y_0 = 1*1*2 = 2"),
])
def test_the_command_line(argv, expected, capsys):
    assert main(["explain", *argv]) == 0
    assert expected in capsys.readouterr().out
