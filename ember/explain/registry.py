"""The registry of worked calculations, and the object each one returns.

A worked calculation is a function that returns an :class:`Explanation`; ``@register``
adds it to the registry with the command-line options that fill its arguments, and the
``ember explain`` command builds one subcommand per registered topic. Adding one::

    @register("iou", "intersection over union of two boxes",
              option("--box-a", "box_a", as_vector, "x1 y1 x2 y2"),
              option("--box-b", "box_b", as_vector, "x1 y1 x2 y2"))
    def iou(box_a, box_b) -> Explanation:
        ...
        return Explanation("Intersection over union", lines, result, iou=result)

then import its module in ``ember/explain/__init__.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Explanation", "Option", "Topic", "option", "switch", "register", "topics",
           "REQUIRED"]

REQUIRED: Any = object()  # an option without a default must be given


class Explanation:
    """A worked calculation: ``str()`` is the working (formula, numbers substituted,
    result); ``result`` is the answer and every named number is an attribute.

    >>> from ember.explain import Explanation
    >>> e = Explanation("Area of a rectangle", ["A = w h", "  = 3*4", "  = 12"], 12,
    ...                 w=3, h=4)
    >>> print(e)
    Area of a rectangle
      A = w h
        = 3*4
        = 12
    >>> e.result, e.w, e.values["h"]
    (12, 3, 4)
    """

    def __init__(self, title: str, lines: list[str], result: Any, **values: Any) -> None:
        self.title, self.lines, self.result = title, list(lines), result
        self.values = dict(values)

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        raise AttributeError(f"this explanation has no value {name!r}; it has "
                             + ", ".join(["result", *values]))

    def __str__(self) -> str:
        return "\n".join([self.title, *("  " + line for line in self.lines)])

    __repr__ = __str__


@dataclass(frozen=True)
class Option:
    """A command-line option that fills one argument of a worked calculation.

    ``parse`` turns the text into the value (raising ValueError with a clear message);
    a ``switch`` has no text and sets ``value`` when present.
    """

    flag: str
    param: str
    parse: Callable[[str], Any] | None
    help: str
    default: Any = REQUIRED
    choices: tuple | None = None
    value: Any = None


def option(flag: str, param: str, parse: Callable[[str], Any], help: str,
           default: Any = REQUIRED, choices: tuple | None = None) -> Option:
    """``--flag TEXT``, parsed by ``parse`` into the argument ``param``."""
    return Option(flag, param, parse, help, default, choices)


def switch(flag: str, param: str, value: Any, help: str) -> Option:
    """``--flag`` without a value: sets the argument ``param`` to ``value``."""
    return Option(flag, param, None, help, default=None, value=value)


@dataclass(frozen=True)
class Topic:
    """A registered worked calculation: its command name, summary, function, options."""

    name: str
    summary: str
    function: Callable[..., Explanation]
    options: tuple[Option, ...] = field(default=())


_TOPICS: dict[str, Topic] = {}


def register(name: str, summary: str, *options: Option):
    """Decorator: add a worked calculation under ``name`` (``ember explain NAME``)."""

    def decorate(function: Callable[..., Explanation]) -> Callable[..., Explanation]:
        if name in _TOPICS:
            raise ValueError(f"explain: topic {name!r} is registered twice")
        _TOPICS[name] = Topic(name, summary, function, tuple(options))
        return function

    return decorate


def topics() -> dict[str, Topic]:
    """Every registered topic by name, in registration order."""
    return dict(_TOPICS)
