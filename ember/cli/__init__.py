"""The ``ember`` command: ``ember train``, ``ember evaluate``, ``ember predict``,
``ember detect``.

Every failure prints one line, ``ember: error: ...``, and exits non-zero: no tracebacks.
"""

from __future__ import annotations

import argparse
import math
import sys
import warnings

from ember.cli import detection as detection_cli
from ember.cli import distributed as distributed_cli
from ember.cli import experiment as experiment_cli
from ember.cli import explain as explain_cli
from ember.cli import recipes
from ember.cli import segmentation as segmentation_cli
from ember.cli import transfer as transfer_cli
from ember.cli import tune as tune_cli
from ember.cli import vision as vision_cli


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors on one line (no usage block)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    from ember import __version__

    parser = _Parser(
        prog="ember", description="Train, evaluate and use neural networks with ember.")
    parser.add_argument("--version", action="version", version=f"ember {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train", help="train a model and write a checkpoint, history, plots and a report",
        description="Train a model with a progress bar; print the test accuracy, per-class "
                    "precision/recall and the confusion matrix; write best/last checkpoints, "
                    "history.csv, report.txt and plots to --out.")
    train.add_argument("--model", choices=recipes.MODELS + detection_cli.MODELS, default="mlp")
    train.add_argument("--dataset", choices=recipes.DATASETS + detection_cli.DATASETS,
                       default="digits")
    train.add_argument("--data-dir", help="folder with the IDX files (mnist, fashion-mnist)")
    train.add_argument("--download", action="store_true",
                       help="fetch missing MNIST/Fashion-MNIST files into --data-dir")
    train.add_argument("--epochs", type=_positive_int, default=None,
                       help="default: 30 on digits, 12 on (fashion-)mnist")
    train.add_argument("--batch-size", type=_positive_int, default=None,
                       help="default: 32 on digits, 128 on (fashion-)mnist")
    train.add_argument("--optimizer", choices=recipes.OPTIMIZERS, default="adam")
    train.add_argument("--lr", type=_positive_float, default=None,
                       help="learning rate (default: a sensible one for the optimizer)")
    train.add_argument("--scheduler", choices=recipes.SCHEDULERS, default="cosine",
                       help="learning-rate schedule over the epochs (default cosine)")
    train.add_argument("--augment", type=_non_negative_int, default=None, metavar="PIXELS",
                       help="random shifts of up to PIXELS pixels while training "
                            "(default: 2 for lenet5, 0 for mlp)")
    train.add_argument("--weight-decay", type=_non_negative_float, default=0.0)
    train.add_argument("--val-fraction", type=_fraction, default=0.1,
                       help="share of the training set held out for validation (default 0.1)")
    train.add_argument("--patience", type=_non_negative_int, default=0,
                       help="stop early after this many epochs without improvement (0: off)")
    train.add_argument("--seed", type=_non_negative_int, default=0)
    train.add_argument("--out", help="output folder (default runs/MODEL-DATASET)")
    train.add_argument("--resume", metavar="CHECKPOINT",
                       help="continue from a last.safetensors written by an earlier run with "
                            "the same model, dataset and optimizer settings")
    train.add_argument("--no-progress", action="store_true", help="no progress bars")
    transfer_cli.add_arguments(train)
    detection_cli.add_arguments(train)

    evaluate = commands.add_parser("evaluate", help="test accuracy and per-class report of a "
                                                    "checkpoint")
    evaluate.add_argument("checkpoint")
    evaluate.add_argument("--dataset", choices=recipes.DATASETS + detection_cli.DATASETS,
                          help="default: the dataset the checkpoint was trained on")
    evaluate.add_argument("--data-dir")
    evaluate.add_argument("--download", action="store_true",
                          help="fetch missing MNIST/Fashion-MNIST files into --data-dir")

    predict = commands.add_parser(
        "predict", help="classify image files with a checkpoint",
        description="Classify images of any size and colour: each is made grey, given the "
                    "training images' polarity (light strokes on black; a light background "
                    "is inverted), cropped to its ink, scaled and centred as the training "
                    "images are; prints the top classes with their probabilities.")
    predict.add_argument("checkpoint")
    predict.add_argument("images", nargs="+", metavar="IMAGE",
                         help="PNG/JPEG/... files or .npy arrays")
    predict.add_argument("--invert", action=argparse.BooleanOptionalAction, default=None,
                         help="force (--invert) or forbid (--no-invert) inverting the image; "
                              "default: invert when the background is light")
    predict.add_argument("--top", type=_positive_int, default=3,
                         help="how many classes to print per image (default 3)")
    predict.add_argument("--json", action="store_true", help="print the results as JSON")
    explain_cli.register(commands)
    experiment_cli.register(commands)
    vision_cli.register(commands)
    detection_cli.register(commands)
    tune_cli.register(commands)
    segmentation_cli.register(commands)
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a finite number, 0 or more, got {text}")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def _one_line_warnings() -> None:
    """Warnings print as one line each, ``ember: warning: ...``, once per message: no
    source paths or code lines (NumPy's, scikit-learn's or ember's own)."""
    shown: set[str] = set()

    def show(message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        if text not in shown:
            shown.add(text)
            print(f"ember: warning: {text}", file=file or sys.stderr)

    warnings.showwarning = show


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    args.argv = ["ember", *argv]
    from ember.cli import commands

    handler = getattr(args, "handler", None) or {
        "train": commands.train, "evaluate": commands.evaluate,
        "predict": commands.predict}[args.command]
    try:
        with warnings.catch_warnings():  # restores the filters and showwarning after
            warnings.simplefilter("default")
            _one_line_warnings()
            return handler(args)
    except KeyboardInterrupt:
        print("ember: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # the command line never shows a traceback
        message = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
        message = " ".join(str(message).split())
        print(f"ember: error: {message or type(error).__name__}", file=sys.stderr)
        distributed_cli.abort_job(1)  # in an MPI job: stop the other ranks too
        return 1


if __name__ == "__main__":
    sys.exit(main())
