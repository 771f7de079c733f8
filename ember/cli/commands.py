"""``ember train``, ``ember evaluate`` and ``ember predict``."""

from __future__ import annotations

import json
import math
import time
import warnings
from pathlib import Path

import numpy as np

from ember import data, metrics, nn, random
from ember.autograd.engine import no_grad
from ember.cli import detection, distributed, recipes, transfer
from ember.cli import images as images_io
from ember.data import transforms
from ember.serialization import load
from ember.tensor import Tensor
from ember.train import CSVLogger, EarlyStopping, ModelCheckpoint, Trainer


def train(args) -> int:
    if recipes.is_segmentation(args.model, args.dataset):
        from ember.cli import segmentation

        return segmentation.train(args)
    if detection.is_detection(args):
        return detection.train(args)
    rank, world = distributed.join_job()  # (0, 1) unless started by mpiexec/srun
    random.manual_seed(args.seed)
    started = time.perf_counter()
    defaults = recipes.defaults(args.model, args.dataset)
    epochs = args.epochs or defaults["epochs"]
    batch_size = args.batch_size or defaults["batch_size"]
    augment = args.augment if args.augment is not None else defaults["augment"]
    size = recipes.model_input_size(args.model, args.dataset)
    out = Path(args.out or f"runs/{args.model}-{args.dataset}")
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out}: that is a file, not a folder; give a folder for the "
                         "checkpoints, history and plots")
    if augment >= min(size) // 2:
        raise ValueError(f"--augment {augment}: shifts must be smaller than half the "
                         f"{size[0]}x{size[1]} input (at most {min(size) // 2 - 1} pixels)")
    lr = args.lr if args.lr is not None else recipes.DEFAULT_LR[args.optimizer]
    resumed = load(args.resume) if args.resume else None
    if resumed is not None:
        _check_resume(args.resume, resumed, args, lr)
    train_split = recipes.load_split(args.dataset, True, args.data_dir, args.download)
    test_split = recipes.load_split(args.dataset, False, args.data_dir, args.download)
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

    if world > 1:  # each rank its shard, the global batch world x batch_size
        train_loader, val_loader = distributed.loaders(
            train_set, val_loader.dataset if val_loader else None, batch_size, args.seed,
            rank, world)
    model = recipes.build_model(args.model, size, len(train_split.classes))
    if world > 1:
        distributed.seed_rank(args.seed, rank)
    started_from = transfer.apply(args, model)  # --init, --freeze
    if started_from:
        print(started_from)
    optimizer = recipes.build_optimizer(args.optimizer, model.parameters(), lr,
                                        args.weight_decay)
    scheduler = recipes.build_scheduler(args.scheduler, optimizer, epochs)
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
    if world > 1:
        meta["recipe"]["processes"] = world
    if getattr(args, "init", None) or getattr(args, "freeze", "none") != "none":
        meta["recipe"].update(init=args.init, freeze=args.freeze)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, metrics=["accuracy"],
                      scheduler=scheduler, callbacks=callbacks,
                      progress=not args.no_progress, meta=meta)
    if resumed is not None:
        trainer.load_state_dict(resumed)
        if not callbacks[0].best_path.exists():  # resumed into a new folder: its own best
            callbacks[0].best = math.inf
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # a diverging run overflows: the NaN guard reports it, once, below
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="ember.train")
        history = trainer.fit(train_loader, val_loader, epochs=epochs)
    if trainer.stopped_reason:
        last_good = out / "last.safetensors"
        trainer.save_checkpoint(last_good)
        raise RuntimeError(f"{trainer.stopped_reason}; the last good state (before that "
                           f"update) is saved in {last_good}")
    if rank != 0:
        return 0  # rank 0 writes the report and plots
    if world > 1:
        print(f"data-parallel training on {world} processes (MPI), batch size {batch_size} "
              f"per process ({world * batch_size} per step)\n")

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


# what a resumed run must share with the run that wrote the checkpoint
_RESUME_KEYS = (("model", "--model"), ("dataset", "--dataset"))
_RESUME_RECIPE = (("optimizer", "--optimizer"), ("lr", "--lr"),
                  ("weight_decay", "--weight-decay"), ("scheduler", "--scheduler"),
                  ("batch_size", "--batch-size"), ("augment_shift", "--augment"))


def _check_resume(path: str, checkpoint, args, lr: float) -> None:
    """Refuse to resume a checkpoint under a different model, dataset or optimizer."""
    meta = checkpoint.get("meta") if isinstance(checkpoint, dict) else None
    if not meta or "model" not in meta or "recipe" not in meta:
        raise ValueError(f"--resume {path}: not a checkpoint written by `ember train`")
    defaults = recipes.defaults(args.model, args.dataset)
    now = {"model": args.model, "dataset": args.dataset, "optimizer": args.optimizer,
           "lr": lr, "weight_decay": args.weight_decay, "scheduler": args.scheduler,
           "batch_size": args.batch_size or defaults["batch_size"],
           "augment_shift": args.augment if args.augment is not None else defaults["augment"]}
    saved = {key: meta.get(key) for key, _ in _RESUME_KEYS}
    saved.update({key: meta["recipe"].get(key) for key, _ in _RESUME_RECIPE})
    differences = [f"{flag} {saved[key]} (not {now[key]})"
                   for key, flag in _RESUME_KEYS + _RESUME_RECIPE
                   if saved[key] is not None and saved[key] != now[key]]
    if differences:
        raise ValueError(f"--resume {path}: that run was trained with "
                         f"{', '.join(differences)}; resume with the same settings, or "
                         "start a new run without --resume")


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
        _class_report(split.labels, predicted, split.classes),
        "confusion matrix (rows: true class, columns: predicted):",
        _matrix_text(matrix, split.classes),
    ]
    return "\n".join(lines)


def _class_report(labels: np.ndarray, predicted: np.ndarray, classes: list[str]) -> str:
    """The per-class report; classes the model never predicted are named below it
    (their precision, 0/0, is shown as 0) instead of warning about them."""
    report = metrics.classification_report(labels, predicted, class_names=classes,
                                           zero_division=0)
    never = [name for k, name in enumerate(classes) if not np.any(predicted == k)]
    if never:
        report += (f"never predicted (precision shown as 0): {', '.join(never)}\n")
    return report


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
    if meta.get("task") == "segmentation":
        raise ValueError(f"{path} holds a segmentation model ({meta['model']}): label "
                         "the pixels of an image with `ember segment CHECKPOINT IMAGE -o "
                         "OUT.png`")
    size = tuple(meta["input_size"])
    model = recipes.build_model(meta["model"], size, len(meta["classes"]),
                                **meta.get("architecture", {}))
    model.load_state_dict(checkpoint["model"])
    return model, meta


def evaluate(args) -> int:
    from ember.cli import segmentation

    if segmentation.is_segmentation_checkpoint(args.checkpoint):
        return segmentation.evaluate(args)
    restored = detection.restore(args.checkpoint)
    if restored is not None:
        return detection.evaluate(args, restored)
    if args.dataset in detection.DATASETS:
        raise ValueError(f"{args.checkpoint} is a classifier; {args.dataset} is a detection "
                         "dataset")
    model, meta = _restore(args.checkpoint)
    dataset = args.dataset or meta["dataset"]
    split = recipes.load_split(dataset, False, args.data_dir, args.download)
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
    print(_class_report(split.labels, predicted, split.classes))
    return 0


def predict(args) -> int:
    if detection.restore(args.checkpoint) is not None:
        raise ValueError(f"{args.checkpoint} is a detection checkpoint: use 'ember detect "
                         f"{args.checkpoint} IMAGE -o OUT.png'")
    model, meta = _restore(args.checkpoint)
    dataset = meta["dataset"]
    expected = recipes.IMAGE_SIZE[dataset]
    images = np.stack([images_io.prepare_image(images_io.read_image(path), expected,
                                               dataset, args.invert)
                       for path in args.images])
    mean, std = meta["normalize"]
    x = recipes.prepare(images[:, None], tuple(meta["input_size"]), mean, std)
    scores = _predict(model, x)
    probabilities = np.exp(scores - scores.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    results = []
    top = min(args.top, probabilities.shape[1])
    for path, p in zip(args.images, probabilities, strict=True):
        order = np.argsort(-p, kind="stable")[:top]
        ranked = [{"class": meta["classes"][k], "probability": round(float(p[k]), 4)}
                  for k in order]
        results.append({"image": path, **ranked[0], "top": ranked})
        if not args.json:
            print(f"{path}: " + ", ".join(f"{r['class']} ({r['probability']:.4f})"
                                          for r in ranked))
    if args.json:
        print(json.dumps(results))
    return 0
