"""Search spaces: ``"lr=loguniform(1e-4,1e-1)"`` and friends, as Optuna distributions.

A search space maps each hyperparameter's name to the set it is drawn from:

=============================  =================================================  ============
spec                           the set                                            distribution
=============================  =================================================  ============
``uniform(a,b)``               real numbers in [a, b], evenly weighted            float
``uniform(a,b,step)``          a, a + step, a + 2 step, ... up to b               float, step
``loguniform(a,b)``            real numbers in [a, b], evenly weighted in log x   float, log
``int(a,b)``, ``int(a,b,s)``   the integers a, a + s, ... up to b                 int
``logint(a,b)``                the integers in [a, b], evenly weighted in log x   int, log
``choice(v1,v2,...)``          one of the listed values (numbers or words)        categorical
a plain value (``epochs=5``)   that value only: fixed, not searched               --
=============================  =================================================  ============

A log-uniform draw gives each decade the same chance: ``loguniform(1e-4,1e-1)`` puts
a third of its draws in [1e-4, 1e-3), a third in [1e-3, 1e-2) and a third in
[1e-2, 1e-1], because :math:`\\log x` is uniform on :math:`[\\log a, \\log b]`. That is
the right prior for a learning rate or a weight decay, whose effect depends on its order
of magnitude.

Specs are parsed, never evaluated: a space from the command line cannot run code.

>>> space = Space.parse(["lr=loguniform(1e-4,1e-1)", "batch_size=choice(32,64,128)",
...                      "epochs=5"])
>>> space.distributions["lr"]
FloatDistribution(high=0.1, log=True, low=0.0001, step=None)
>>> space.fixed
{'epochs': 5}
>>> space.grid(points=4)["lr"]
[0.0001, 0.001, 0.01, 0.1]
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

KINDS = ("uniform", "loguniform", "int", "logint", "choice")
_SPEC = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*=\s*(.+?)\s*$")
_CALL = re.compile(r"^([A-Za-z_]+)\s*\((.*)\)$", re.DOTALL)


class Space:
    """A search space: distributions to search over, and fixed values.

    Args:
        distributions: name -> Optuna distribution (searched).
        fixed: name -> value (passed to the objective as is, never searched).

    Build one with :meth:`parse` from specs (strings, or a dict whose values are specs,
    lists of choices, distributions or plain values).
    """

    def __init__(self, distributions: Mapping[str, BaseDistribution] | None = None,
                 fixed: Mapping[str, Any] | None = None) -> None:
        self.distributions = dict(distributions or {})
        self.fixed = dict(fixed or {})
        both = set(self.distributions) & set(self.fixed)
        if both:
            raise ValueError(f"search space: {', '.join(sorted(both))} both searched and fixed")

    @classmethod
    def parse(cls, specs: Space | Mapping[str, Any] | Iterable[str] | str | None) -> Space:
        """A :class:`Space` from ``["name=spec", ...]``, ``{"name": spec}`` or a Space.

        In a dict a value may be a spec string (``"loguniform(1e-4,1e-1)"``), a list or
        tuple (the choices), an Optuna distribution, or any other value (fixed).

        Raises:
            ValueError: naming the spec that could not be read and why.
        """
        if specs is None:
            return cls()
        if isinstance(specs, Space):
            return specs
        if isinstance(specs, str):
            specs = [specs]
        distributions: dict[str, BaseDistribution] = {}
        fixed: dict[str, Any] = {}
        if isinstance(specs, Mapping):
            items = list(specs.items())
        else:
            items = []
            for spec in specs:
                match = _SPEC.match(str(spec))
                if not match:
                    raise ValueError(f"search space: cannot read {spec!r}; write NAME=SPEC, "
                                     "e.g. lr=loguniform(1e-4,1e-1)")
                items.append((match.group(1), match.group(2)))
        for name, value in items:
            if name in distributions or name in fixed:
                raise ValueError(f"search space: {name!r} is given twice")
            if isinstance(value, BaseDistribution):
                distributions[name] = value
            elif isinstance(value, (list, tuple)):
                distributions[name] = _categorical(name, list(value))
            elif isinstance(value, str):
                parsed = parse_spec(value, name)
                if isinstance(parsed, BaseDistribution):
                    distributions[name] = parsed
                else:
                    fixed[name] = parsed
            else:
                fixed[name] = value
        return cls(distributions, fixed)

    def suggest(self, trial) -> dict[str, Any]:
        """Draw every searched parameter through ``trial`` (the study's sampler chooses)
        and add the fixed ones: the parameters of one trial."""
        params = {name: suggest(trial, name, distribution)
                  for name, distribution in self.distributions.items()}
        params.update(self.fixed)
        return params

    def grid(self, points: int = 5) -> dict[str, list]:
        """Values for grid search: every choice; a range cut into ``points`` values
        evenly spaced (in log space for log ranges), ends included; an integer range with
        at most ``points`` values keeps them all."""
        return {name: grid_values(distribution, points)
                for name, distribution in self.distributions.items()}

    def names(self) -> list[str]:
        return [*self.distributions, *self.fixed]

    def __len__(self) -> int:
        return len(self.distributions)

    def __repr__(self) -> str:
        parts = [f"{name}={describe(d)}" for name, d in self.distributions.items()]
        parts += [f"{name}={value!r}" for name, value in self.fixed.items()]
        return f"Space({', '.join(parts)})"


def parse_spec(text: str, name: str = "parameter") -> BaseDistribution | Any:
    """One spec (``loguniform(1e-4,1e-1)``, ``choice(adam,sgd)``, ``5``) as an Optuna
    distribution, or the plain value for a fixed parameter."""
    text = text.strip()
    match = _CALL.match(text)
    if not match:
        if not text:
            raise ValueError(f"search space: {name} has no value")
        return _value(text)
    kind, inside = match.group(1).lower(), match.group(2)
    args = [_value(a) for a in _split(inside)] if inside.strip() else []
    where = f"search space: {name}={text}"
    if kind == "choice":
        return _categorical(name, args)
    if kind not in KINDS:
        raise ValueError(f"{where}: unknown kind {kind!r}; choose from {', '.join(KINDS)}")
    if len(args) not in (2, 3) or not all(_is_number(a) for a in args):
        raise ValueError(f"{where}: {kind} takes two numbers (low, high) and an optional "
                         "step")
    low, high = args[0], args[1]
    step = args[2] if len(args) == 3 else None
    if not low < high:
        raise ValueError(f"{where}: low must be less than high")
    if kind.startswith("log"):
        if step is not None:
            raise ValueError(f"{where}: a log range takes no step")
        if low <= 0:
            raise ValueError(f"{where}: a log range needs low > 0")
    if step is not None and not step > 0:
        raise ValueError(f"{where}: the step must be positive")
    if kind in ("int", "logint"):
        if not all(float(a).is_integer() for a in args):
            raise ValueError(f"{where}: {kind} takes integer bounds and step")
        return IntDistribution(int(low), int(high), log=kind == "logint",
                               step=int(step) if step is not None else 1)
    return FloatDistribution(float(low), float(high), log=kind == "loguniform",
                             step=float(step) if step is not None else None)


def suggest(trial, name: str, distribution: BaseDistribution):
    """``trial.suggest_*`` for one distribution."""
    if isinstance(distribution, FloatDistribution):
        return trial.suggest_float(name, distribution.low, distribution.high,
                                   step=distribution.step, log=distribution.log)
    if isinstance(distribution, IntDistribution):
        return trial.suggest_int(name, distribution.low, distribution.high,
                                 step=distribution.step, log=distribution.log)
    if isinstance(distribution, CategoricalDistribution):
        return trial.suggest_categorical(name, distribution.choices)
    raise TypeError(f"search space: {name}: unsupported distribution {distribution!r}")


def grid_values(distribution: BaseDistribution, points: int = 5) -> list:
    """The values grid search tries for one distribution (see :meth:`Space.grid`).

    >>> grid_values(IntDistribution(1, 100, log=True), 3)
    [1, 10, 100]
    >>> grid_values(FloatDistribution(0.0, 1.0, step=0.25), 10)
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    if points < 1:
        raise ValueError(f"grid: points must be at least 1, got {points}")
    if isinstance(distribution, CategoricalDistribution):
        return list(distribution.choices)
    low, high, log = distribution.low, distribution.high, distribution.log
    step = distribution.step
    if points == 1:
        raw = np.array([math.sqrt(low * high) if log else (low + high) / 2])
    elif log:
        raw = np.geomspace(low, high, points)
    else:
        raw = np.linspace(low, high, points)
    if isinstance(distribution, IntDistribution):
        values = low + np.round((raw - low) / step).astype(np.int64) * step
        return sorted({int(v) for v in np.clip(values, low, high)})
    if step is not None:
        values = np.clip(low + np.round((raw - low) / step) * step, low, high)
        return sorted({float(round(v, 12)) for v in values})
    return [float(_tidy(v)) for v in raw]


def describe(distribution: BaseDistribution) -> str:
    """A distribution as the spec that makes it (``loguniform(0.0001,0.1)``)."""
    if isinstance(distribution, CategoricalDistribution):
        return f"choice({','.join(str(c) for c in distribution.choices)})"
    kind = ("logint" if distribution.log else "int") if isinstance(
        distribution, IntDistribution) else ("loguniform" if distribution.log else "uniform")
    args = [distribution.low, distribution.high]
    if distribution.step not in (None, 1) or (
            isinstance(distribution, FloatDistribution) and distribution.step is not None):
        args.append(distribution.step)
    return f"{kind}({','.join(f'{a:g}' for a in args)})"


def _categorical(name: str, choices: list) -> CategoricalDistribution:
    if not choices:
        raise ValueError(f"search space: {name}: choice needs at least one value")
    if len(set(map(repr, choices))) != len(choices):
        raise ValueError(f"search space: {name}: a choice is listed twice")
    for choice in choices:
        if not (choice is None or isinstance(choice, (bool, int, float, str))):
            raise ValueError(f"search space: {name}: choices must be numbers, words or None, "
                             f"got {choice!r}")
    return CategoricalDistribution(choices)


def _split(text: str) -> list[str]:
    parts = [part.strip() for part in text.split(",")]
    if any(not part for part in parts):
        raise ValueError(f"search space: empty value in ({text})")
    return parts


def _value(text: str):
    """A number (int when it is written as one), a boolean, None or the word itself."""
    text = text.strip().strip("'\"")
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(
        value)


def _tidy(value: float) -> float:
    """Round away the last-bit noise of geomspace (1e-3 rather than 0.0009999999999)."""
    return float(f"{value:.12g}")
