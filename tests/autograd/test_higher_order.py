"""Second derivatives of every primitive, against PyTorch's double backward in float64.

Every case of the first-order table (``tests/ops/test_parity.py``) and of the table below
(layers, losses and the backward helpers of the fused ops) is differentiated twice:

* the gradient :math:`g = w^\\top J` with ``create_graph=True`` equals PyTorch's, and so do
  the gradients of :math:`\\sum_i g_i \\cdot v_i` with respect to the inputs (the
  Hessian-vector products) and to w (the Jacobian-vector products);
* ``gradgradcheck`` compares those with finite differences of the first derivative.

Cases whose function is itself a gradient (``*_grad``) put the backward helpers of the
fused ops (a transposed convolution, a scatter, a max-pool backward) in the graph, so
their checks are third derivatives of the original op. The census at the end fails for
any differentiable primitive that no case reaches.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from pathlib import Path

import numpy as np
import pytest

import ember as em
from ember.autograd.engine import topological_order
from ember.autograd.primitives import REGISTRY
from ember.nn import functional as F
from ember.nn.functional import recurrent
from ember.testing import assert_close, gradcheck, gradgradcheck

# the tables of other modules call PyTorch functions it deprecates (torch.cholesky, qr)
pytestmark = pytest.mark.filterwarnings("ignore:torch.cholesky is deprecated",
                                        "ignore:torch.qr is deprecated")

TESTS = Path(__file__).parents[1]
# Other first-order tables in the same (id, ember fn, torch fn, specs) form, in the format
# of tests/tensor_functions/op_parity.py (a torch fn of None: the ember fn itself when it
# is a lambda of tensor methods, else torch's function of the case's name; a spec may be a
# callable rng -> array, a constant input). Those absent from the checkout are skipped.
OP_PARITY_TABLES = ["tensor_functions/test_maths.py", "tensor_functions/test_reductions.py",
                    "tensor_functions/test_scans.py", "tensor_functions/test_sorting.py",
                    "tensor_functions/test_indexing.py", "tensor_functions/test_products.py",
                    "tensor_functions/test_shapes.py", "test_linalg.py"]


def _load(relative: str):
    path = TESTS / relative
    folder = str(path.parent)
    if folder not in sys.path:  # the table's own helpers (op_parity) import by name
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(f"_second_order_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_PARITY = _load("ops/test_parity.py")
_values = _PARITY._values


def TF():
    import torch.nn.functional

    return torch.nn.functional


def _torch():
    import torch

    return torch


# ---------------------------------------------------------------------------- gradients as functions

_FIXED = np.random.default_rng(7)
W_CONV = _FIXED.standard_normal((3, 2, 3, 3))
W_CONV_T = _FIXED.standard_normal((2, 3, 3, 3))


def em_grad(f, at, g):
    """d(f(at))/d(at) against g, recorded: ``at`` an input, or an array (a fresh leaf)."""
    with em.enable_grad():
        if not isinstance(at, em.Tensor):
            at = em.tensor(at, dtype=em.float64, requires_grad=True)
        return em.autograd.grad(f(at), at, g, create_graph=True)[0]


def torch_grad(f, at, g):
    torch = _torch()
    with torch.enable_grad():
        if not isinstance(at, torch.Tensor):
            at = torch.tensor(at, requires_grad=True)
        return torch.autograd.grad(f(at), at, g, create_graph=True)[0]


def _lstm_weights(n, hidden, features, gates):
    return [((gates * hidden, features), None), ((gates * hidden, hidden), None),
            ((gates * hidden,), None), ((gates * hidden,), None)][:n]


def _vision_atan2():
    from ember.vision.edges import _atan2  # the edge detectors' own primitive

    return _atan2


TARGET = np.array([1, 0, 3, 1])
SCATTER = np.array([[0, 2, 0], [3, 3, 1]])  # places hit twice, once, never
IGNORED = np.array([1, -100, 3, 1])
CLASS_WEIGHT = np.array([0.5, 1.0, 2.0, 1.5])
INDICES = np.array([[1, 2, 1], [0, 4, 1]])
RUNNING = (np.array([0.1, -0.2, 0.3]), np.array([0.5, 1.5, 1.0]))
pos, prob, distinct = "positive", "probability", "distinct"

# (id, ember fn, torch fn, [(shape, domain), ...]): each fn takes float64 tensors
NN_CASES = [
    ("erf", em.erf, lambda a: a.erf(), [((3, 4), None)]),
    ("erfc", em.erfc, lambda a: a.erfc(), [((3, 4), None)]),
    ("floor_ceil_round_sign", lambda a: (em.floor(a) + em.ceil(a) + em.round(a) + em.sign(a)) * a,
     lambda a: (a.floor() + a.ceil() + a.round() + a.sign()) * a, [((3, 4), None)]),
    ("elu", lambda a: F.elu(a, 0.7), lambda a: TF().elu(a, 0.7), [((3, 4), None)]),
    ("selu", lambda a: F.selu(a), lambda a: TF().selu(a), [((3, 4), None)]),
    ("celu", lambda a: F.celu(a, 1.5), lambda a: TF().celu(a, 1.5), [((3, 4), None)]),
    ("gelu", lambda a: F.gelu(a), lambda a: TF().gelu(a), [((3, 4), None)]),
    ("gelu_tanh", lambda a: F.gelu(a, approximate="tanh"),
     lambda a: TF().gelu(a, approximate="tanh"), [((3, 4), None)]),
    ("hardswish", lambda a: F.hardswish(a * 3), lambda a: TF().hardswish(a * 3), [((3, 4), None)]),
    ("hardtanh", lambda a: F.hardtanh(a, -0.5, 0.8), lambda a: TF().hardtanh(a, -0.5, 0.8),
     [((3, 4), None)]),
    ("leaky_relu", lambda a: F.leaky_relu(a, 0.1) * a, lambda a: TF().leaky_relu(a, 0.1) * a,
     [((3, 4), None)]),
    ("prelu", lambda a, w: F.prelu(a, w) * a, lambda a, w: TF().prelu(a, w) * a,
     [((2, 3, 2), None), ((3,), None)]),
    ("softplus", lambda a: F.softplus(a * 2, beta=2, threshold=3),
     lambda a: TF().softplus(a * 2, beta=2, threshold=3), [((3, 4), None)]),
    ("logsigmoid", lambda a: F.logsigmoid(a), lambda a: TF().logsigmoid(a), [((3, 4), None)]),
    ("silu", lambda a: F.silu(a), lambda a: TF().silu(a), [((3, 4), None)]),
    ("mish", lambda a: F.mish(a), lambda a: TF().mish(a), [((3, 4), None)]),
    ("linear", lambda x, w, b: F.linear(x, w, b).tanh(), lambda x, w, b: TF().linear(x, w, b).tanh(),
     [((2, 3), None), ((4, 3), None), ((4,), None)]),
    ("linear_batched", lambda x, w: F.linear(x, w).sin(), lambda x, w: TF().linear(x, w).sin(),
     [((2, 2, 3), None), ((2, 3), None)]),
    ("binary_cross_entropy", lambda p, y: F.binary_cross_entropy(p, y, reduction="none"),
     lambda p, y: TF().binary_cross_entropy(p, y, reduction="none"), [((3, 4), prob), ((3, 4), prob)]),
    ("soft_margin_loss", lambda a: F.soft_margin_loss(a, em.tensor([1.0, -1.0, 1.0]), reduction="sum"),
     lambda a: TF().soft_margin_loss(a, _torch().tensor([1.0, -1.0, 1.0]), reduction="sum"),
     [((3,), None)]),
    ("cross_entropy", lambda a: F.cross_entropy(a, em.tensor(TARGET)),
     lambda a: TF().cross_entropy(a, _torch().tensor(TARGET)), [((4, 4), None)]),
    ("cross_entropy_weight_ignore_smoothing",
     lambda a: F.cross_entropy(a, em.tensor(IGNORED), em.tensor(CLASS_WEIGHT), label_smoothing=0.2),
     lambda a: TF().cross_entropy(a, _torch().tensor(IGNORED), _torch().tensor(CLASS_WEIGHT),
                                  label_smoothing=0.2), [((4, 4), None)]),
    ("cross_entropy_2d_none", lambda a: F.cross_entropy(a, em.tensor(TARGET.reshape(2, 2) % 3),
                                                        reduction="none"),
     lambda a: TF().cross_entropy(a, _torch().tensor(TARGET.reshape(2, 2) % 3), reduction="none"),
     [((2, 3, 2), None)]),
    ("nll_loss", lambda a: F.nll_loss(F.log_softmax(a, 1), em.tensor(TARGET), reduction="sum"),
     lambda a: TF().nll_loss(TF().log_softmax(a, 1), _torch().tensor(TARGET), reduction="sum"),
     [((4, 4), None)]),
    ("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1).tanh(),
     lambda x, w, b: TF().conv2d(x, w, b, stride=2, padding=1).tanh(),
     [((2, 2, 5, 5), None), ((3, 2, 3, 3), None), ((3,), None)]),
    ("conv2d_groups_dilation", lambda x, w: F.conv2d(x, w, groups=2, dilation=2, padding=2).sin(),
     lambda x, w: TF().conv2d(x, w, groups=2, dilation=2, padding=2).sin(),
     [((1, 4, 4, 4), None), ((4, 2, 2, 2), None)]),
    ("conv1d", lambda x, w: F.conv1d(x, w, padding="same") ** 2,
     lambda x, w: TF().conv1d(x, w, padding="same") ** 2, [((2, 2, 5), None), ((2, 2, 3), None)]),
    ("conv_transpose2d", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1,
                                                            output_padding=1).tanh(),
     lambda x, w, b: TF().conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1).tanh(),
     [((2, 2, 3, 3), None), ((2, 3, 3, 3), None), ((3,), None)]),
    ("conv_transpose1d_dilation", lambda x, w: F.conv_transpose1d(x, w, dilation=2,
                                                                  output_padding=1).sin(),
     lambda x, w: TF().conv_transpose1d(x, w, dilation=2, output_padding=1).sin(),
     [((2, 2, 4), None), ((2, 2, 3), None)]),
    ("conv2d_weight_grad", lambda x, g: em_grad(lambda w: F.conv2d(x, w, stride=2), W_CONV, g),
     lambda x, g: torch_grad(lambda w: TF().conv2d(x, w, stride=2), W_CONV, g),
     [((2, 2, 5, 5), None), ((2, 3, 2, 2), None)]),
    ("conv_transpose2d_weight_grad",
     lambda x, g: em_grad(lambda w: F.conv_transpose2d(x, w, stride=2), W_CONV_T, g),
     lambda x, g: torch_grad(lambda w: TF().conv_transpose2d(x, w, stride=2), W_CONV_T, g),
     [((1, 2, 2, 2), None), ((1, 3, 5, 5), None)]),
    # PyTorch's double backward refuses output_padding: finite differences only
    ("conv_transpose1d_weight_grad_output_padding",
     lambda x, g: em_grad(lambda w: F.conv_transpose1d(x, w, dilation=2, output_padding=1),
                          W_CONV_T[:, :2, 0], g), None, [((1, 2, 3), None), ((1, 2, 8), None)]),
    ("max_pool2d", lambda x: F.max_pool2d(x, 3, stride=2, padding=1) ** 2,
     lambda x: TF().max_pool2d(x, 3, stride=2, padding=1) ** 2, [((2, 2, 5, 5), distinct)]),
    ("max_pool1d_ceil_dilation", lambda x: F.max_pool1d(x, 2, stride=2, dilation=2, ceil_mode=True) ** 3,
     lambda x: TF().max_pool1d(x, 2, stride=2, dilation=2, ceil_mode=True) ** 3,
     [((2, 2, 7), distinct)]),
    ("max_pool2d_input_grad", lambda x, g: em_grad(lambda z: F.max_pool2d(z * z, 2), x, g),
     lambda x, g: torch_grad(lambda z: TF().max_pool2d(z * z, 2), x, g),
     [((1, 2, 4, 4), distinct), ((1, 2, 2, 2), None)]),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 3, 2, padding=1, count_include_pad=False) ** 2,
     lambda x: TF().avg_pool2d(x, 3, 2, padding=1, count_include_pad=False) ** 2,
     [((2, 2, 5, 5), None)]),
    ("avg_pool2d_input_grad",
     lambda x, g: em_grad(lambda z: F.avg_pool2d(z * z, 2, ceil_mode=True, divisor_override=3), x, g),
     lambda x, g: torch_grad(lambda z: TF().avg_pool2d(z * z, 2, ceil_mode=True, divisor_override=3),
                             x, g), [((1, 2, 3, 3), None), ((1, 2, 2, 2), None)]),
    ("adaptive_max_pool2d", lambda x: F.adaptive_max_pool2d(x, (3, 2)) ** 2,
     lambda x: TF().adaptive_max_pool2d(x, (3, 2)) ** 2, [((1, 2, 5, 3), distinct)]),
    ("adaptive_max_pool2d_input_grad",
     lambda x, g: em_grad(lambda z: F.adaptive_max_pool2d(z * z, (2, 2)), x, g),
     lambda x, g: torch_grad(lambda z: TF().adaptive_max_pool2d(z * z, (2, 2)), x, g),
     [((1, 1, 3, 3), pos), ((1, 1, 2, 2), None)]),
    ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (2, 3)) ** 2,
     lambda x: TF().adaptive_avg_pool2d(x, (2, 3)) ** 2, [((1, 2, 5, 4), None)]),
    ("unfold", lambda x: F.unfold(x, 2, padding=1, stride=2) ** 2,
     lambda x: TF().unfold(x, 2, padding=1, stride=2) ** 2, [((1, 2, 3, 3), None)]),
    ("fold", lambda x: F.fold(x, (3, 3), 2, padding=1, stride=2) ** 2,
     lambda x: TF().fold(x, (3, 3), 2, padding=1, stride=2) ** 2, [((1, 8, 4), None)]),
    ("embedding", lambda w, s: F.embedding(em.tensor(INDICES), w * w) * s,
     lambda w, s: TF().embedding(_torch().tensor(INDICES), w * w) * s,
     [((5, 2), None), ((2, 3, 2), None)]),
    ("embedding_padding", lambda w, s: F.embedding(em.tensor(INDICES), w * w, padding_idx=1) * s,
     lambda w, s: TF().embedding(_torch().tensor(INDICES), w * w, padding_idx=1) * s,
     [((5, 2), None), ((2, 3, 2), None)]),
    ("embedding_scaled", lambda w: F.embedding(em.tensor(INDICES), w, scale_grad_by_freq=True) ** 2,
     lambda w: TF().embedding(_torch().tensor(INDICES), w, scale_grad_by_freq=True) ** 2,
     [((5, 2), None)]),
    ("embedding_grad", lambda w, g: em_grad(lambda z: F.embedding(em.tensor(INDICES), z * z), w, g),
     lambda w, g: torch_grad(lambda z: TF().embedding(_torch().tensor(INDICES), z * z), w, g),
     [((5, 2), None), ((2, 3, 2), None)]),
    ("index_grad", lambda a, g: em_grad(lambda z: z[[0, 2, 0]] ** 2, a, g),
     lambda a, g: torch_grad(lambda z: z[[0, 2, 0]] ** 2, a, g), [((3, 2), None), ((3, 2), None)]),
    ("slice_grad", lambda a, g: em_grad(lambda z: z[1:, ::2] ** 2, a, g),
     lambda a, g: torch_grad(lambda z: z[1:, ::2] ** 2, a, g), [((3, 4), None), ((2, 2), None)]),
    ("gather_grad", lambda a, g: em_grad(lambda z: z.gather(1, em.tensor([[0, 0], [1, 0]])) ** 2, a, g),
     lambda a, g: torch_grad(lambda z: z.gather(1, _torch().tensor([[0, 0], [1, 0]])) ** 2, a, g),
     [((2, 3), None), ((2, 2), None)]),
    ("max_dim_grad", lambda a, g: em_grad(lambda z: z.max(dim=1).values ** 2, a, g),
     lambda a, g: torch_grad(lambda z: z.max(dim=1).values ** 2, a, g),
     [((2, 3), distinct), ((2,), None)]),
    ("pad_reflect_grad",
     lambda a, g: em_grad(lambda z: em.pad(z, (2, 1), mode="reflect") ** 2, a, g),
     lambda a, g: torch_grad(lambda z: TF().pad(z, (2, 1), mode="reflect") ** 2, a, g),
     [((2, 4), None), ((2, 7), None)]),
    ("tensor_unfold_grad", lambda a, g: em_grad(lambda z: z.unfold(1, 3, 2) ** 2, a, g),
     lambda a, g: torch_grad(lambda z: z.unfold(1, 3, 2) ** 2, a, g),
     [((2, 7), None), ((2, 3, 3), None)]),
    ("scatter_reduce_amax", lambda x, s: x.scatter_reduce(1, em.tensor(SCATTER), s, "amax") ** 2,
     lambda x, s: x.scatter_reduce(1, _torch().tensor(SCATTER), s, "amax") ** 2,
     [((2, 4), pos), ((2, 3), pos)]),
    ("scatter_reduce_amin_alone",
     lambda x, s: x.scatter_reduce(1, em.tensor(SCATTER), s, "amin", include_self=False) ** 2,
     lambda x, s: x.scatter_reduce(1, _torch().tensor(SCATTER), s, "amin",
                                   include_self=False) ** 2, [((2, 4), pos), ((2, 3), pos)]),
    ("scatter_reduce_prod", lambda x, s: x.scatter_reduce(1, em.tensor(SCATTER), s, "prod") ** 2,
     lambda x, s: x.scatter_reduce(1, _torch().tensor(SCATTER), s, "prod") ** 2,
     [((2, 4), pos), ((2, 3), pos)]),
    ("entr", lambda p: em.special.entr(p), lambda p: _torch().special.entr(p), [((3, 4), prob)]),
    ("vision_atan2", lambda y, x: _vision_atan2()(y, x), lambda y, x: _torch().atan2(y, x),
     [((3, 4), None), ((3, 4), None)]),
    ("batch_norm_train", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True).tanh(),
     lambda x, w, b: TF().batch_norm(x, None, None, w, b, training=True).tanh(),
     [((4, 3, 2), None), ((3,), None), ((3,), None)]),
    ("batch_norm_eval", lambda x, w: F.batch_norm(x, em.tensor(RUNNING[0]), em.tensor(RUNNING[1]),
                                                  w).sin(),
     lambda x, w: TF().batch_norm(x, _torch().tensor(RUNNING[0]), _torch().tensor(RUNNING[1]),
                                  w).sin(), [((2, 3), None), ((3,), None)]),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (3, 2), w, b).tanh(),
     lambda x, w, b: TF().layer_norm(x, (3, 2), w, b).tanh(),
     [((2, 3, 2), None), ((3, 2), None), ((3, 2), None)]),
    ("group_norm", lambda x, w: F.group_norm(x, 2, w) ** 2,
     lambda x, w: TF().group_norm(x, 2, w) ** 2, [((2, 4, 3), None), ((4,), None)]),
    ("lstm", lambda x, h, c, *w: recurrent.lstm(x, (h, c), list(w)),
     lambda x, h, c, *w: _torch().lstm(x, (h, c), list(w), True, 1, 0.0, False, False, False),
     [((3, 2, 2), None), ((1, 2, 2), None), ((1, 2, 2), None)] + _lstm_weights(4, 2, 2, 4)),
    ("gru_bidirectional", lambda x, *w: recurrent.gru(x, None, list(w), bidirectional=True),
     lambda x, *w: _torch().gru(x, _torch().zeros(2, 2, 2), list(w), True, 1, 0.0, False, True,
                                False), [((3, 2, 2), None)] + _lstm_weights(4, 2, 2, 3) * 2),
    ("rnn_tanh", lambda x, h, *w: recurrent.rnn_tanh(x, h, list(w), has_biases=False),
     lambda x, h, *w: _torch().rnn_tanh(x, h, list(w), False, 1, 0.0, False, False, False),
     [((3, 2, 2), None), ((1, 2, 3), None)] + _lstm_weights(2, 3, 2, 1)),
    ("rnn_relu", lambda x, *w: recurrent.rnn_relu(x, None, list(w)),
     lambda x, *w: _torch().rnn_relu(x, _torch().zeros(1, 2, 3), list(w), True, 1, 0.0, False,
                                     False, False), [((3, 2, 2), None)] + _lstm_weights(4, 3, 2, 1)),
]


def _op_parity_cases() -> list:
    """The cases of OP_PARITY_TABLES, their torch fns resolved and specs as pairs."""
    cases = []
    for relative in OP_PARITY_TABLES:
        if not (TESTS / relative).exists():
            continue
        for name, ours, theirs, specs in _load(relative).CASES:
            if theirs is None:
                theirs = ours if getattr(ours, "__name__", "") == "<lambda>" else \
                    _torch_function(name)
            cases.append((name, ours, theirs, [s if callable(s) else tuple(s) for s in specs]))
    return cases


def _torch_function(name: str):
    return lambda *args: getattr(_torch(), name if hasattr(_torch(), name)
                                 else name.split("_")[0])(*args)


CASES = [case for case in _PARITY.CASES] + NN_CASES + _op_parity_cases()
IDS = [case[0] for case in CASES]
# rounding to float32 inside the function makes finite differences meaningless, and
# padding_idx and scale_grad_by_freq define gradients that are not derivatives
NOT_FINITE_DIFFERENTIABLE = _PARITY.NOT_FINITE_DIFFERENTIABLE | {"embedding_padding",
                                                                "embedding_scaled"}


_DOMAINS = {"pos": pos, "prob": prob, "unit": "unit", "gt1": "gt1", "spd": "spd"}


def _values_for(rng, shape, domain):
    domain = _DOMAINS.get(domain, domain)
    if domain == prob:
        return rng.uniform(0.1, 0.9, shape)
    if domain == "unit":
        return rng.uniform(-0.9, 0.9, shape)
    if domain == "gt1":
        return rng.uniform(1.2, 3.0, shape)
    if domain == "spd":  # symmetric positive definite matrices
        a = rng.standard_normal(shape)
        return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])
    return _values(rng, shape, domain)


def _inputs(rng, specs, torch=None):
    """Float64 inputs that require grad; a callable spec gives a constant (indices)."""
    arrays = [np.asarray(s(rng)) if callable(s) else _values_for(rng, *s) for s in specs]
    ours = [em.tensor(a) if callable(s) else em.tensor(a, dtype=em.float64, requires_grad=True)
            for a, s in zip(arrays, specs, strict=True)]
    if torch is None:
        return ours
    return ours, [torch.tensor(a) if callable(s) else
                  torch.tensor(a, dtype=torch.float64, requires_grad=True)
                  for a, s in zip(arrays, specs, strict=True)]


def _differentiable(tensors) -> list:
    return [t for t in tensors if t.requires_grad]


def _outputs(value) -> list:
    return list(value) if isinstance(value, (tuple, list)) else [value]


def _numpy(t, like):
    """A gradient as an array: zeros for None (and PyTorch's zero tensors)."""
    if t is None or getattr(t, "_is_zerotensor", lambda: False)():
        return np.zeros(tuple(like.shape))
    return t.detach().numpy()


def _sum_of_products(grads, vectors, add):
    total = None
    for g, v in zip(grads, vectors, strict=True):
        if g is not None:
            term = (g * v).sum()
            total = term if total is None else add(total, term)
    return total


@pytest.mark.parametrize("name,ours,theirs,specs", [c for c in CASES if c[2] is not None],
                         ids=[c[0] for c in CASES if c[2] is not None])
def test_second_derivatives_match_pytorch(torch, rng, name, ours, theirs, specs):
    arguments, targuments = _inputs(rng, specs, torch)
    # outputs that require grad in both (PyTorch records some constant ones, a sign)
    pairs = [(y, t) for y, t in zip(_outputs(ours(*arguments)), _outputs(theirs(*targuments)),
                                    strict=True)
             if getattr(t, "requires_grad", False) and getattr(y, "requires_grad", False)]
    ys, tys = [y for y, _ in pairs], [t for _, t in pairs]
    xs, ts = _differentiable(arguments), _differentiable(targuments)
    cotangents = [rng.standard_normal(tuple(t.shape)) for t in tys]
    ws = [em.tensor(c, dtype=em.float64, requires_grad=True) for c in cotangents]
    tws = [torch.tensor(c, requires_grad=True) for c in cotangents]
    grads = em.autograd.grad(ys, xs, ws, create_graph=True, allow_unused=True)
    tgrads = torch.autograd.grad(tys, ts, tws, create_graph=True, allow_unused=True)
    for i, (g, t) in enumerate(zip(grads, tgrads, strict=True)):
        assert_close(_numpy(g, xs[i]), _numpy(t, xs[i]), name=f"{name}: gradient {i}")
    directions = [rng.standard_normal(x.shape) for x in xs]
    total = _sum_of_products(grads, [em.tensor(d) for d in directions], lambda a, b: a + b)
    ttotal = _sum_of_products(tgrads, [torch.tensor(d) for d in directions], lambda a, b: a + b)
    if name in SINGULAR:
        pytest.skip(SINGULAR[name])
    if ttotal is None or not ttotal.requires_grad:  # no gradient depends on anything
        if total is not None and total.requires_grad:
            for h in em.autograd.grad(total, xs + ws, allow_unused=True):
                assert h is None or not np.any(h.numpy()), name
        return
    second = em.autograd.grad(total, xs + ws, allow_unused=True)
    try:
        tsecond = torch.autograd.grad(ttotal, ts + tws, allow_unused=True)
    except NotImplementedError as error:  # e.g. cdist: gradgradcheck alone, where it runs
        pytest.skip(f"PyTorch has no double backward here: {error}")
    for i, (h, t) in enumerate(zip(second, tsecond, strict=True)):
        what = f"Hessian-vector product {i}" if i < len(xs) else f"JVP {i - len(xs)}"
        like = (xs + ws)[i]
        assert_close(_numpy(h, like), _numpy(t, like), name=f"{name}: {what}")


# second derivatives at a singular point, on purpose in a first-order case
SINGULAR = {name: "the table puts exact zeros in, where the second derivative of |x|^p "
                  "(p < 1) is infinite: PyTorch gives NaN, ember 0"
            for name in ("vector_norm_0.5", "vector_norm_-1")}
# primitives with no second derivatives, by design
WITHOUT_SECOND_DERIVATIVES = {
    "_refuse": "its backward raises, as PyTorch's for the same functions",
    "sync_batch_norm": "its backward all-reduces arrays across ranks (as PyTorch's)",
}

# finite differences for the tables written for them (the op_parity tables hold functions
# of a matrix's lower triangle and norms at their kinks: PyTorch's double backward there)
FINITE_CASES = [c for c in _PARITY.CASES + NN_CASES if c[0] not in NOT_FINITE_DIFFERENTIABLE]


@pytest.mark.parametrize("name,ours,theirs,specs", FINITE_CASES, ids=[c[0] for c in FINITE_CASES])
def test_gradgradcheck(rng, name, ours, theirs, specs):
    xs = _inputs(rng, specs)
    assert gradgradcheck(ours, tuple(xs), atol=1e-4, directions=2)


@pytest.mark.parametrize(
    "name,ours,theirs,specs", [c for c in NN_CASES if c[0] not in NOT_FINITE_DIFFERENTIABLE],
    ids=[c[0] for c in NN_CASES if c[0] not in NOT_FINITE_DIFFERENTIABLE])
def test_gradcheck(rng, name, ours, theirs, specs):
    assert gradcheck(ours, tuple(_inputs(rng, specs)), atol=1e-4)


def test_packed_sequences_have_second_derivatives(rng):
    """Variable lengths (no PyTorch function takes them directly): gradgradcheck."""
    x = em.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    weights = [em.tensor(rng.standard_normal(s) * 0.5, requires_grad=True)
               for s in ((8, 2), (8, 2), (8,), (8,))]
    assert gradgradcheck(lambda x, *w: recurrent.lstm(x, None, list(w), lengths=[3, 1],
                                                      bidirectional=False)[0],
                         (x, *weights), directions=2)


# ---------------------------------------------------------------------------- the census


def _import_everything() -> None:
    """Import every ember module, so that every primitive is registered."""
    for module in pkgutil.walk_packages(em.__path__, "ember."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)


def _reached_ops(case, rng) -> set:
    _, ours, _, specs = case
    with em.enable_grad():
        outputs = [o for o in _outputs(ours(*_inputs(rng, specs))) if o.grad_fn is not None]
    return {node.op for node in topological_order([o.grad_fn for o in outputs])} \
        if outputs else set()


def test_every_differentiable_primitive_has_a_second_order_case(rng):
    """A primitive added without a case here (or in tests/ops/test_parity.py) fails: each
    one must show its gradient can be differentiated (its VJPs written with ``xp`` and
    primitives, or a composite registered with ``defcomposite``)."""
    _import_everything()
    reached = set()
    for case in CASES:
        reached |= _reached_ops(case, rng)
    missing = sorted(f"{op.name} ({op.forward.__module__})" for op in list(REGISTRY)
                     if op.differentiable and op.forward.__module__.startswith("ember.")
                     and op not in reached and op.name not in WITHOUT_SECOND_DERIVATIVES)
    assert not missing, (
        "primitives that no second-order case reaches (add a row to tests/ops/test_parity.py "
        f"or to NN_CASES in {Path(__file__).name}): {', '.join(missing)}")
