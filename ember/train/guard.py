"""The NaN/Inf guard's snapshot: everything a training step changes, and how to undo it.

A step changes the parameters (the update), the buffers (BatchNorm's running statistics,
updated by the forward pass), the optimiser's state (moments, momentum buffers, step
counts) and options (a per-step schedule changes ``lr``), the scheduler and the step
counter. :class:`TrainingSnapshot` copies all of them into preallocated arrays before
every update, so that when a loss turns NaN or infinite, training can go back to the
last state that was still finite, as one consistent whole.
"""

from __future__ import annotations

import copy

import numpy as np

from ember.autograd.engine import no_grad
from ember.tensor import Tensor


class TrainingSnapshot:
    """A copy of a trainer's model, optimiser and scheduler state, refreshed by :meth:`take`.

    Taken before every ``optimizer.step()`` (and once when training starts, so that the
    first step is protected too); :meth:`restore` puts every value back, in place, so
    references held elsewhere (the optimiser's parameter list) stay valid.
    """

    def __init__(self, trainer) -> None:
        self.trainer = trainer
        self.tensors: list[Tensor] = []  # parameters and buffers
        self.copies: list[np.ndarray] = []
        self.optimizer_state: dict | None = None
        self.groups: list[dict] | None = None
        self.scheduler_state = None
        self.global_step = 0
        self.valid = False

    def take(self) -> None:
        trainer = self.trainer
        tensors = list(trainer.model.parameters()) + [b for b in trainer.model.buffers()
                                                      if b is not None]
        if len(tensors) != len(self.tensors) or any(
                a is not b for a, b in zip(tensors, self.tensors, strict=True)):
            self.tensors = tensors
            self.copies = [np.empty_like(t._data) for t in tensors]
        for tensor, saved in zip(self.tensors, self.copies, strict=True):
            np.copyto(saved, tensor._data)
        self.optimizer_state = _copy_state(trainer.optimizer.state, self.optimizer_state)
        self.groups = [{k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
                       for group in trainer.optimizer.param_groups]
        scheduler = trainer.scheduler
        self.scheduler_state = (copy.deepcopy(scheduler.state_dict())
                                if scheduler is not None else None)
        self.global_step = trainer.global_step
        self.valid = True

    def restore(self) -> bool:
        """Put everything back; False if no snapshot was taken."""
        if not self.valid:
            return False
        trainer = self.trainer
        with no_grad():
            for tensor, saved in zip(self.tensors, self.copies, strict=True):
                np.copyto(tensor._data, saved)
                tensor._vc[0] += 1  # an in-place change, as far as saved graphs know
        optimizer = trainer.optimizer
        for param in list(optimizer.state):
            if param not in self.optimizer_state:
                del optimizer.state[param]  # state created by the step being undone
        for param, saved in self.optimizer_state.items():
            optimizer.state[param] = _restored(saved, optimizer.state.get(param))
        for group, saved in zip(optimizer.param_groups, self.groups, strict=True):
            group.update(copy.deepcopy(saved))
        if trainer.scheduler is not None and self.scheduler_state is not None:
            trainer.scheduler.load_state_dict(copy.deepcopy(self.scheduler_state))
        trainer.global_step = self.global_step
        return True


def _copy_state(state: dict, previous: dict | None) -> dict:
    """``{param: {key: value}}`` with arrays copied (into last time's arrays if they fit)."""
    previous = previous or {}
    result = {}
    for param, values in state.items():
        old = previous.get(param, {})
        result[param] = {key: _copy_value(value, old.get(key)) for key, value in values.items()}
    return result


def _copy_value(value, into):
    if isinstance(value, Tensor):
        value = value._data
    if isinstance(value, np.ndarray):
        if isinstance(into, np.ndarray) and into.shape == value.shape and \
                into.dtype == value.dtype:
            np.copyto(into, value)
            return into
        return value.copy()
    return copy.deepcopy(value)


def _restored(saved: dict, current: dict | None) -> dict:
    """The saved state of one parameter, written into its live tensors where they fit."""
    current = current or {}
    result = {}
    for key, value in saved.items():
        live = current.get(key)
        if isinstance(value, np.ndarray):
            if isinstance(live, Tensor) and live.shape == value.shape and \
                    live.dtype == value.dtype:
                np.copyto(live._data, value)
                result[key] = live
            else:
                result[key] = Tensor._wrap(value.copy())
        else:
            result[key] = copy.deepcopy(value)
    return result
