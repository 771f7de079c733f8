"""Detection on the command line: ``ember train --model yolov1 --dataset shapes``,
``ember evaluate`` of such a checkpoint, and ``ember detect CHECKPOINT IMAGE -o OUT.png``.

The recipe (``RECIPE`` below) trains YOLOv1 with the small backbone (and the paper's
fully connected head) on the bundled shapes dataset: 48 x 48 images with shapes of 8 to
22 pixels, a 6 x 6 grid, 2 boxes per cell, Adam (lr 1e-3, cosine schedule), 30 epochs of
4,000 images. The generator is the dataset: every training batch is freshly drawn (a
stream of its own, seeded by ``--seed``), so the fully connected head, which must learn
every cell's mapping separately, sees 120,000 different images and cannot memorise them;
validation images come from the training split, test images from the test split (fixed).
Each epoch measures the validation mAP@0.5 (the best checkpoint has the highest); at the
end the COCO metrics (``MeanAveragePrecision``) and VOC AP on the test images, a picture
of predictions against the truth, and the precision-recall curves.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from ember import data, datasets, random
from ember.autograd.engine import no_grad
from ember.cli import recipes
from ember.data import DataLoader
from ember.data.dataset import Dataset
from ember.datasets.shapes import generate_shapes
from ember.metrics import MeanAveragePrecision, voc_mean_average_precision
from ember.models.detection import YOLOv1Loss, encode_targets, small_backbone, yolov1
from ember.serialization import load
from ember.tensor import Tensor
from ember.train import CSVLogger, EarlyStopping, ModelCheckpoint, Trainer
from ember.train.callbacks import Callback
from ember.vision.io import read_image, write_image

MODELS = ("yolov1",)
DATASETS = ("shapes",)

#: the shapes recipe: data, model and training defaults
RECIPE = {"image_size": 48, "min_size": 8.0, "max_size": 22.0, "grid": 6,
          "boxes_per_cell": 2, "width": 8, "features": 16, "hidden": 1024, "dropout": 0.0,
          "train_images": 4000, "test_images": 500, "epochs": 30, "batch_size": 32,
          "lr": 1e-3, "conf_threshold": 0.3, "iou_threshold": 0.5}
EVAL_CONF_THRESHOLD = 0.01  # mAP is measured over the whole precision-recall curve


def add_arguments(train) -> None:
    """The detection options of ``ember train``."""
    train.add_argument("--train-images", type=int, default=None, metavar="N",
                       help=f"training images per epoch, drawn fresh each epoch (shapes; "
                            f"default {RECIPE['train_images']})")
    train.add_argument("--test-images", type=int, default=None, metavar="N",
                       help=f"generated test images (shapes; default {RECIPE['test_images']})")


def register(commands) -> None:
    """Add ``ember detect`` to the subcommands."""
    detect = commands.add_parser(
        "detect", help="draw the detections of a detection checkpoint on images",
        description="Run a detection checkpoint (from 'ember train --model yolov1') on image "
                    "files, print the boxes and write the image with the boxes drawn.")
    detect.add_argument("checkpoint")
    detect.add_argument("images", nargs="+", metavar="IMAGE",
                        help="PNG/JPEG files (any size: resized for the model, boxes drawn "
                             "at full size) or .npy arrays (H, W, 3)")
    detect.add_argument("-o", "--output", metavar="OUT",
                        help="the picture to write (a folder when several images are given; "
                             "default IMAGE_detections.png beside each image)")
    detect.add_argument("--conf-threshold", type=float, default=None,
                        help="keep boxes scoring above this (default: the checkpoint's, 0.3)")
    detect.add_argument("--iou-threshold", type=float, default=None,
                        help="non-maximum suppression threshold (default 0.5)")
    detect.add_argument("--json", action="store_true", help="print the detections as JSON")
    detect.set_defaults(handler=detect_command)


def is_detection(args) -> bool:
    return args.model in MODELS or args.dataset in DATASETS


# ---------------------------------------------------------------- data


class _ShapesStream(Dataset):
    """Training data drawn fresh from the shapes generator for every batch: ``len`` images
    an epoch, never the same twice (an endless dataset; the seeds come from ember's
    generator, so a run is repeatable with ``--seed``). Images normalised, targets
    encoded as YOLO grids."""

    def __init__(self, length: int, meta: dict) -> None:
        self.length, self.meta = length, meta

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index):
        x, y = self.fetch_batch(np.array([index]))
        return x[0], y[0]

    def fetch_batch(self, indices: np.ndarray):
        config = self.meta["config"]
        size = config["image_size"]
        seed = int(random.generator().integers(2**31))
        images, targets = generate_shapes(len(indices), size, min_size=config["min_size"],
                                          max_size=config["max_size"], seed=seed, split=2)
        x = _normalise(images, *self.meta["normalize"])
        y = encode_targets(targets, config["grid"], len(self.meta["classes"]), (size, size))
        return [Tensor._wrap(x), y]


def _normalise(images: np.ndarray, mean, std) -> np.ndarray:
    """(N, H, W, 3) uint8 -> (N, 3, H, W) float32, standardised per channel."""
    x = images.transpose(0, 3, 1, 2).astype(np.float32) / 255
    return (x - np.asarray(mean, np.float32)[:, None, None]) / np.asarray(std, np.float32)[
        :, None, None]


def build(meta: dict):
    """The model a checkpoint's ``meta`` describes."""
    config = meta["config"]
    backbone = small_backbone(3, config["width"], config["features"])
    return yolov1(len(meta["classes"]), config["grid"], config["boxes_per_cell"], backbone,
                  hidden=config["hidden"], dropout=config["dropout"])


class _ValidationMAP(Callback):
    """After each epoch: the validation mAP@0.5 (COCO's, 101 points), logged as
    ``val_map50`` before the checkpoint callback reads it."""

    def __init__(self, x: np.ndarray, targets: list[dict], meta: dict) -> None:
        self.x, self.targets, self.meta = x, targets, meta

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        preds = _predict(trainer.model, self.x, self.meta, EVAL_CONF_THRESHOLD)
        metric = MeanAveragePrecision(iou_thresholds=[0.5])
        metric.update(preds, self.targets)
        logs["val_map50"] = float(metric.compute()["map"])
        trainer.history.setdefault("val_map50", []).append(logs["val_map50"])


def _predict(model, x: np.ndarray, meta: dict, conf_threshold: float,
             batch_size: int = 250) -> list[dict]:
    size = meta["config"]["image_size"]
    was_training = model.training
    model.eval()
    out = []
    with no_grad():
        for i in range(0, len(x), batch_size):
            output = model(Tensor._wrap(x[i:i + batch_size]))
            out += model.decode(output, (size, size), conf_threshold,
                                meta["config"]["iou_threshold"])
    model.train(was_training)
    return out


# ---------------------------------------------------------------- ember train


def train(args) -> int:
    if args.model not in MODELS or args.dataset not in DATASETS:
        raise ValueError(f"--model {args.model} and --dataset {args.dataset} do not go "
                         f"together: detection trains {', '.join(MODELS)} on "
                         f"{', '.join(DATASETS)}; classification trains "
                         f"{', '.join(recipes.MODELS)} on {', '.join(recipes.DATASETS)}")
    random.manual_seed(args.seed)
    started = time.perf_counter()
    config = dict(RECIPE)
    for key in ("train_images", "test_images", "epochs", "batch_size", "lr"):
        if getattr(args, key, None) is not None:
            config[key] = getattr(args, key)
    config["val_images"] = int(round(args.val_fraction * config["train_images"]))
    size, grid = config["image_size"], config["grid"]
    shape_options = {"image_size": size, "min_size": config["min_size"],
                     "max_size": config["max_size"], "seed": args.seed}
    # validation: fixed images of the training split; test: the test split; training:
    # fresh images every batch from a third stream (see _ShapesStream)
    val_set = datasets.shapes(True, max(config["val_images"], 1), **shape_options)
    test_set = datasets.shapes(False, config["test_images"], **shape_options)
    classes = list(test_set.classes)
    pixels = val_set.images.reshape(-1, 3) / 255.0
    mean, std = pixels.mean(axis=0).tolist(), pixels.std(axis=0).tolist()
    n_val = config["val_images"]
    x_val = _normalise(val_set.images, mean, std)
    y_val = encode_targets(val_set.targets, grid, len(classes), (size, size))
    meta = {"model": args.model, "dataset": args.dataset, "task": "detection",
            "classes": classes, "normalize": [mean, std], "config": config,
            "command": " ".join(args.argv),
            "recipe": {"epochs": config["epochs"], "batch_size": config["batch_size"],
                       "optimizer": args.optimizer, "lr": config["lr"],
                       "scheduler": args.scheduler, "seed": args.seed}}
    loader = DataLoader(_ShapesStream(config["train_images"], meta),
                        batch_size=config["batch_size"], shuffle=True)
    val_loader = None
    if n_val:
        val_loader = DataLoader(data.TensorDataset(Tensor._wrap(x_val), y_val), batch_size=250)
    model = build(meta)
    loss_fn = YOLOv1Loss(len(classes), config["boxes_per_cell"])
    optimizer = recipes.build_optimizer(args.optimizer, model.parameters(), config["lr"],
                                        args.weight_decay)
    steps = len(loader) * config["epochs"]
    scheduler, interval = _scheduler(args.scheduler, optimizer, config["epochs"], steps)
    out = Path(args.out or f"runs/{args.model}-{args.dataset}")
    out.mkdir(parents=True, exist_ok=True)
    callbacks = []
    if n_val:
        callbacks.append(_ValidationMAP(x_val, [val_set.target(i) for i in range(n_val)],
                                        meta))
    monitor, mode = ("val_map50", "max") if n_val else ("loss", "min")
    callbacks += [ModelCheckpoint(out, monitor=monitor, mode=mode),
                  CSVLogger(out / "history.csv", append=bool(args.resume))]
    if args.patience:
        callbacks.append(EarlyStopping(monitor=monitor, mode=mode, patience=args.patience))
    trainer = Trainer(model, loss_fn, optimizer, scheduler=scheduler,
                      scheduler_interval=interval, callbacks=callbacks,
                      progress=not args.no_progress, meta=meta)
    if args.resume:
        trainer.load_checkpoint(args.resume)
    history = trainer.fit(loader, val_loader, epochs=config["epochs"])
    if trainer.stopped_reason:
        raise RuntimeError(trainer.stopped_reason)
    model.load_state_dict(load(out / "best.safetensors")["model"])
    x_test = _normalise(test_set.images, mean, std)
    targets = [test_set.target(i) for i in range(len(test_set))]
    epochs = len(history.get("loss", []))
    report, preds = _evaluation(model, x_test, targets, meta, f" after {epochs} epochs in "
                                f"{time.perf_counter() - started:.1f} s")
    print(report)
    (out / "report.txt").write_text(report + "\n")
    written = ["best.safetensors", "last.safetensors", "history.csv", "report.txt"]
    written += _plots(history, out, test_set, preds, meta, x_test)
    print(f"\nwrote {out}/" + ", ".join(written))
    return 0


def _scheduler(name: str, optimizer, epochs: int, steps: int):
    """(scheduler, interval): one-cycle is stepped every batch here; the others, as for
    classification, every epoch."""
    if name == "onecycle":
        from ember.optim.lr_scheduler import OneCycleLR

        return OneCycleLR(optimizer, max_lr=optimizer.param_groups[0]["lr"],
                          total_steps=max(steps, 1)), "step"
    return recipes.build_scheduler(name, optimizer, epochs), "epoch"


def _evaluation(model, x: np.ndarray, targets: list[dict], meta: dict,
                how: str) -> tuple[str, list[dict]]:
    """The report of the test set (``how``: what the headline adds, e.g. the training
    time) and the detections it measured."""
    preds = _predict(model, x, meta, EVAL_CONF_THRESHOLD)
    metric = MeanAveragePrecision(class_metrics=True)
    metric.update(preds, targets)
    result = metric.compute()
    voc = voc_mean_average_precision(preds, targets, 0.5, "all")
    voc07 = voc_mean_average_precision(preds, targets, 0.5, "11point")
    classes = meta["classes"]
    lines = [f"{meta['model']} on {meta['dataset']}: test mAP@0.5 {float(result['map_50']):.4f}"
             f", mAP@[.5:.95] {float(result['map']):.4f} on {len(x)} images{how}", "",
             "COCO metrics (pycocotools' definitions, 101-point interpolation):"]
    for key in ("map", "map_50", "map_75", "map_small", "map_medium", "map_large", "mar_1",
                "mar_10", "mar_100"):
        lines.append(f"  {key:<11} {float(result[key]):7.4f}")
    lines += ["", f"{'class':<12} {'AP@[.5:.95]':>11} {'AR@100':>8} {'VOC AP@.5':>10} "
                  f"{'VOC07 AP':>9}"]
    per_class = np.atleast_1d(result["map_per_class"].numpy())
    recall = np.atleast_1d(result["mar_100_per_class"].numpy())
    for k, c in enumerate(np.atleast_1d(result["classes"].numpy()).tolist()):
        name = classes[c] if c < len(classes) else str(c)
        lines.append(f"{name:<12} {per_class[k]:11.4f} {recall[k]:8.4f} "
                     f"{voc['ap_per_class'].get(c, -1):10.4f} "
                     f"{voc07['ap_per_class'].get(c, -1):9.4f}")
    lines.append(f"{'mean':<12} {float(result['map']):11.4f} {float(result['mar_100']):8.4f} "
                 f"{voc['map']:10.4f} {voc07['map']:9.4f}")
    return "\n".join(lines), preds


def _plots(history, out: Path, test_set, preds, meta, x_test) -> list[str]:
    try:
        from ember.train import plots
    except ImportError:
        return []
    try:
        plots.plot_history(history, out / "history.png")
        metric = MeanAveragePrecision()
        metric.update(preds, [test_set.target(i) for i in range(len(test_set))])
        metric.plot_precision_recall(out / "precision_recall.png", 0.5, meta["classes"])
        shown = _predict_for_picture(preds, meta)
        plot_detections(test_set, shown, out / "predictions.png", meta["classes"])
    except ImportError:
        return []  # matplotlib/Pillow are optional: the numbers are in report.txt
    return ["history.png", "precision_recall.png", "predictions.png"]


def _predict_for_picture(preds: list[dict], meta: dict) -> list[dict]:
    """The detections above the drawing threshold."""
    threshold = meta["config"]["conf_threshold"]
    out = []
    for p in preds:
        keep = p["scores"].numpy() > threshold
        out.append({k: Tensor._wrap(v.numpy()[keep]) for k, v in p.items()})
    return out


def plot_detections(dataset, preds: list[dict], path: Path, classes: list[str],
                    count: int = 16, scale: int = 4) -> None:
    """A grid of the first ``count`` images: predictions solid (class and score), the
    truth dashed."""
    from ember.train.plots import _pyplot
    from ember.vision.draw import draw_bounding_boxes

    plt = _pyplot()
    count = min(count, len(dataset))
    columns = 4
    rows = -(-count // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3 * columns, 3 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i in range(count):
        image = np.repeat(np.repeat(dataset.images[i], scale, 0), scale, 1).transpose(2, 0, 1)
        truth = dataset.targets[i]
        drawn = draw_bounding_boxes(image, truth["boxes"] * scale, colors="white", dashed=True)
        labels = [f"{classes[c]} {s:.2f}" for c, s in zip(preds[i]["labels"].tolist(),
                                                         preds[i]["scores"].tolist(),
                                                         strict=True)]
        drawn = draw_bounding_boxes(drawn, preds[i]["boxes"].numpy() * scale, labels,
                                    colors=[_class_colour(c) for c in preds[i]["labels"].tolist()],
                                    width=2)
        axes.ravel()[i].imshow(drawn.numpy().transpose(1, 2, 0))
    fig.suptitle("predictions (solid, class and score) and ground truth (dashed)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _class_colour(label: int) -> str:
    from ember.vision.draw import PALETTE

    return PALETTE[label % len(PALETTE)]


# ---------------------------------------------------------------- evaluate, detect


def restore(path: str):
    """(model, meta) of a detection checkpoint, or None if it is not one."""
    checkpoint = load(path)
    meta = checkpoint.get("meta") if isinstance(checkpoint, dict) else None
    if not meta or meta.get("task") != "detection":
        return None
    model = build(meta)
    model.load_state_dict(checkpoint["model"])
    model.eval()
    return model, meta


def evaluate(args, restored) -> int:
    model, meta = restored
    dataset = args.dataset or meta["dataset"]
    if dataset not in DATASETS:
        raise ValueError(f"a detection checkpoint is evaluated on {', '.join(DATASETS)}, "
                         f"not {dataset}")
    config = meta["config"]
    seed = meta["recipe"]["seed"]
    test_set = datasets.shapes(False, config["test_images"], config["image_size"],
                               min_size=config["min_size"], max_size=config["max_size"],
                               seed=seed)
    x = _normalise(test_set.images, *meta["normalize"])
    started = time.perf_counter()
    targets = [test_set.target(i) for i in range(len(test_set))]
    report, _ = _evaluation(model, x, targets, meta, "")
    print(f"{args.checkpoint} ({time.perf_counter() - started:.1f} s):\n{report}")
    return 0


def detect_command(args) -> int:
    restored = restore(args.checkpoint)
    if restored is None:
        raise ValueError(f"{args.checkpoint}: not a detection checkpoint (train one with "
                         "'ember train --model yolov1 --dataset shapes')")
    model, meta = restored
    config = meta["config"]
    conf = config["conf_threshold"] if args.conf_threshold is None else args.conf_threshold
    iou = config["iou_threshold"] if args.iou_threshold is None else args.iou_threshold
    if len(args.images) > 1 and args.output and Path(args.output).suffix:
        raise ValueError(f"-o {args.output}: give a folder when detecting on "
                         f"{len(args.images)} images")
    results = []
    for path in args.images:
        image = _read(path)
        detections = _detect(model, image, meta, conf, iou)
        target = _output_path(path, args.output, len(args.images))
        _draw(image, detections, meta["classes"], target)
        found = [{"class": meta["classes"][c], "score": round(s, 4),
                  "box": [round(v, 1) for v in box]}
                 for box, s, c in zip(detections["boxes"].tolist(),
                                      detections["scores"].tolist(),
                                      detections["labels"].tolist(), strict=True)]
        results.append({"image": path, "output": str(target), "detections": found})
        if not args.json:
            print(f"{path}: {len(found)} detection{'s' if len(found) != 1 else ''} -> {target}")
            for d in found:
                print(f"  {d['class']:<10} {d['score']:.3f}  box {d['box']}")
    if args.json:
        print(json.dumps(results))
    return 0


def _read(path: str) -> np.ndarray:
    """An (H, W, 3) uint8 image from a PNG/JPEG file or a .npy array."""
    file = Path(path)
    if file.suffix.lower() == ".npy":
        if not file.is_file():
            raise FileNotFoundError(f"no such file: {path}")
        try:
            image = np.load(file, allow_pickle=False)
        except ValueError as error:
            raise ValueError(f"{path}: not a readable .npy array ({error})") from None
        if image.ndim == 3 and image.shape[0] == 3 and image.shape[-1] != 3:
            image = image.transpose(1, 2, 0)
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        if image.ndim != 3 or image.shape[-1] != 3:
            raise ValueError(f"{path}: expected an (H, W, 3) image, got shape {image.shape}")
        if image.dtype.kind == "f":
            image = np.clip(np.round(image * (255 if image.max() <= 1 else 1)), 0, 255)
        return image.astype(np.uint8)
    return read_image(path, mode="rgb")


def _detect(model, image: np.ndarray, meta: dict, conf: float, iou: float) -> dict:
    """Detections on ``image`` at its own size (resized for the model, boxes scaled back)."""
    from PIL import Image

    size = meta["config"]["image_size"]
    height, width = image.shape[:2]
    small = image if (height, width) == (size, size) else np.asarray(
        Image.fromarray(image).resize((size, size), Image.BILINEAR))
    x = _normalise(small[None], *meta["normalize"])
    with no_grad():
        output = model(Tensor._wrap(x))
    found = model.decode(output, (size, size), conf, iou)[0]
    scale = np.array([width / size, height / size] * 2, dtype=np.float32)
    found["boxes"] = Tensor._wrap(found["boxes"].numpy() * scale)
    return found


def _output_path(image: str, output: str | None, count: int) -> Path:
    source = Path(image)
    if output is None:
        return source.with_name(f"{source.stem}_detections.png")
    target = Path(output)
    if count > 1 or target.is_dir() or not target.suffix:
        target.mkdir(parents=True, exist_ok=True)
        return target / f"{source.stem}_detections.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def _draw(image: np.ndarray, detections: dict, classes: list[str], path: Path) -> None:
    from ember.vision.draw import draw_bounding_boxes

    width = max(1, round(max(image.shape[:2]) / 200))
    labels = [f"{classes[c]} {s:.2f}" for c, s in zip(detections["labels"].tolist(),
                                                     detections["scores"].tolist(),
                                                     strict=True)]
    drawn = draw_bounding_boxes(image.transpose(2, 0, 1), detections["boxes"], labels,
                                colors=[_class_colour(c) for c in detections["labels"].tolist()],
                                width=width)
    write_image(path, drawn)
