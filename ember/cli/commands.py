"""``ember train``, ``ember evaluate`` and ``ember predict``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from ember import data, metrics, nn, random
from ember.autograd.engine import no_grad
from ember.cli import detection, recipes
from ember.data import transforms
from ember.serialization import load
from ember.tensor import Tensor
from ember.train import CSVLogger, EarlyStopping, ModelCheckpoint, Trainer


def train(args) -> int:
    if detection.is_detection(args):
        return detection.train(args)
    random.manual_seed(args.seed)
    started = time.perf_counter()
    defaults = recipes.defaults(args.model, args.dataset)
    epochs = args.epochs or defaults["epochs"]
    batch_size = args.batch_size or defaults["batch_size"]
    augment = args.augment if args.augment is not None else defaults["augment"]
    train_split = recipes.load_split(args.dataset, True, args.data_dir)
    test_split = recipes.load_split(args.dataset, False, args.data_dir)
    size = recipes.model_input_size(args.model, args.dataset)
    mean, std = float(train_split.images.mean()), float(train_split.images.std())
    x = recipes.prepare(train_split.images, size, mean, std).numpy()
    order = random.generator().permutation(len(x))
    n_val = int(round(args.val_fraction * len(x)))
    train_index, val_index = order[n_val:], order[:n_val]
    # augmentation (random shifts) only on the training part, never on validation
    shift = transforms.RandomCrop(size, padding=augment, fill=-mean / std) if augment else None
    train_set = data.ArrayDataset(x[train_index], train_split.labels[train_index],
                                  transform=shift)
    train_loader = data.DataLoader(train_set, batch_size=batch_size, shuffle=True)
    val_loader = None
    if n_val:
        val_set = data.TensorDataset(Tensor._wrap(x[val_index]),
                                     Tensor._wrap(train_split.labels[val_index]))
        val_loader = data.DataLoader(val_set, batch_size=512)

    model = recipes.build_model(args.model, size, len(train_split.classes))
    lr = args.lr if args.lr is not None else recipes.DEFAULT_LR[args.optimizer]
    optimizer = recipes.build_optimizer(args.optimizer, model.parameters(), lr,
                                        args.weight_decay)
    scheduler = recipes.build_scheduler(args.scheduler, optimizer, epochs)
    out = Path(args.out or f"runs/{args.model}-{args.dataset}")
    out.mkdir(parents=True, exist_ok=True)
    # "best" by validation loss: accuracy on a small validation set saturates early
    monitor = "val_loss" if val_loader is not None else "loss"
    callbacks = [ModelCheckpoint(out, monitor=monitor),
                 CSVLogger(out / "history.csv", append=bool(args.resume))]
    if args.patience:
        callbacks.append(EarlyStopping(monitor=monitor, patience=args.patience))
    meta = {"model": args.model, "dataset": args.dataset, "input_size": list(size),
            "normalize": [mean, std], "classes": train_split.classes,
            "command": " ".join(args.argv),
            "recipe": {"epochs": epochs, "batch_size": batch_size, "optimizer": args.optimizer,
                       "lr": lr, "scheduler": args.scheduler, "augment_shift": augment,
                       "weight_decay": args.weight_decay, "seed": args.seed}}
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, metrics=["accuracy"],
                      scheduler=scheduler, callbacks=callbacks,
                      progress=not args.no_progress, meta=meta)
    if args.resume:
        trainer.load_checkpoint(args.resume)
    history = trainer.fit(train_loader, val_loader, epochs=epochs)
    if trainer.stopped_reason:
        raise RuntimeError(trainer.stopped_reason)

    model.load_state_dict(load(out / "best.safetensors")["model"])
    x_test = recipes.prepare(test_split.images, size, mean, std)
    elapsed = time.perf_counter() - started
    report = _report(model, x_test, test_split, history, elapsed, args)
    print(report)
    (out / "report.txt").write_text(report + "\n")
    _plots(history, out, model, x_test, test_split)
    print(f"\nwrote {out}/best.safetensors, last.safetensors, history.csv, report.txt"
          + (", history.png, confusion_matrix.png" if (out / "history.png").exists() else ""))
    return 0


def _predict(model, x: Tensor, batch_size: int = 512) -> np.ndarray:
    model.eval()
    with no_grad():
        return np.concatenate([model(x[i:i + batch_size]).numpy()
                               for i in range(0, len(x), batch_size)])


def _report(model, x_test, split, history, elapsed, args) -> str:
    scores = _predict(model, x_test)
    predicted = scores.argmax(axis=1)
    accuracy = metrics.accuracy(predicted, split.labels)
    matrix = metrics.confusion_matrix(split.labels, predicted,
                                      num_classes=len(split.classes))
    epochs = len(history.get("loss", []))
    lines = [
        f"{args.model} on {args.dataset}: test accuracy {accuracy:.4f} "
        f"({int(round(accuracy * len(predicted)))}/{len(predicted)}) after {epochs} epochs "
        f"in {elapsed:.1f} s",
        "",
        metrics.classification_report(split.labels, predicted, class_names=split.classes),
        "confusion matrix (rows: true class, columns: predicted):",
        _matrix_text(matrix, split.classes),
    ]
    return "\n".join(lines)


def _matrix_text(matrix: np.ndarray, classes: list[str]) -> str:
    width = max(4, max(len(str(v)) for v in matrix.ravel()) + 1)
    label = max(len(c) for c in classes)
    rows = [" " * (label + 1) + "".join(f"{i:>{width}}" for i in range(len(classes)))]
    for name, row in zip(classes, matrix, strict=True):
        rows.append(f"{name:>{label}} " + "".join(f"{v:>{width}}" for v in row))
    return "\n".join(rows)


def _plots(history, out: Path, model, x_test, split) -> None:
    try:
        from ember.train import plots

        plots.plot_history(history, out / "history.png")
        predicted = _predict(model, x_test).argmax(axis=1)
        matrix = metrics.confusion_matrix(split.labels, predicted,
                                          num_classes=len(split.classes))
        plots.plot_confusion_matrix(matrix, out / "confusion_matrix.png", split.classes)
    except ImportError:
        pass  # matplotlib is optional: the numbers are in report.txt


def _restore(path: str):
    checkpoint = load(path)
    meta = checkpoint.get("meta") if isinstance(checkpoint, dict) else None
    if not meta or "model" not in meta:
        raise ValueError(f"{path}: not a checkpoint written by `ember train` "
                         "(it has no model description)")
    size = tuple(meta["input_size"])
    model = recipes.build_model(meta["model"], size, len(meta["classes"]))
    model.load_state_dict(checkpoint["model"])
    return model, meta


def evaluate(args) -> int:
    restored = detection.restore(args.checkpoint)
    if restored is not None:
        return detection.evaluate(args, restored)
    model, meta = _restore(args.checkpoint)
    dataset = args.dataset or meta["dataset"]
    split = recipes.load_split(dataset, False, args.data_dir)
    if recipes.IMAGE_SIZE[dataset] != recipes.IMAGE_SIZE[meta["dataset"]]:
        raise ValueError(f"the checkpoint was trained on {meta['dataset']} "
                         f"{recipes.IMAGE_SIZE[meta['dataset']]} images; {dataset} has "
                         f"{recipes.IMAGE_SIZE[dataset]}")
    mean, std = meta["normalize"]
    x = recipes.prepare(split.images, tuple(meta["input_size"]), mean, std)
    started = time.perf_counter()
    predicted = _predict(model, x).argmax(axis=1)
    accuracy = metrics.accuracy(predicted, split.labels)
    print(f"{meta['model']} ({args.checkpoint}) on the {dataset} test set: accuracy "
          f"{accuracy:.4f} ({int(round(accuracy * len(predicted)))}/{len(predicted)}) in "
          f"{time.perf_counter() - started:.2f} s\n")
    print(metrics.classification_report(split.labels, predicted, class_names=split.classes))
    return 0


def predict(args) -> int:
    if detection.restore(args.checkpoint) is not None:
        raise ValueError(f"{args.checkpoint} is a detection checkpoint: use 'ember detect "
                         f"{args.checkpoint} IMAGE -o OUT.png'")
    model, meta = _restore(args.checkpoint)
    expected = recipes.IMAGE_SIZE[meta["dataset"]]
    images = np.stack([_read_image(path, expected, meta["dataset"]) for path in args.images])
    mean, std = meta["normalize"]
    x = recipes.prepare(images[:, None], tuple(meta["input_size"]), mean, std)
    scores = _predict(model, x)
    probabilities = np.exp(scores - scores.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    results = []
    for path, p in zip(args.images, probabilities, strict=True):
        k = int(p.argmax())
        results.append({"image": path, "class": meta["classes"][k],
                        "probability": round(float(p[k]), 4)})
        if not args.json:
            print(f"{path}: {meta['classes'][k]} (probability {p[k]:.4f})")
    if args.json:
        print(json.dumps(results))
    return 0


def _read_image(path: str, expected: tuple[int, int], dataset: str) -> np.ndarray:
    """A grey image in [0, 1] from a PNG/JPEG/... file or a .npy array."""
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"no image file {path}")
    if file.suffix.lower() == ".npy":
        try:
            image = np.load(file, allow_pickle=False).astype(np.float64)
        except ValueError as error:
            raise ValueError(f"{path}: not a readable .npy array ({error})") from None
        if image.max() > 1.0:
            image = image / (16.0 if dataset == "digits" and image.max() <= 16 else 255.0)
    else:
        try:
            from PIL import Image
        except ImportError:
            raise ImportError('reading image files needs Pillow: pip install "ember[plot]"'
                              ) from None
        try:
            with Image.open(file) as handle:
                image = np.asarray(handle.convert("L"), dtype=np.float64) / 255.0
        except OSError as error:
            raise ValueError(f"{path}: not a readable image ({error})") from None
    if image.ndim == 3 and image.shape[0] == 1:
        image = image[0]
    if image.shape != tuple(expected):
        raise ValueError(f"{path}: the image is {'x'.join(map(str, image.shape))} but the "
                         f"model was trained on {dataset} images of "
                         f"{expected[0]}x{expected[1]} pixels")
    return image.astype(np.float32)
