"""Optimizer: the base class that holds parameter groups and per-parameter state.

An optimiser changes parameters in place, from their ``.grad``, each time ``step()`` is
called. Its parameters come in *groups*, each a dict with the tensors under ``"params"``
and its own options (``lr``, ``momentum``, ...): an option missing from a group takes the
optimiser's default. Whatever an algorithm remembers between steps (a momentum buffer,
running averages, a step count) lives in ``optimizer.state[parameter]``.

The layout is PyTorch's, key for key, so ``state_dict()`` has the same shape as
``torch.optim.Optimizer.state_dict()``::

    {"state": {0: {"momentum_buffer": tensor(...)}, ...},
     "param_groups": [{"lr": 0.1, "momentum": 0.9, ..., "params": [0, 1]}]}

Parameters are numbered in the order the groups list them; state values are ember Tensors
or Python numbers, so a checkpoint can hold them without pickling.

>>> import ember as em
>>> w = em.tensor([1.0, -2.0], requires_grad=True)
>>> b = em.tensor([0.5], requires_grad=True)
>>> opt = em.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1)
>>> [group["lr"] for group in opt.param_groups]
[0.1, 0.5]
>>> (w * w).sum().backward()          # dL/dw = 2 w
>>> opt.step()                        # b has no gradient: it is skipped
>>> w
tensor([ 0.8000, -1.6000], requires_grad=True)
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ember.autograd.engine import enable_grad
from ember.tensor import Tensor


class Optimizer:
    """Base class of the optimisers: parameter groups, state, ``step`` and checkpoints.

    A subclass validates its options in ``_validate(options)`` and updates one group in
    ``_update_group(group)``, working on the NumPy arrays (``p._data``, ``p.grad._data``)
    in place and bumping each changed parameter's version counter (``p._vc[0] += 1``),
    so that a graph that saved the old values refuses to backpropagate through them.
    A subclass may instead override ``step`` as in PyTorch, updating the parameters with
    in-place tensor methods (``p.sub_(p.grad, alpha=lr)``) inside ``em.no_grad()``.

    Args:
        params: an iterable of tensors, or of dicts (parameter groups) each holding the
            tensors under ``"params"`` and any per-group options.
        defaults: the options of a group that does not set them.
    """

    #: state entries kept as Python numbers (``load_state_dict`` converts 0-d tensors)
    _scalar_state: tuple[str, ...] = ("step",)

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._validate(defaults)
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params should be an iterable of Tensors "
                            "or dicts, but got a single Tensor (wrap it in a list)")
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if not param_groups:
            raise ValueError(f"{type(self).__name__}: optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ what subclasses write

    def _validate(self, options: dict[str, Any]) -> None:
        """Raise ValueError for an invalid option (called on defaults and on each group)."""

    def _update_group(self, group: dict[str, Any]) -> None:
        """Update the parameters of ``group`` that have a gradient (subclasses)."""
        raise NotImplementedError(f"{type(self).__name__} does not define _update_group()")

    # ------------------------------------------------------------------ groups

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters, with its own options, e.g. a layer being unfrozen.

        ``params`` may hold tensors or ``(name, tensor)`` pairs (as from
        ``named_parameters()``); options missing from the group take the defaults.
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: param_group must be a dict, got "
                            f"{type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}: a parameter group needs a 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(f"{name}: parameters must be in an ordered collection (a list), "
                            "not a set, whose order changes between runs")
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError(f"{name}: either every parameter has a name or none has")
            param_group["param_names"] = names
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: can only optimize Tensors, but one of the params "
                                f"is a {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (one computed "
                                 "from others); optimise the leaves it comes from")
        param_group["params"] = params
        for key, default in self.defaults.items():
            param_group.setdefault(key, default)
        self._validate(param_group)
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: a parameter group lists the same parameter twice")
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        for group in self.param_groups:
            if ("param_names" in group) != ("param_names" in param_group):
                raise ValueError(f"{name}: all parameter groups must be with names or all "
                                 "without names")
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------ stepping

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a gradient; parameters whose ``.grad`` is None
        (frozen, or unused by the loss) are left untouched.

        Args:
            closure: optional; re-evaluates the model and returns the loss (it is called
                with gradient recording on, before the update).

        Returns:
            the closure's loss, or None.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._update_group(group)
        self._opt_called = True  # lets a scheduler warn when it is stepped first
        return loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients: set them to None (the default), or fill them with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_()
                    p.grad.zero_()

    # ------------------------------------------------------------------ checkpoints

    def state_dict(self) -> dict[str, Any]:
        """The state and the groups' options, parameters replaced by their index.

        As in PyTorch, the tensors are the optimiser's live buffers: save them (or
        ``copy.deepcopy`` the dict) before stepping again.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)] if isinstance(p, Tensor) else p: dict(s)
                 for p, s in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the state and options from :meth:`state_dict` (copied, never shared).

        The groups must have the same sizes as this optimiser's; state tensors are copied
        and cast to their parameter's dtype, and must have its shape.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and "
                             "'param_groups' (from optimizer.state_dict())")
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(f"{name}.load_state_dict: the state dict has {len(saved_groups)} "
                             f"parameter groups but the optimizer has {len(groups)}")
        for i, (group, saved) in enumerate(zip(groups, saved_groups, strict=True)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(f"{name}.load_state_dict: parameter group {i} has "
                                 f"{len(saved['params'])} parameters in the state dict but "
                                 f"{len(group['params'])} in the optimizer")
        id_map = {}
        for group, saved in zip(groups, saved_groups, strict=True):
            id_map.update(zip(saved["params"], group["params"], strict=True))
        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in id_map:
                param = id_map[key]
                state[param] = {k: self._cast(param, k, v, key) for k, v in value.items()}
            else:
                state[key] = copy.deepcopy(value)
        for group, saved in zip(groups, saved_groups, strict=True):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            for k, v in self.defaults.items():
                saved.setdefault(k, v)
        self.state = state
        self.param_groups = saved_groups

    def _cast(self, param: Tensor, key, value, index):
        """A copy of one state value, arrays cast to the parameter's dtype."""
        if isinstance(value, dict):
            return {k: self._cast(param, k, v, index) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self._cast(param, None, v, index) for v in value)
        if not isinstance(value, (Tensor, np.ndarray)) and not hasattr(value, "detach"):
            return value
        array = _to_array(value)
        if key in self._scalar_state and array.size == 1:
            number = array.item()
            return int(number) if key == "step" and float(number).is_integer() else number
        if array.dtype.kind == "f" and param.dtype.kind == "f":
            array = array.astype(param.dtype)  # always a copy
            if key is not None and array.shape != param.shape:
                raise ValueError(f"{type(self).__name__}.load_state_dict: state {key!r} of "
                                 f"parameter {index} has shape {tuple(array.shape)} but the "
                                 f"parameter has shape {param.shape}")
        else:
            array = array.copy()
        return Tensor._wrap(array)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {group[k]}" for k in sorted(group) if k != "params")
        return "\n".join(lines) + "\n)"


def _to_array(value) -> np.ndarray:
    if isinstance(value, Tensor):
        return value._data
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch.Tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _check(optimizer: str, ok: bool, message: str) -> None:
    """Raise ``ValueError("<Optimizer>: <message>")`` unless ``ok``."""
    if not ok:
        raise ValueError(f"{optimizer}: {message}")


def _check_common(optimizer: str, options: dict[str, Any]) -> None:
    """Validate the options most optimisers share: lr, eps, weight_decay, betas."""
    lr = options.get("lr", 0.0)
    _check(optimizer, lr >= 0.0, f"invalid learning rate {lr}")
    if "eps" in options:
        _check(optimizer, options["eps"] >= 0.0, f"invalid epsilon value {options['eps']}")
    wd = options.get("weight_decay", 0.0)
    _check(optimizer, wd >= 0.0, f"invalid weight_decay value {wd}")
    if "betas" in options:
        betas = options["betas"]
        _check(optimizer, len(betas) == 2, f"betas must be a pair, got {betas!r}")
        for i, beta in enumerate(betas):
            _check(optimizer, 0.0 <= beta < 1.0,
                   f"invalid beta parameter at index {i}: {beta} (need 0 <= beta < 1)")
