"""The fit loop: ``Trainer(model, loss_fn, optimizer).fit(train_data, val_data, epochs)``.

One epoch is the textbook loop, run for every mini-batch ``(x, y)``:

1. forward:  ``output = model(x)``, ``loss = loss_fn(output, y)`` (+ L1/L2 penalties);
2. backward: ``optimizer.zero_grad(); loss.backward()`` (optionally clip the gradients);
3. update:   ``optimizer.step()`` (and a per-step learning-rate schedule);

then an evaluation pass over ``val_data`` with the model in eval mode and no graph.
Every epoch's loss, metrics and learning rate go into ``trainer.history``; callbacks
(early stopping, checkpoints, CSV logs) run after each epoch.

Truncated backpropagation through time (``tbptt_steps=k``, for recurrent models on long
sequences): each batch is cut along its time dimension into chunks of k steps, and steps
1-3 run once per chunk. The model's forward takes and returns a recurrent state,
``output, state = model(x_chunk, state)`` (``state=None`` for the first chunk); the state
is carried to the next chunk *detached*, so the forward pass still sees the whole
sequence while gradients flow back at most k steps, and memory is that of k steps.

Guards and repeatability:

* a NaN or infinite loss stops training with a message naming the epoch and step, and
  everything a step changes (parameters, buffers such as BatchNorm's running statistics,
  the optimiser's state and options, the scheduler, the step counter) is put back to its
  state before the update that broke it (:mod:`ember.train.guard`), every step of every
  epoch, the first included;
* with ``em.manual_seed(n)`` before building the model and data, a run is bit-for-bit
  repeatable, and a run resumed from a checkpoint continues exactly as if uninterrupted
  (the checkpoint holds the model, optimiser, scheduler, callbacks, history and the
  random generator's state).
"""

from __future__ import annotations

import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable

import numpy as np

from ember import random
from ember.autograd.engine import no_grad
from ember.serialization import load, save
from ember.tensor import Tensor
from ember.train import distributed as ranks
from ember.train.callbacks import Callback
from ember.train.guard import TrainingSnapshot
from ember.train.metrics import resolve_metrics


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the weights were restored to the last good ones."""


class Trainer:
    """Trains a model with an optimiser on a loss, evaluating and logging every epoch.

    Args:
        model: the Module to train.
        loss_fn: ``loss_fn(output, target) -> scalar Tensor`` (e.g. ``nn.CrossEntropyLoss()``).
        optimizer: an ``em.optim`` optimiser over the model's parameters.
        metrics: names (``"accuracy"``, ``"top5_accuracy"``, ``"macro_f1"``) or callables
            ``f(outputs, targets) -> float`` evaluated on each epoch's outputs.
        scheduler: an ``em.optim.lr_scheduler`` scheduler, stepped every epoch
            (``scheduler_interval="epoch"``) or every step (``"step"``, for OneCycleLR);
            ``ReduceLROnPlateau`` is stepped with ``scheduler_monitor`` (``val_loss``).
        callbacks: e.g. ``[EarlyStopping(patience=3), ModelCheckpoint("runs/x")]``.
        l1, l2: weights of L1 (sum |w|) and L2 (sum w^2) penalties added to the loss, over
            the model's weights (biases excluded); both together give the elastic net.
        clip_grad_norm: rescale gradients whose global L2 norm exceeds this.
        clip_grad_value: clamp every gradient element to [-value, value].
        tbptt_steps: truncated backpropagation through time: update after every chunk of
            this many time steps of each batch, carrying the model's recurrent state
            across chunks detached (see the module docs). Targets are cut along the same
            dimension (one target per step); evaluation and prediction run whole
            sequences, taking the output from ``model(x)``'s ``(output, state)``.
        tbptt_dim: the time dimension of inputs and targets (default 1: batch first).
        progress: show a progress bar per epoch (tqdm, if installed).
        nan_guard: keep a copy of the training state before every update so that a NaN/Inf
            loss can restore it (costs one copy of the parameters, buffers and optimiser
            state per step).
        meta: anything JSON-like to keep in checkpoints (model name, dataset, classes).

    >>> import ember as em
    >>> _ = em.manual_seed(0)
    >>> x = em.randn(64, 2); y = (x[:, 0] > x[:, 1]).long()
    >>> model = em.nn.Linear(2, 2)
    >>> trainer = em.train.Trainer(model, em.nn.CrossEntropyLoss(),
    ...                            em.optim.SGD(model.parameters(), lr=0.5),
    ...                            metrics=["accuracy"], progress=False)
    >>> history = trainer.fit(em.data.DataLoader(em.data.TensorDataset(x, y), batch_size=16),
    ...                       epochs=20)
    >>> history["accuracy"][-1] > 0.9
    True
    """

    def __init__(self, model, loss_fn: Callable, optimizer, *, metrics: Iterable = (),
                 scheduler=None, scheduler_interval: str = "epoch",
                 scheduler_monitor: str = "val_loss", callbacks: Iterable[Callback] = (),
                 l1: float = 0.0, l2: float = 0.0, clip_grad_norm: float | None = None,
                 clip_grad_value: float | None = None, tbptt_steps: int | None = None,
                 tbptt_dim: int = 1, progress: bool = True, nan_guard: bool = True,
                 meta: dict | None = None, log: Callable | None = None) -> None:
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(f"scheduler_interval must be 'epoch' or 'step', got "
                             f"{scheduler_interval!r}")
        if tbptt_steps is not None and (not isinstance(tbptt_steps, int) or tbptt_steps < 1):
            raise ValueError(f"tbptt_steps must be a positive int or None, got {tbptt_steps!r}")
        self.tbptt_steps, self.tbptt_dim = tbptt_steps, tbptt_dim
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.metrics = resolve_metrics(metrics)
        self.scheduler, self.scheduler_interval = scheduler, scheduler_interval
        self.scheduler_monitor = scheduler_monitor
        self.callbacks = list(callbacks)
        self.l1, self.l2 = l1, l2
        self.clip_grad_norm, self.clip_grad_value = clip_grad_norm, clip_grad_value
        self.progress, self.nan_guard = progress, nan_guard
        self.meta = dict(meta or {})
        self._log = log or (lambda message: print(message, file=sys.stderr))
        self.history: dict[str, list] = {}
        self.epoch = 0  # epochs completed
        self.global_step = 0
        self.stop_training = False
        self.stopped_reason: str | None = None
        self._snapshot: TrainingSnapshot | None = None
        self._rank_rng: dict = {}  # a distributed job: every rank's generator, each epoch
        self._open_bar = None

    def log(self, message: str) -> None:
        if ranks.is_main_process():
            self._log(message)

    # ------------------------------------------------------------------ the loop

    def fit(self, train_data, val_data=None, epochs: int = 1) -> dict[str, list]:
        """Train until ``epochs`` epochs are complete (counting those of a loaded
        checkpoint) or a callback stops; returns the history (metric -> list per epoch)."""
        self.stop_training = False
        ranks.parallel(self.model)  # a distributed job: rank 0's weights, before the snapshot
        self._snapshot = TrainingSnapshot(self) if self.nan_guard else None
        if self._snapshot is not None:
            self._snapshot.take()  # the first step of the run is protected too
        for callback in self.callbacks:
            callback.on_fit_start(self)
        try:
            while self.epoch < epochs and not self.stop_training:
                started = time.perf_counter()
                logs = self._train_epoch(train_data, epochs)
                if logs is None:  # diverged
                    self._close_bar()
                    break
                if val_data is not None:
                    logs.update({f"val_{k}": v for k, v in self.evaluate(val_data).items()})
                self._close_bar(logs)
                self.epoch += 1
                logs["lr"] = self.optimizer.param_groups[0]["lr"]
                logs["time"] = time.perf_counter() - started
                if self.scheduler is not None and self.scheduler_interval == "epoch":
                    self._step_scheduler(logs)
                for key, value in logs.items():
                    self.history.setdefault(key, []).append(value)
                self._rank_rng = ranks.rank_rng_states()  # for checkpoints from now on
                for callback in self.callbacks:
                    callback.on_epoch_end(self, self.epoch, logs)
        finally:
            self._close_bar()  # an error mid-epoch leaves no bar open
            for callback in self.callbacks:
                callback.on_fit_end(self)
        return self.history

    def _train_epoch(self, data, epochs: int) -> dict | None:
        self.model.train()
        ranks.set_epoch(data, self.epoch)
        net = ranks.parallel(self.model)  # DistributedDataParallel in a distributed job
        bar = self._bar(data, f"epoch {self.epoch + 1}/{epochs}")
        total_loss, count = 0.0, 0
        outputs, targets = [], []
        snapshot = self._snapshot
        self._open_bar = bar  # updated by hand, and closed after validation
        for step, (x, y) in enumerate(data, 1):
            state = None
            for x_part, y_part in self._chunks(x, y):
                if self.tbptt_steps:
                    output, state = net(x_part, state)
                    state = _detached(state)
                else:
                    output = net(x_part)
                loss = self.loss_fn(output, y_part)
                value = loss.item()
                if not ranks.on_every_rank(math.isfinite(value)):
                    self._diverged(value, step, snapshot)
                    return None
                objective = loss + self._penalty() if (self.l1 or self.l2) else loss
                self.optimizer.zero_grad()
                objective.backward()
                self._clip()
                if snapshot is not None:
                    snapshot.take()
                self.optimizer.step()
                self.global_step += 1
                if self.scheduler is not None and self.scheduler_interval == "step":
                    self.scheduler.step()
                n = len(y_part)
                total_loss += value * n
                count += n
                if self.metrics:
                    outputs.append(output.detach().numpy())
                    targets.append(_array(y_part))
            if bar is not None:
                bar.update(1)
                if step % 10 == 0:
                    bar.set_postfix(loss=f"{total_loss / count:.4f}", refresh=False)
        total_loss, count, outputs, targets = ranks.reduce_epoch(total_loss, count, outputs,
                                                                 targets)
        if count == 0:
            raise ValueError("fit: the training data yielded no batches")
        logs = {"loss": total_loss / count}
        logs.update(self._metrics(outputs, targets))
        return logs

    def evaluate(self, data) -> dict[str, float]:
        """The mean loss and the metrics over ``data``, in eval mode without a graph."""
        was_training = self.model.training
        self.model.eval()
        total_loss, count = 0.0, 0
        outputs, targets = [], []
        with no_grad():
            for x, y in data:
                output = self._forward(x)
                n = len(y)
                total_loss += self.loss_fn(output, y).item() * n
                count += n
                outputs.append(output.numpy())
                targets.append(_array(y))
        self.model.train(was_training)
        total_loss, count, outputs, targets = ranks.reduce_epoch(total_loss, count, outputs,
                                                                 targets)
        if count == 0:
            raise ValueError("evaluate: the data yielded no batches")
        return {"loss": total_loss / count, **self._metrics(outputs, targets)}

    def predict(self, data) -> np.ndarray:
        """The model's outputs for every batch of ``data`` (batches of x, or of (x, y)),
        concatenated, in eval mode without a graph."""
        was_training = self.model.training
        self.model.eval()
        outputs = []
        with no_grad():
            for batch in data:
                x = batch[0] if isinstance(batch, (tuple, list)) else batch
                outputs.append(self._forward(x).numpy())
        self.model.train(was_training)
        return np.concatenate(outputs)

    # ------------------------------------------------------------------ pieces

    def _forward(self, x) -> Tensor:
        """The model's output on a whole batch (a recurrent model's state is dropped)."""
        output = self.model(x)
        return output[0] if self.tbptt_steps else output

    def _chunks(self, x, y) -> list:
        """``[(x, y)]``, or with ``tbptt_steps`` the batch cut into chunks along time."""
        if not self.tbptt_steps:
            return [(x, y)]
        dim = self.tbptt_dim
        if not isinstance(y, Tensor) or y.ndim <= dim or y.shape[dim] != x.shape[dim]:
            raise ValueError(
                f"tbptt_steps: targets must have the inputs' time dimension {dim} (one target "
                f"per step); got inputs {tuple(x.shape)} and targets {tuple(np.shape(y))}")
        return list(zip(x.split(self.tbptt_steps, dim), y.split(self.tbptt_steps, dim),
                        strict=True))

    def _penalty(self) -> Tensor:
        from ember.nn import regularization

        total = 0.0
        if self.l1:
            total = total + self.l1 * regularization.l1_penalty(self.model)
        if self.l2:
            total = total + self.l2 * regularization.l2_penalty(self.model)
        return total

    def _clip(self) -> None:
        if self.clip_grad_norm is None and self.clip_grad_value is None:
            return
        from ember.nn import utils

        parameters = [p for p in self.model.parameters() if p.grad is not None]
        if self.clip_grad_value is not None:
            utils.clip_grad_value_(parameters, self.clip_grad_value)
        if self.clip_grad_norm is not None:
            utils.clip_grad_norm_(parameters, self.clip_grad_norm)

    def _step_scheduler(self, logs: dict) -> None:
        from ember.optim.lr_scheduler import ReduceLROnPlateau

        if isinstance(self.scheduler, ReduceLROnPlateau):
            monitor = self.scheduler_monitor if self.scheduler_monitor in logs else "loss"
            self.scheduler.step(logs[monitor])
        else:
            self.scheduler.step()

    def _metrics(self, outputs: list, targets: list) -> dict[str, float]:
        if not self.metrics or not outputs:
            return {}
        if self.tbptt_steps:  # per-step outputs (N, k, C) and targets (N, k): one row per step
            outputs = [o.reshape(-1, o.shape[-1]) for o in outputs]
            targets = [t.reshape(len(o), -1).squeeze(-1) for t, o in zip(targets, outputs,
                                                                          strict=True)]
        out, target = np.concatenate(outputs), np.concatenate(targets)
        return {name: float(fn(out, target)) for name, fn in self.metrics.items()}

    def _diverged(self, value: float, step: int, snapshot) -> None:
        restored = snapshot is not None and snapshot.restore()
        self.stopped_reason = (
            f"the loss became {value} at epoch {self.epoch + 1}, step {step} (global step "
            f"{self.global_step + 1}); training stopped"
            + ("; the model, optimizer and scheduler were restored to their state before "
               "the last update" if restored else "")
            + " (lower the learning rate, or clip the gradients)"
        )
        self.stop_training = True
        self.history.setdefault("stopped", []).append(self.stopped_reason)
        warnings.warn(self.stopped_reason, RuntimeWarning, stacklevel=3)

    def _close_bar(self, logs: dict | None = None) -> None:
        """End the epoch's progress bar, showing the epoch's training and validation
        loss and metrics."""
        bar, self._open_bar = self._open_bar, None
        if bar is None:
            return
        if logs:
            bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()
                             if isinstance(v, float)}, refresh=True)
        bar.close()

    def _bar(self, data, description: str):
        """A tqdm bar over ``len(data)`` steps (None without progress or tqdm, and on the
        ranks other than 0 of a distributed job)."""
        if not self.progress or not ranks.is_main_process():
            return None
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return None
        try:
            total = len(data)
        except TypeError:
            total = None
        return tqdm(total=total, desc=description, leave=True, dynamic_ncols=True,
                    file=sys.stderr)

    # ------------------------------------------------------------------ checkpoints

    def state_dict(self) -> dict:
        """Everything needed to resume: model, optimiser, scheduler, callbacks, history,
        counters and the global random generator's state."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "callbacks": [c.state_dict() for c in self.callbacks],
            "history": self.history,
            "epoch": self.epoch,
            "global_step": self.global_step,
            "rng": random.get_rng_state(),
            "meta": self.meta,
            **self._rank_rng,  # a distributed job: every rank's generator (at epoch end)
        }

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        for callback, saved in zip(self.callbacks, state.get("callbacks", []), strict=False):
            callback.load_state_dict(saved)
        self.history = {k: list(v) for k, v in state["history"].items()}
        self.epoch, self.global_step = state["epoch"], state["global_step"]
        random.set_rng_state(state["rng"])
        ranks.restore_rank_rng(state)
        self.meta.update(state.get("meta") or {})

    def save_checkpoint(self, path: str | os.PathLike) -> None:
        """Write :meth:`state_dict` atomically to ``path`` (safetensors + JSON); in a
        distributed job rank 0 writes (the others may call it too: they write nothing)."""
        if ranks.is_main_process():
            save(self.state_dict(), path)

    def load_checkpoint(self, path: str | os.PathLike) -> None:
        """Restore a checkpoint; a following ``fit(..., epochs=N)`` continues to epoch N."""
        self.load_state_dict(load(path))


def _detached(state):
    """A recurrent state (a tensor, or nested tuples of them) cut from the graph."""
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(_detached(s) for s in state)
    return state


def _array(y) -> np.ndarray:
    return y.numpy() if isinstance(y, Tensor) else np.asarray(y)
