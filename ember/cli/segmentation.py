"""Segmentation on the command line: ``ember train --model unet --dataset shapes-seg``,
``ember evaluate`` of its checkpoints and ``ember segment CHECKPOINT IMAGE -o OUT.png``.

    ember train --model unet --dataset shapes-seg      # report, checkpoints, overlays.png
    ember segment runs/unet-shapes-seg/best.safetensors photo.png -o mask.png \\
        --overlay overlay.png
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ember import data, nn, random
from ember.autograd.engine import no_grad
from ember.cli import recipes
from ember.metrics.segmentation import SegmentationMetrics
from ember.serialization import load
from ember.tensor import Tensor
from ember.train import CSVLogger, EarlyStopping, ModelCheckpoint, Trainer

__all__ = ["register", "train", "evaluate", "segment", "is_segmentation_checkpoint"]

BOUNDARY_TOLERANCE = 2  # pixels, for the boundary F1 of the report


def register(commands) -> None:
    """Add ``ember segment`` to the ``ember`` command's subparsers."""
    parser = commands.add_parser(
        "segment", help="label every pixel of an image with a segmentation checkpoint",
        description="Run a segmentation model trained by `ember train` (e.g. --model unet "
                    "--dataset shapes-seg) on an image; write its class-index mask as a "
                    "palette PNG (values are class indices, shown in the classes' colours).")
    parser.add_argument("checkpoint")
    parser.add_argument("image", metavar="IMAGE", help="a PNG/JPEG file or a .npy array")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.png",
                        help="where to write the mask (palette PNG of class indices)")
    parser.add_argument("--overlay", metavar="PATH",
                        help="also write the image with the mask's colours blended over it")
    parser.set_defaults(handler=segment)


def _meta(checkpoint, path) -> dict:
    meta = checkpoint.get("meta") if isinstance(checkpoint, dict) else None
    if not meta or "model" not in meta:
        raise ValueError(f"{path}: not a checkpoint written by `ember train` "
                         "(it has no model description)")
    return meta


def is_segmentation_checkpoint(path: str) -> bool:
    """Whether ``path`` holds a segmentation model written by ``ember train``."""
    checkpoint = load(path)
    return isinstance(checkpoint, dict) and (checkpoint.get("meta") or {}).get("task") \
        == "segmentation"


def _restore(path: str):
    checkpoint = load(path)
    meta = _meta(checkpoint, path)
    if meta.get("task") != "segmentation":
        raise ValueError(f"{path} holds a classifier ({meta['model']}), not a segmentation "
                         "model: use `ember predict`")
    options = meta["model_options"]
    model = recipes.build_segmentation_model(meta["model"], options["in_channels"],
                                             len(meta["classes"]), options["base_channels"],
                                             options["depth"])
    model.load_state_dict(checkpoint["model"])
    return model.eval(), meta


def _standardize(images: np.ndarray, mean, std) -> np.ndarray:
    mean = np.asarray(mean, dtype=np.float32)[:, None, None]
    std = np.asarray(std, dtype=np.float32)[:, None, None]
    return ((images - mean) / std).astype(np.float32)


def _predict(model, x: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Class indices (N, H, W) for standardized images (N, C, H, W)."""
    model.eval()
    labels = []
    with no_grad():
        for i in range(0, len(x), batch_size):
            scores = model(Tensor._wrap(x[i:i + batch_size]))
            labels.append(scores.numpy().argmax(axis=1))
    return np.concatenate(labels)


def _choose_model(args) -> str:
    """``ember train --dataset shapes-seg`` without --model trains a U-Net."""
    model = args.model
    if model == "mlp" and "--model" not in getattr(args, "argv", []):
        model = "unet"
    if model not in recipes.SEGMENTATION_MODELS:
        raise ValueError(f"--model {model} cannot segment images; with --dataset "
                         f"{args.dataset} choose from {', '.join(recipes.SEGMENTATION_MODELS)}")
    if args.dataset not in recipes.SEGMENTATION_DATASETS:
        raise ValueError(f"--model {model} needs a segmentation dataset (per-pixel labels): "
                         f"{', '.join(recipes.SEGMENTATION_DATASETS)}; got {args.dataset}")
    return model


def train(args) -> int:
    """Train a U-Net (or UNet++) with cross-entropy + Dice; report the test set's mean
    IoU, per-class IoU, Dice and boundary F1; write checkpoints, history and overlays."""
    model_name = _choose_model(args)
    if args.augment:
        raise ValueError("--augment (random shifts of the image alone) is for classifiers; "
                         "a mask would have to move with its image")
    random.manual_seed(args.seed)
    started = time.perf_counter()
    config = recipes.segmentation_defaults(model_name, args.dataset)
    epochs = args.epochs or config["epochs"]
    batch_size = args.batch_size or config["batch_size"]
    lr = args.lr if args.lr is not None else (
        config["lr"] if args.optimizer == "adam" else recipes.DEFAULT_LR[args.optimizer])
    train_split = recipes.load_segmentation_split(args.dataset, True, config)
    test_split = recipes.load_segmentation_split(args.dataset, False, config)
    images, masks = train_split.data.numpy(), train_split.targets.numpy()
    mean = images.mean(axis=(0, 2, 3)).tolist()
    std = images.std(axis=(0, 2, 3)).tolist()
    x = _standardize(images, mean, std)
    order = random.generator().permutation(len(x))
    n_val = int(round(args.val_fraction * len(x)))
    train_index, val_index = order[n_val:], order[:n_val]
    train_loader = data.DataLoader(data.ArrayDataset(x[train_index], masks[train_index]),
                                   batch_size=batch_size, shuffle=True)
    val_loader = None
    if n_val:
        val_loader = data.DataLoader(data.ArrayDataset(x[val_index], masks[val_index]),
                                     batch_size=64)

    classes = list(train_split.classes)
    options = {"in_channels": int(x.shape[1]), "base_channels": config["base_channels"],
               "depth": config["depth"]}
    model = recipes.build_segmentation_model(model_name, options["in_channels"], len(classes),
                                             options["base_channels"], options["depth"])
    optimizer = recipes.build_optimizer(args.optimizer, model.parameters(), lr,
                                        args.weight_decay)
    scheduler = recipes.build_scheduler(args.scheduler, optimizer, epochs)
    out = Path(args.out or f"runs/{model_name}-{args.dataset}")
    out.mkdir(parents=True, exist_ok=True)
    monitor = "val_loss" if val_loader is not None else "loss"
    callbacks = [ModelCheckpoint(out, monitor=monitor),
                 CSVLogger(out / "history.csv", append=bool(args.resume))]
    if args.patience:
        callbacks.append(EarlyStopping(monitor=monitor, patience=args.patience))
    meta = {"task": "segmentation", "model": model_name, "dataset": args.dataset,
            "classes": classes, "normalize": [mean, std], "model_options": options,
            "image_size": list(x.shape[-2:]), "command": " ".join(args.argv),
            "recipe": {"epochs": epochs, "batch_size": batch_size, "optimizer": args.optimizer,
                       "lr": lr, "scheduler": args.scheduler,
                       "weight_decay": args.weight_decay, "seed": args.seed,
                       "n_train": config["n_train"],
                       "loss": "cross-entropy + batch Dice, on each output"}}
    # cross-entropy + Dice (which counts each class's overlap equally, the small shapes as
    # much as the background; over the whole batch, so that the many images without a
    # triangle do not each push its predictions to zero); one such loss per output: UNet++
    # trains every depth
    loss = nn.DeepSupervisionLoss(nn.CombinedLoss(
        nn.CrossEntropyLoss(), nn.DiceLoss(from_logits=True, batch=True)))
    trainer = Trainer(model, loss, optimizer,
                      metrics=["mean_iou", "pixel_accuracy"], scheduler=scheduler,
                      callbacks=callbacks, progress=not args.no_progress, meta=meta)
    if args.resume:
        trainer.load_checkpoint(args.resume)
    history = trainer.fit(train_loader, val_loader, epochs=epochs)
    if trainer.stopped_reason:
        raise RuntimeError(trainer.stopped_reason)
    train_seconds = float(sum(history.get("time", [])))

    model.load_state_dict(load(out / "best.safetensors")["model"])
    x_test = _standardize(test_split.data.numpy(), mean, std)
    truth = test_split.targets.numpy()
    predicted = _predict(model, x_test)
    elapsed = time.perf_counter() - started
    header = (f"{model_name} on {args.dataset}: test mean IoU {{miou:.4f}}, pixel accuracy "
              f"{{accuracy:.4f}} on {len(truth)} images after {len(history.get('loss', []))} "
              f"epochs ({train_seconds:.1f} s training, {elapsed:.1f} s in all)")
    report = _report(header, predicted, truth, classes)
    print(report)
    (out / "report.txt").write_text(report + "\n")
    written = _plots(history, out, test_split.data.numpy()[:6], truth[:6], predicted[:6],
                     classes, model_name)
    print(f"\nwrote {out}/best.safetensors, last.safetensors, history.csv, report.txt"
          + "".join(f", {name}" for name in written))
    return 0


def _report(header: str, predicted: np.ndarray, truth: np.ndarray, classes: list) -> str:
    metrics = SegmentationMetrics(len(classes), boundary_tolerance=BOUNDARY_TOLERANCE)
    metrics.update(predicted, truth)
    result = metrics.compute()
    support = metrics.matrix.sum(axis=1)
    width = max(len(c) for c in ["class", *classes])
    lines = [header.format(miou=result["mean_iou"], accuracy=result["pixel_accuracy"]), "",
             f"{'class':>{width}}  {'IoU':>6}  {'Dice':>6}  {'BF@' + str(BOUNDARY_TOLERANCE):>6}"
             f"  {'pixels':>8}"]
    for i, name in enumerate(classes):
        lines.append(f"{name:>{width}}  {result['iou'][i]:6.4f}  {result['dice'][i]:6.4f}  "
                     f"{result['boundary_f1'][i]:6.4f}  {support[i]:8d}")
    lines.append(f"{'mean':>{width}}  {result['mean_iou']:6.4f}  {result['mean_dice']:6.4f}  "
                 f"{result['mean_boundary_f1']:6.4f}  {support.sum():8d}")
    lines.append(f"(BF@{BOUNDARY_TOLERANCE}: boundary F1, predicted edges within "
                 f"{BOUNDARY_TOLERANCE} pixels of the true ones)")
    return "\n".join(lines)


def _plots(history, out: Path, images, truths, predictions, classes, name) -> list[str]:
    try:
        from ember.train import plots, segmentation_plots

        plots.plot_history(history, out / "history.png")
        segmentation_plots.plot_overlays(images, truths, predictions, out / "overlays.png",
                                         classes, title=f"{name}: test images")
    except ImportError:
        return []  # matplotlib is optional: the numbers are in report.txt
    return ["history.png", "overlays.png"]


def evaluate(args) -> int:
    """``ember evaluate CHECKPOINT`` for a segmentation checkpoint: the test report."""
    model, meta = _restore(args.checkpoint)
    dataset = args.dataset or meta["dataset"]
    config = recipes.segmentation_defaults(meta["model"], dataset)
    config["image_size"] = meta.get("image_size", [config["image_size"]])[0]
    split = recipes.load_segmentation_split(dataset, False, config)
    started = time.perf_counter()
    predicted = _predict(model, _standardize(split.data.numpy(), *meta["normalize"]))
    header = (f"{meta['model']} ({args.checkpoint}) on the {dataset} test set: mean IoU "
              f"{{miou:.4f}}, pixel accuracy {{accuracy:.4f}} on {len(predicted)} images in "
              f"{time.perf_counter() - started:.2f} s")
    print(_report(header, predicted, split.targets.numpy(), list(meta["classes"])))
    return 0


def segment(args) -> int:
    """``ember segment CHECKPOINT IMAGE -o OUT.png [--overlay PATH]``."""
    model, meta = _restore(args.checkpoint)
    from ember.datasets.segmentation_folder import read_image

    path = Path(args.image)
    if not path.is_file():
        raise FileNotFoundError(f"no image file {args.image}")
    channels = meta["model_options"]["in_channels"]
    image = read_image(path, "RGB" if channels == 3 else "L")
    if image.shape[0] != channels:
        raise ValueError(f"{args.image}: the image has {image.shape[0]} channel(s); the model "
                         f"was trained on {channels}")
    mask = _predict(model, _standardize(image[None], *meta["normalize"]))[0]
    classes = list(meta["classes"])
    _write_mask(mask, args.output, len(classes))
    shares = np.bincount(mask.ravel(), minlength=len(classes)) / mask.size
    print(f"wrote {args.output} ({mask.shape[0]}x{mask.shape[1]} class indices as a palette "
          "PNG): " + ", ".join(f"{name} {share:.1%}" for name, share in
                               zip(classes, shares, strict=True)))
    if args.overlay:
        from ember.train.segmentation_plots import overlay

        _pillow().fromarray(overlay(image, mask, num_classes=len(classes))).save(args.overlay)
        print(f"wrote {args.overlay} (the mask's colours over the image)")
    return 0


def _pillow():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError('writing PNG files needs Pillow: pip install "ember[plot]"') from None
    return Image


def _write_mask(mask: np.ndarray, path: str, num_classes: int) -> None:
    """A palette ("P") PNG: pixel values are the class indices, shown in their colours."""
    from ember.train.segmentation_plots import palette

    if num_classes > 256:
        raise ValueError(f"a PNG palette holds 256 classes; the model has {num_classes}")
    picture = _pillow().fromarray(mask.astype(np.uint8))  # mode "L" ...
    picture.putpalette(palette(256).ravel().tolist())  # ... becomes "P", values unchanged
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    picture.save(path)
