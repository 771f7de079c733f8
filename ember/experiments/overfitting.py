"""Overfitting: a large network memorises a small training set; L2, dropout, early stopping
and data augmentation narrow the gap between training and test.

The generalisation gap is the difference between the loss on unseen data and on the
training data, :math:`\\mathbb{E}_{\\text{test}}[\\ell] - \\mathbb{E}_{\\text{train}}[\\ell]`.
A network with far more parameters than training samples drives the training loss to
zero and grows its weights to be ever more confident, which the test loss punishes.
The regularisers work against it: L2 adds :math:`\\lambda \\sum w^2` to the loss (small
weights); dropout zeroes each input with probability 0.2 and each hidden unit with 0.5
while training (no unit can rely on another); early stopping keeps the weights of the
epoch with the lowest validation loss; augmentation shows the network shifted copies of
the images.

A 64-256-256-10 MLP (83,000 parameters) is trained with Adam on 200 digits; 400 other
digits are the validation set (curves, early stopping), and the gap is measured between
the 200 training digits and the remaining 1,197 untouched ones. The whole comparison is
repeated on three random splits and averaged, as one split's test numbers move by a
point or two from chance alone.

References: I. Goodfellow, Y. Bengio, A. Courville, *Deep Learning*, ch. 7 (2016);
N. Srivastava et al., "Dropout: A Simple Way to Prevent Neural Networks from Overfitting"
(JMLR 2014); L. Prechelt, "Early Stopping - But When?" (1998); A. Krogh, J. Hertz,
"A Simple Weight Decay Can Improve Generalization" (NIPS 1991).
"""

from __future__ import annotations

import os

import numpy as np

from ember import data, models, nn, optim, random
from ember.data import transforms
from ember.experiments.common import (
    Result,
    digits_data,
    fit,
    loader,
    pyplot,
    quiet_trainer,
    save_figure,
    verdict,
)
from ember.tensor import Tensor
from ember.train import EarlyStopping

NAME = "overfitting"
CLAIM = ("L2, dropout, early stopping and data augmentation each reduce the gap between "
         "training and test loss of a large network trained on a small set")
SIZES = {
    "full": {"n_train": 200, "n_val": 400, "hidden": (256, 256), "epochs": 200, "repeats": 3},
    "smoke": {"n_train": 32, "n_val": 32, "hidden": (16,), "epochs": 3, "repeats": 2},
}
RUNS = ("none", "L2", "dropout", "early stopping", "augmentation")
L2, PATIENCE = 1e-3, 10
DROPOUT = (0.2, 0.5)  # on the inputs, on the hidden units (Srivastava et al.'s recipe)
MEASURES = ("train loss", "test loss", "loss gap", "train accuracy", "test accuracy",
            "accuracy gap")


def network(name: str, hidden) -> nn.Sequential:
    """The MLP; for ``dropout``, with dropout on its inputs and after every hidden layer."""
    if name != "dropout":
        return models.mlp(64, hidden, 10)
    layers = list(models.mlp(64, hidden, 10, dropout=DROPOUT[1]))
    return nn.Sequential(layers[0], nn.Dropout(DROPOUT[0]), *layers[1:])


def _split(config: dict):
    """Training, validation and test images: ``n_train`` and ``n_val`` drawn from the
    digits' training part; the test set is everything else (about 1,200 images)."""
    x, y, x_test, y_test = digits_data(flatten=False)
    order = random.generator().permutation(len(x))
    n_train, n_val = config["n_train"], config["n_train"] + config["n_val"]
    train, val, rest = (np.sort(order[:n_train]), np.sort(order[n_train:n_val]),
                        np.sort(order[n_val:]))
    test = (Tensor(np.concatenate([x[rest].numpy(), x_test.numpy()])),
            Tensor(np.concatenate([y[rest].numpy(), y_test.numpy()])))
    return (x[train], y[train]), (x[val], y[val]), test


def _train(name: str, config: dict, split) -> tuple[dict, dict]:
    """Train one network with regulariser ``name``; (its measures, its curves)."""
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = split
    model = network(name, config["hidden"])
    callbacks = ([EarlyStopping("val_loss", patience=PATIENCE, restore_best_weights=True)]
                 if name == "early stopping" else [])
    trainer = quiet_trainer(model, nn.CrossEntropyLoss(),
                            optim.Adam(model.parameters(), lr=1e-3), metrics=["accuracy"],
                            l2=L2 if name == "L2" else 0.0, callbacks=callbacks)
    if name == "augmentation":  # shift each image by up to one pixel, every epoch anew
        shifted = data.ArrayDataset(x_train, y_train, transform=transforms.RandomCrop(8, padding=1))
        train = data.DataLoader(shifted, batch_size=32, shuffle=True)
    else:
        train = loader(x_train, y_train, 32)
    history = fit(trainer, train, loader(x_val, y_val, 512, shuffle=False), config["epochs"])
    on_train = trainer.evaluate(loader(x_train, y_train, 512, shuffle=False))
    on_test = trainer.evaluate(loader(x_test, y_test, 512, shuffle=False))
    measures = {"epochs": len(history["loss"]), "train loss": on_train["loss"],
                "test loss": on_test["loss"], "loss gap": on_test["loss"] - on_train["loss"],
                "train accuracy": on_train["accuracy"], "test accuracy": on_test["accuracy"],
                "accuracy gap": on_train["accuracy"] - on_test["accuracy"]}
    return measures, {k: np.array(history[k]) for k in ("loss", "val_loss", "val_accuracy")}


def run(out: str | os.PathLike, size: str = "full", seed: int = 0) -> Result:
    """Train with each regulariser on ``repeats`` random splits (seeds seed, seed + 1, ...);
    report the means, plot the first split's curves and the mean gaps."""
    config = SIZES[size]
    measured, curves = {name: [] for name in RUNS}, {}
    for repeat in range(config["repeats"]):
        random.manual_seed(seed + repeat)
        split = _split(config)
        for name in RUNS:
            random.manual_seed(seed + repeat)  # the same initial weights and batches
            measures, history = _train(name, config, split)
            measured[name].append(measures)
            if repeat == 0:
                curves[name] = history
    table = []
    for name in RUNS:
        runs = measured[name]
        row = {"regulariser": name, "epochs": float(np.mean([r["epochs"] for r in runs]))}
        row.update({k: float(np.mean([r[k] for r in runs])) for k in MEASURES})
        row["loss gap per split"] = " ".join(f"{r['loss gap']:.3f}" for r in runs)
        table.append(row)

    base, others = table[0], table[1:]
    held = all(row["loss gap"] < base["loss gap"] for row in others)
    narrower = [row["regulariser"] for row in others if row["accuracy gap"] < base["accuracy gap"]]
    finding = (f"averaged over {config['repeats']} splits, the test-minus-train loss gap was "
               f"{base['loss gap']:.3f} without regularisation and "
               + ", ".join(f"{row['loss gap']:.3f} with {row['regulariser']}" for row in others)
               + f"; the accuracy gap ({base['accuracy gap']:.1%} without) narrowed with "
               + (", ".join(narrower) if narrower else "none of them")
               + f", and test accuracy stayed within {min(r['test accuracy'] for r in table):.1%}"
               f"-{max(r['test accuracy'] for r in table):.1%}")
    plot = _plot(curves, table, out, size)
    return Result(NAME, CLAIM, table, verdict(held, finding), held, plot,
                  data={"curves": curves, "per_split": measured}, size=size)


def _plot(curves: dict, table: list[dict], out, size: str):
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for color, (name, curve) in zip(colors, curves.items(), strict=False):
        epochs = np.arange(1, len(curve["loss"]) + 1)
        axes[0].plot(epochs, curve["loss"], ls="--", lw=1, color=color)
        axes[0].plot(epochs, curve["val_loss"], lw=1.5, color=color, label=name)
        axes[1].plot(epochs, curve["val_accuracy"], lw=1.2, color=color, label=name)
    axes[0].set(title="loss: training (dashed), validation (solid); split 1", xlabel="epoch",
                yscale="log")
    axes[1].set(title="validation accuracy", xlabel="epoch")
    names = [row["regulariser"] for row in table]
    positions = np.arange(len(names))
    axes[2].bar(positions - 0.2, [row["loss gap"] for row in table], width=0.4,
                label="test - train loss")
    axes[2].bar(positions + 0.2, [row["accuracy gap"] for row in table], width=0.4,
                label="train - test accuracy")
    axes[2].set_xticks(positions, names, rotation=15)
    axes[2].set(title="final generalisation gap (mean over the splits)")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return save_figure(fig, out, NAME, size)
