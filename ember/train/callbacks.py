"""Callbacks: code the fit loop calls at the end of each epoch (and around the run).

A callback sees the :class:`~ember.train.Trainer` and the epoch's ``logs`` (``loss``,
``accuracy``, ``val_loss``, ``lr``, ...). It may stop training by setting
``trainer.stop_training = True``.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np

from ember.train.distributed import is_main_process


class Callback:
    """Base class: override the hooks you need."""

    def on_fit_start(self, trainer) -> None:
        pass

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        pass

    def on_fit_end(self, trainer) -> None:
        pass

    def state_dict(self) -> dict:
        """What this callback must remember across a resumed run."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


def _mode_for(monitor: str, mode: str) -> str:
    if mode != "auto":
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min', 'max' or 'auto', got {mode!r}")
        return mode
    return "max" if any(k in monitor for k in ("acc", "f1", "precision", "recall")) else "min"


class _Monitor:
    """Tracks the best value of one logged quantity."""

    def __init__(self, monitor: str, mode: str, min_delta: float) -> None:
        self.monitor, self.mode, self.min_delta = monitor, _mode_for(monitor, mode), min_delta
        self.best = math.inf if self.mode == "min" else -math.inf

    def value(self, logs: dict) -> float:
        if self.monitor not in logs:
            raise KeyError(f"{type(self).__name__}: '{self.monitor}' is not logged; available: "
                           f"{', '.join(sorted(logs))} (validation metrics need val_data)")
        return float(logs[self.monitor])

    def improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(Callback, _Monitor):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    Early stopping is a regulariser: it ends training before the network starts fitting
    noise in the training set. With ``restore_best_weights`` the model gets back the
    weights of its best epoch when training stops.

    Args:
        monitor: a logged quantity (default ``val_loss``).
        patience: epochs without improvement to tolerate.
        min_delta: the smallest change that counts as an improvement.
        mode: ``min``, ``max`` or ``auto`` (max for accuracies and F1, min otherwise).
        restore_best_weights: load the best epoch's weights at the end.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = False) -> None:
        _Monitor.__init__(self, monitor, mode, min_delta)
        self.patience = patience
        self.restore_best_weights = restore_best_weights
        self.wait = 0
        self.best_epoch = None
        self.stopped_epoch = None
        self._best_state = None

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        value = self.value(logs)
        if self.improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self._best_state = {k: v.numpy().copy()
                                    for k, v in trainer.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True
            trainer.log(f"early stopping at epoch {epoch}: {self.monitor} has not improved "
                        f"for {self.patience} epochs (best {self.best:.4f} at epoch "
                        f"{self.best_epoch})")

    def on_fit_end(self, trainer) -> None:
        if self.restore_best_weights and self._best_state is not None:
            trainer.model.load_state_dict(self._best_state)

    def state_dict(self) -> dict:
        state = {"best": self.best, "wait": self.wait, "best_epoch": self.best_epoch}
        if self._best_state is not None:
            state["best_state"] = self._best_state
        return state

    def load_state_dict(self, state: dict) -> None:
        self.best, self.wait = state["best"], state["wait"]
        self.best_epoch = state["best_epoch"]
        self._best_state = state.get("best_state")


class ModelCheckpoint(Callback, _Monitor):
    """Save a resumable checkpoint (model, optimiser, scheduler, epoch, history, random
    state) as ``last.safetensors`` every epoch and ``best.safetensors`` whenever
    ``monitor`` improves, in the folder ``dirpath``.

    Args:
        dirpath: folder for the checkpoints.
        monitor: the quantity that defines "best" (default ``val_loss``; use ``loss``
            without validation data).
        mode: ``min``, ``max`` or ``auto``.
        save_last: also write ``last.safetensors`` every epoch.
    """

    def __init__(self, dirpath: str | os.PathLike, monitor: str = "val_loss",
                 mode: str = "auto", save_last: bool = True) -> None:
        _Monitor.__init__(self, monitor, mode, 0.0)
        self.dirpath = Path(dirpath)
        self.save_last = save_last
        self.best_path = self.dirpath / "best.safetensors"
        self.last_path = self.dirpath / "last.safetensors"

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        value = self.value(logs)
        if self.improved(value):
            self.best = value
            trainer.save_checkpoint(self.best_path)
        if self.save_last:
            trainer.save_checkpoint(self.last_path)

    def state_dict(self) -> dict:
        return {"best": self.best}

    def load_state_dict(self, state: dict) -> None:
        self.best = state["best"]


class CSVLogger(Callback):
    """Write one row per epoch with every logged quantity to a CSV file.

    Args:
        path: the CSV file.
        append: keep rows already in the file (for a resumed run).
    """

    def __init__(self, path: str | os.PathLike, append: bool = False) -> None:
        self.path = Path(path)
        self.append = append
        self._fields: list[str] | None = None

    def on_fit_start(self, trainer) -> None:
        if not is_main_process():  # a distributed job: rank 0 writes
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.append and self.path.exists():
            self.path.unlink()

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        if not is_main_process():
            return
        row = {"epoch": epoch, **{k: _plain(v) for k, v in logs.items()}}
        new_file = not self.path.exists()
        if self._fields is None:
            self._fields = list(row)
        with open(self.path, "a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self._fields, extrasaction="ignore")
            if new_file:
                writer.writeheader()
            writer.writerow(row)


def _plain(value):
    if isinstance(value, (np.generic,)):
        return value.item()
    return value
