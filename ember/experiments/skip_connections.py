"""Skip connections in segmentation: U-Net's concatenated skips against FCN-style additive
skips and no skips at all.

An encoder-decoder pools the image down to a coarse map that knows *what* is there, then
upsamples it back to every pixel; but pooling has thrown away *where* exactly the edges
were, and the decoder can only guess them. Skip connections hand the encoder's
full-resolution maps to the decoder. FCN (Long et al., 2015) *adds* them to the
upsampled maps; U-Net (Ronneberger et al., 2015) *concatenates* them, so the following
convolutions learn how to mix "what" and "where".

Three networks, identical but for the skips (``unet(..., skip="concat" | "add" |
"none")``), are trained with the same seed, data, loss (cross-entropy + Dice) and
schedule on the shapes segmentation set, and compared on the test images by mean IoU
and by boundary F1 (the share of predicted edge pixels within 1 pixel of a true edge,
and vice versa), which is where the lost detail shows.

References: O. Ronneberger, P. Fischer, T. Brox, "U-Net: Convolutional Networks for
Biomedical Image Segmentation" (MICCAI 2015); J. Long, E. Shelhamer, T. Darrell, "Fully
Convolutional Networks for Semantic Segmentation" (CVPR 2015); G. Csurka et al., "What is
a good evaluation measure for semantic segmentation?" (BMVC 2013).
"""

from __future__ import annotations

import os
import time

import numpy as np

from ember import data, datasets, nn, optim, random
from ember.autograd.engine import no_grad
from ember.experiments.common import Result, fit, pyplot, quiet_trainer, save_figure, verdict
from ember.metrics.segmentation import SegmentationMetrics
from ember.models.segmentation import unet
from ember.tensor import Tensor

NAME = "skip_connections"
CLAIM = ("skip connections restore the detail that pooling loses: U-Net's concatenated "
         "skips segment with a higher mean IoU and sharper boundaries than no skips, and at "
         "least as well as FCN-style additive skips")
SIZES = {
    "full": {"n_train": 400, "n_test": 100, "size": 48, "base_channels": 8, "depth": 3,
             "epochs": 8, "batch_size": 16, "lr": 4e-3},
    "smoke": {"n_train": 12, "n_test": 4, "size": 16, "base_channels": 2, "depth": 2,
              "epochs": 1, "batch_size": 6, "lr": 4e-3},
}
SKIPS = ("concat", "add", "none")
LABELS = {"concat": "U-Net (concatenate)", "add": "FCN-style (add)", "none": "no skips"}
TOLERANCE = 1  # pixels, for the boundary F1
MARGIN = 0.01  # "at least as well": within this much mean IoU


def run(out: str | os.PathLike, size: str = "full", seed: int = 0) -> Result:
    """Train the three networks; compare mean IoU and boundary F1 on the test images."""
    config = SIZES[size]
    random.manual_seed(seed)
    train = datasets.shapes_seg(n=config["n_train"], size=config["size"], seed=seed)
    test = datasets.shapes_seg(train=False, n=config["n_test"], size=config["size"], seed=seed)
    images = train.data.numpy()
    mean = images.mean(axis=(0, 2, 3))[:, None, None]
    std = images.std(axis=(0, 2, 3))[:, None, None]
    x_train = ((images - mean) / std).astype(np.float32)
    x_test = ((test.data.numpy() - mean) / std).astype(np.float32)
    truth = test.targets.numpy()
    classes = train.classes

    table, predictions, curves = [], {}, {}
    for skip in SKIPS:
        random.manual_seed(seed)  # the same initial encoder weights and batches
        model = unet(3, len(classes), base_channels=config["base_channels"],
                     depth=config["depth"], skip=skip)
        optimizer = optim.Adam(model.parameters(), lr=config["lr"])
        scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config["epochs"])
        loss = nn.CombinedLoss(nn.CrossEntropyLoss(), nn.DiceLoss(from_logits=True, batch=True))
        trainer = quiet_trainer(model, loss, optimizer, scheduler=scheduler)
        loader = data.DataLoader(data.ArrayDataset(x_train, train.targets.numpy()),
                                 batch_size=config["batch_size"], shuffle=True)
        started = time.perf_counter()
        history = fit(trainer, loader, epochs=config["epochs"])
        seconds = time.perf_counter() - started
        predicted = _predict(model, x_test)
        metrics = SegmentationMetrics(len(classes), boundary_tolerance=TOLERANCE)
        metrics.update(predicted, truth)
        results = metrics.compute()
        predictions[skip] = predicted
        curves[skip] = np.array(history.get("loss", []), dtype=np.float64)
        table.append({"skips": LABELS[skip],
                      "parameters": sum(p.numel() for p in model.parameters()),
                      "mean IoU": results["mean_iou"],
                      f"boundary F1 (@{TOLERANCE}px)": results["mean_boundary_f1"],
                      "pixel accuracy": results["pixel_accuracy"],
                      "final train loss": curves[skip][-1] if len(curves[skip]) else None,
                      "train (s)": seconds})

    held, finding = _judge(table)
    plot = _plot(table, curves, test.data.numpy(), truth, predictions, classes, out, size)
    return Result(NAME, CLAIM, table, verdict(held, finding), held, plot,
                  data={"train_loss": curves, "predictions": predictions}, size=size)


def _predict(model, x: np.ndarray, batch_size: int = 50) -> np.ndarray:
    model.eval()
    with no_grad():
        return np.concatenate([model(Tensor._wrap(x[i:i + batch_size])).numpy().argmax(1)
                               for i in range(0, len(x), batch_size)])


def _judge(table: list[dict]) -> tuple[bool, str]:
    rows = {row["skips"]: row for row in table}
    bf = f"boundary F1 (@{TOLERANCE}px)"
    concat, add, none = (rows[LABELS[s]] for s in SKIPS)
    held = (concat["mean IoU"] > none["mean IoU"] and concat[bf] > none[bf]
            and concat["mean IoU"] >= add["mean IoU"] - MARGIN)
    finding = (f"mean IoU {concat['mean IoU']:.3f} with concatenated skips, "
               f"{add['mean IoU']:.3f} with additive skips, {none['mean IoU']:.3f} without; "
               f"boundary F1 {concat[bf]:.3f}, {add[bf]:.3f} and {none[bf]:.3f}")
    return held, finding


def _plot(table, curves, images, truth, predictions, classes, out, size: str):
    from ember.train.segmentation_plots import overlay, palette

    plt = pyplot()
    shown = min(3 if size == "full" else 1, len(images))  # smoke runs: a quick drawing
    fig = plt.figure(figsize=(13, 3.2 + 2.4 * shown))
    grid = fig.add_gridspec(1 + shown, 5, height_ratios=[1.3] + [1] * shown)
    bf = f"boundary F1 (@{TOLERANCE}px)"
    names = [row["skips"] for row in table]
    ax = fig.add_subplot(grid[0, :2])
    positions = np.arange(len(table))
    ax.bar(positions - 0.2, [row["mean IoU"] for row in table], 0.4, label="mean IoU")
    ax.bar(positions + 0.2, [row[bf] for row in table], 0.4, label=bf)
    ax.set_xticks(positions, names, fontsize=8)
    ax.set(ylim=(0, 1), title="test set")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, loc="lower right")
    ax = fig.add_subplot(grid[0, 2:4])
    for skip in SKIPS:
        ax.plot(np.arange(1, len(curves[skip]) + 1), curves[skip], marker="o", ms=3,
                label=LABELS[skip])
    ax.set(xlabel="epoch", ylabel="training loss", title="cross-entropy + Dice")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax = fig.add_subplot(grid[0, 4])
    colours = palette(len(classes)) / 255.0
    for i, name in enumerate(classes):
        ax.bar(0, 0, color=colours[i], label=name)
    ax.legend(loc="center", fontsize=9, title="classes")
    ax.axis("off")
    titles = ["image", "truth"] + [LABELS[s] for s in SKIPS]
    for row in range(shown):
        masks = [np.zeros_like(truth[row]), truth[row]] + [predictions[s][row] for s in SKIPS]
        for col, (mask, title) in enumerate(zip(masks, titles, strict=True)):
            ax = fig.add_subplot(grid[1 + row, col])
            ax.imshow(overlay(images[row], mask, alpha=0.6, num_classes=len(classes)),
                      interpolation="nearest")
            ax.axis("off")
            if row == 0:
                ax.set_title(title, fontsize=9)
    return save_figure(fig, out, NAME, size)
