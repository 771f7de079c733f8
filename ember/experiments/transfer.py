"""Transfer learning: a network pretrained on MNIST helps most on a related task when
labels are few; on a different task its top features transfer poorly, and only
fine-tuning helps.

A network trained on a large labelled set has learnt features (strokes, edges, blobs)
that other images share; a new task with few labels can reuse them instead of learning
them from a handful of examples. Three ways to train LeNet-5 (61,706 parameters) on a new
task with ``n`` labelled images:

* **from scratch**: random initialisation, every layer trains;
* **feature extraction**: the layers of ember's MNIST LeNet-5 (``lenet5(weights="mnist")``,
  99.4% on MNIST) frozen, only a new output layer (84 -> 10) trains on their features
  (computed once: the frozen layers have no dropout or batch norm);
* **fine-tuning**: from the MNIST weights with a new output layer, every layer trains.

The targets: the 8x8 handwritten digits of scikit-learn (always available; scaled to
28x28, a different pen, scanner and resolution from MNIST's) and Fashion-MNIST (clothes:
a different task on the same 28x28 grey format; used when its IDX files are found in
``$EMBER_DATA_DIR`` or ``../shared/data``). Each run has ``n`` = 10, 30, 100, 300 and 1,000
labelled training images drawn at random, the same compute (Adam, lr 1e-3, a fixed number
of steps on batches of up to 32), and is repeated with several seeds (new draws of the
labelled images and of the initialisation); accuracy is measured on the digits' 359 test
images and 2,000 Fashion-MNIST test images.

The claim is the one CS231n's notes on transfer learning make for a small target set:
on a *similar* one (handwritten digits again) the pretrained features work as they are,
and their advantage over training from scratch is largest when labels are fewest; on a
*different* one (clothes) the top of the network holds features specific to the source,
so training only a new output layer on them falls short and the network should be
fine-tuned.

References: J. Yosinski et al., "How transferable are features in deep neural networks?"
(NIPS 2014); M. Oquab et al., "Learning and Transferring Mid-Level Image Representations
using Convolutional Neural Networks" (CVPR 2014); the PyTorch tutorial "Transfer Learning
for Computer Vision" (feature extraction against fine-tuning).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ember import datasets, models, nn, optim, random
from ember.autograd.engine import no_grad
from ember.experiments.common import Result, pyplot, save_figure, verdict
from ember.models.pretrained import LeNet5_Weights
from ember.nn import functional as F
from ember.nn import utils
from ember.tensor import Tensor

NAME = "transfer"
CLAIM = ("a network pretrained on MNIST beats training from scratch on a related task "
         "(the 8x8 digits), as a feature extractor and fine-tuned, by the most when labels "
         "are few; on a different task (Fashion-MNIST) fine-tuning beats its frozen features")
SIZES = {
    "full": {"labels": (10, 30, 100, 300, 1000), "seeds": 3, "steps": 150,
             "fashion_test": 2000, "fashion": True},
    "smoke": {"labels": (10, 30), "seeds": 2, "steps": 4, "fashion_test": 0,
              "fashion": False},
}
METHODS = ("scratch", "feature extraction", "fine-tuning")
WEIGHTS = LeNet5_Weights.MNIST
LR, BATCH = 1e-3, 32


def data_dir() -> Path:
    """Where the MNIST-format IDX files are looked for."""
    env = os.environ.get("EMBER_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def _targets(config: dict) -> dict:
    """{target: (train images, train labels, test images, test labels)}, images already
    prepared as the MNIST network expects (28x28, MNIST's standardisation)."""
    prepare = WEIGHTS.transforms()
    train, test = datasets.digits(train=True), datasets.digits(train=False)
    targets = {"digits": (prepare(train.data), train.targets.numpy(), prepare(test.data),
                          test.targets.numpy())}
    folder = data_dir() / "fashion-mnist"
    if config["fashion"] and (folder / "train-images-idx3-ubyte.gz").is_file():
        train = datasets.fashion_mnist(folder, train=True)
        test = datasets.fashion_mnist(folder, train=False)
        keep = config["fashion_test"]
        targets["fashion-mnist"] = (prepare(train.data), train.targets.numpy(),
                                    prepare(test.data[:keep]), test.targets.numpy()[:keep])
    return targets


def _draw(labels: np.ndarray, n: int) -> np.ndarray:
    """``n`` training indices, at least one of each class when n >= 10."""
    order = random.generator().permutation(len(labels))
    first = [order[np.flatnonzero(labels[order] == c)[0]] for c in range(10)][:n]
    rest = [i for i in order if i not in set(first)][:n - len(first)]
    return np.sort(np.asarray(first + rest))


def _network(method: str) -> nn.Module:
    if method == "scratch":
        return models.lenet5()
    model = models.lenet5(weights=WEIGHTS)
    utils.replace_head(model, 10)  # a new output layer for the new task
    if method == "feature extraction":
        utils.freeze(model, except_="classifier.5")
    return model


def _fit(model: nn.Module, x: Tensor, y: np.ndarray, steps: int) -> None:
    """``steps`` Adam steps on random batches of up to 32 of (x, y)."""
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = optim.Adam(params, lr=LR)
    labels = Tensor(y)
    model.train()
    for _ in range(steps):
        batch = random.generator().choice(len(y), size=min(BATCH, len(y)), replace=False)
        loss = F.cross_entropy(model(x[batch]), labels[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def _accuracy(model: nn.Module, x: Tensor, y: np.ndarray) -> float:
    model.eval()
    with no_grad():
        scores = np.concatenate([model(x[i:i + 1000]).numpy() for i in range(0, len(x), 1000)])
    return float((scores.argmax(axis=1) == y).mean())


def _features(x: Tensor) -> Tensor:
    """The frozen MNIST network's 84 features (its layers up to the output layer)."""
    backbone = models.lenet5(weights=WEIGHTS).eval()
    with no_grad():
        parts = [backbone.classifier[:5](backbone.features(x[i:i + 1000]))
                 for i in range(0, len(x), 1000)]
    return Tensor(np.concatenate([p.numpy() for p in parts]))


def _one_run(method: str, data, index: np.ndarray, steps: int, features) -> float:
    x_train, y_train, x_test, y_test = data
    model = _network(method)
    if method != "feature extraction":
        _fit(model, x_train[index], y_train[index], steps)
        return _accuracy(model, x_test, y_test)
    head = model.classifier[5]  # trained on the features: the same as the frozen network
    train_features, test_features = features
    _fit(head, train_features[index], y_train[index], steps)
    return _accuracy(head, test_features, y_test)


def run(out: str | os.PathLike, size: str = "full", seed: int = 0) -> Result:
    """Every target, number of labels and method, with seeds seed, seed + 1, ...; report
    the mean and standard deviation of the test accuracy, and plot them against labels."""
    config = SIZES[size]
    targets = _targets(config)
    measured = {}
    for target, data in targets.items():
        features = (_features(data[0]), _features(data[2]))
        for n in config["labels"]:
            for repeat in range(config["seeds"]):
                random.manual_seed(seed + repeat)
                index = _draw(data[1], n)  # the same labelled images for every method
                for method in METHODS:
                    random.manual_seed(seed + 1000 + repeat)  # the same head initialisation
                    accuracy = _one_run(method, data, index, config["steps"], features)
                    measured.setdefault((target, n, method), []).append(accuracy)
    table = []
    for target in targets:
        for n in config["labels"]:
            row = {"target": target, "labels": n}
            for method in METHODS:
                runs = measured[(target, n, method)]
                row[method] = float(np.mean(runs))
                row[f"{method} std"] = float(np.std(runs))
            row["gain"] = max(row["feature extraction"], row["fine-tuning"]) - row["scratch"]
            table.append(row)
    held, finding = _judge(table, config)
    plot = _plot(table, list(targets), out, size)
    return Result(NAME, CLAIM, table, verdict(held, finding), held, plot,
                  data={"runs": {f"{t}/{n}/{m}": v for (t, n, m), v in measured.items()}},
                  size=size)


def _judge(table: list[dict], config: dict) -> tuple[bool, str]:
    """Digits: both transfers beat scratch up to 100 labels, and the better one's gain
    is larger at the fewest labels than at the most. Fashion-MNIST (when present):
    fine-tuning beats feature extraction at every number of labels."""
    few, many = min(config["labels"]), max(config["labels"])
    rows = {(row["target"], row["labels"]): row for row in table}
    small = [rows[("digits", n)] for n in config["labels"] if n <= 100]
    beats = all(r["feature extraction"] > r["scratch"] and r["fine-tuning"] > r["scratch"]
                for r in small)
    first, last = rows[("digits", few)], rows[("digits", many)]
    shrinks = first["gain"] > last["gain"]
    held = beats and shrinks
    finding = (f"on the digits, with {few} labels scratch reached {first['scratch']:.1%}, "
               f"feature extraction {first['feature extraction']:.1%} and fine-tuning "
               f"{first['fine-tuning']:.1%}; with {many}: {last['scratch']:.1%}, "
               f"{last['feature extraction']:.1%} and {last['fine-tuning']:.1%}: the better "
               f"transfer gained {first['gain']:+.1%} with {few} labels and "
               f"{last['gain']:+.1%} with {many}, and both transfers "
               f"{'beat' if beats else 'did not both beat'} scratch up to 100 labels")
    if ("fashion-mnist", few) in rows:
        fashion = [rows[("fashion-mnist", n)] for n in config["labels"]]
        tuned = all(r["fine-tuning"] > r["feature extraction"] for r in fashion)
        held = held and tuned
        finding += (
            f"; on Fashion-MNIST the frozen MNIST features reached "
            f"{fashion[0]['feature extraction']:.1%}-{fashion[-1]['feature extraction']:.1%} "
            f"against scratch's {fashion[0]['scratch']:.1%}-{fashion[-1]['scratch']:.1%}, "
            f"and fine-tuning ({fashion[0]['fine-tuning']:.1%}-"
            f"{fashion[-1]['fine-tuning']:.1%}) "
            f"{'beat' if tuned else 'did not always beat'} them at every number of labels")
    elif config["fashion"]:
        finding += "; Fashion-MNIST was not found (set EMBER_DATA_DIR): digits only"
    return held, finding + f" (mean of {config['seeds']} seeds)"


def _plot(table: list[dict], targets: list[str], out, size: str):
    plt = pyplot()
    fig, axes = plt.subplots(1, len(targets), figsize=(6.5 * len(targets), 4.6),
                             squeeze=False)
    for ax, target in zip(axes[0], targets, strict=True):
        rows = [row for row in table if row["target"] == target]
        labels = [row["labels"] for row in rows]
        for method, marker in zip(METHODS, "osd", strict=True):
            mean = np.array([row[method] for row in rows])
            std = np.array([row[f"{method} std"] for row in rows])
            ax.errorbar(labels, mean, yerr=std, marker=marker, capsize=3, label=method)
        ax.set(xscale="log", xlabel="labelled training images", ylabel="test accuracy",
               title=f"LeNet-5 pretrained on MNIST -> {target}")
        ax.set_xticks(labels, [str(n) for n in labels])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9)
    return save_figure(fig, out, NAME, size)
