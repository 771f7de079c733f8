"""examples/pytorch: each program is plain PyTorch; the test runs it twice, as written
(``import torch``) and with its imports pointed at ember (``import ember as torch``),
from the same weights and data, and compares what it returns.

Runs use float64, no dropout and no shuffling (the two frameworks' random streams
differ), on small data, so that any difference is a difference of semantics.
"""

from __future__ import annotations

import re
import types
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "pytorch"


def load(name: str, framework: str) -> types.ModuleType:
    """The example module, its imports of ``torch`` rewritten for ember if asked."""
    source = (EXAMPLES / f"{name}.py").read_text()
    if framework == "ember":
        source = re.sub(r"^import torch$", "import ember as torch", source, flags=re.M)
        source = re.sub(r"^(import|from) torch\.", r"\1 ember.", source, flags=re.M)
        assert "import torch\n" not in source
    module = types.ModuleType(f"{name}_{framework}")
    module.__file__ = str(EXAMPLES / f"{name}.py")
    exec(compile(source, module.__file__, "exec"), module.__dict__)  # noqa: S102
    return module


def _close(a, b, rtol=1e-9):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64),
                               rtol=rtol, atol=rtol * 1e-3)


def _weights(model) -> dict:
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def _sentences(n: int, seed: int = 0) -> str:
    """A small corpus from a toy grammar (deterministic)."""
    rng = np.random.default_rng(seed)
    subjects = ["the cat", "a dog", "my friend", "the teacher", "our neighbour", "a bird"]
    verbs = ["sees", "likes", "follows", "calls", "finds", "watches"]
    objects = ["the ball", "a tree", "the river", "a small house", "the old car", "bread"]
    tails = ["", "today", "in the morning", "again", "near the park"]
    lines = []
    for _ in range(n):
        parts = [subjects[rng.integers(6)], verbs[rng.integers(6)], objects[rng.integers(6)],
                 tails[rng.integers(5)]]
        lines.append(" ".join(p for p in parts if p))
    return "\n".join(lines)


@pytest.fixture(scope="module")
def torch():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small models: PyTorch's thread start-up and hand-offs dominate
    yield torch
    torch.set_num_threads(threads)


def test_polynomial_fit(torch):
    results = {}
    for fw in ("torch", "ember"):
        example = load("polynomial_fit", fw)
        results[fw] = example.main(steps=300, init=(0.1, -0.2, 0.3, -0.05),
                                   dtype=example.torch.float64, log_every=50)
    _close(results["ember"][0], results["torch"][0])
    _close(results["ember"][1], results["torch"][1])
    assert results["ember"][0][-1] < results["ember"][0][0]


def test_custom_function(torch):
    results = {}
    for fw in ("torch", "ember"):
        example = load("custom_function", fw)
        results[fw] = example.main(steps=300, dtype=example.torch.float64, log_every=50)
    _close(results["ember"][0], results["torch"][0])
    _close(results["ember"][1], results["torch"][1])


def test_mnist_cnn(torch):
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = ((digits.images / 16.0 - 0.13) / 0.3)[:, None]
    labels = digits.target.astype(np.int64)
    train_data, test_data = (images[:192], labels[:192]), (images[192:320], labels[192:320])
    options = dict(channels=(4, 8), hidden=16, dropout=(0.0, 0.0))
    reference = load("mnist_cnn", "torch")
    reference.torch.manual_seed(0)
    weights = _weights(reference.Net(image_size=8, **options).double())
    results = {}
    for fw in ("torch", "ember"):
        example = load("mnist_cnn", fw)
        results[fw] = example.main(train_data, test_data, epochs=2, batch_size=32,
                                   test_batch_size=64, shuffle=False, weights=weights,
                                   dtype=example.torch.float64, **options)
    (e_hist, e_tests, e_lr), (t_hist, t_tests, t_lr) = results["ember"], results["torch"]
    _close(e_hist, t_hist, rtol=1e-8)
    _close(e_tests, t_tests, rtol=1e-8)
    assert e_lr == pytest.approx(t_lr) == pytest.approx(0.49)  # StepLR: 1.0 * 0.7^2
    assert np.mean(e_hist[-1]) < np.mean(e_hist[0])


@pytest.mark.parametrize("model_type", ["LSTM", "GRU"])
def test_word_language_model(torch, model_type):
    text = _sentences(120)
    options = dict(model_type=model_type, emsize=16, nhid=16, nlayers=2, lr=5.0, clip=0.25,
                   epochs=2, batch_size=8, bptt=10, dropout=0.0, tied=True)
    reference = load("word_language_model", "torch")
    corpus = reference.Corpus(text)
    weights = _weights(reference.RNNModel(model_type, len(corpus.dictionary), 16, 16, 2, 0.0,
                                          True).double())
    results = {}
    for fw in ("torch", "ember"):
        example = load("word_language_model", fw)
        results[fw] = example.main(text, weights=weights, dtype=example.torch.float64,
                                   **options)
    for ours, theirs in zip(results["ember"], results["torch"], strict=True):
        _close(ours, theirs, rtol=1e-8)


def test_transformer_language_model(torch):
    text = _sentences(80, seed=1)
    options = dict(emsize=16, nhead=2, nhid=32, nlayers=2, dropout=0.0, lr=3e-3, clip=0.5,
                   epochs=2, batch_size=4, bptt=12)
    reference = load("transformer_lm", "torch")
    _, ntokens = reference.tokenize(text)
    reference.torch.manual_seed(0)
    weights = _weights(reference.TransformerModel(ntokens, 16, 2, 32, 2, 0.0).double())
    results = {}
    for fw in ("torch", "ember"):
        example = load("transformer_lm", fw)
        results[fw] = example.main(text, weights=weights, dtype=example.torch.float64,
                                   **options)
    (e_hist, e_val, e_keys), (t_hist, t_val, t_keys) = results["ember"], results["torch"]
    assert e_keys == t_keys  # the same parameter names, key for key
    _close(e_hist, t_hist, rtol=1e-7)
    _close(e_val, t_val, rtol=1e-7)
