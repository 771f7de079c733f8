"""Reading the numbers of a worked calculation (from Python values or command-line text)
and writing them back the way a learner writes them by hand.

Each ``as_*`` accepts either the value itself or its text (``"1 0 2; 5 4 2"`` for a
matrix: rows separated by ``;`` or new lines, numbers by spaces or commas), so the same
function checks a Python argument and parses a command-line option.
"""

from __future__ import annotations

import numpy as np

__all__ = ["as_int", "as_number", "as_padding", "as_vector", "as_matrix", "number",
           "product", "signed_sum", "matrix_lines"]


def as_int(value, name: str = "value", minimum: int = 1) -> int:
    """A whole number >= ``minimum`` (1 unless told)."""
    text = str(value).strip()
    try:
        result = int(text) if isinstance(value, str) else _whole(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number, got {text!r}") from None
    if result < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {result}")
    return result


def _whole(value) -> int:
    if isinstance(value, bool) or float(value) != int(value):
        raise ValueError
    return int(value)


def as_number(value, name: str = "value") -> float:
    """A real number."""
    try:
        result = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(result):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return result


def as_padding(value, name: str = "padding") -> int | str:
    """A padding: a whole number >= 0, ``"same"`` or ``"valid"``."""
    if isinstance(value, str) and value.strip().lower() in ("same", "valid"):
        return value.strip().lower()
    try:
        return as_int(value, name, minimum=0)
    except ValueError:
        raise ValueError(f"{name} must be a whole number >= 0, 'same' or 'valid', "
                         f"got {value!r}") from None


def as_matrix(value, name: str = "matrix") -> np.ndarray:
    """A 2-d array of numbers (float64)."""
    if isinstance(value, str):
        rows = [row.replace(",", " ").split()
                for row in value.replace("\n", ";").split(";") if row.strip()]
        if not rows:
            raise ValueError(f"{name} is empty")
        if len({len(row) for row in rows}) != 1:
            raise ValueError(f"{name}: rows have different lengths "
                             f"({', '.join(str(len(row)) for row in rows)} numbers)")
        try:
            array = np.array([[float(v) for v in row] for row in rows])
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from None
    else:
        try:
            array = np.array(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a matrix of numbers, got {value!r}") from None
        if array.ndim == 1:
            array = array[None, :]
    if array.ndim != 2 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty matrix, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must contain finite numbers only")
    return array


def as_vector(value, name: str = "vector") -> np.ndarray:
    """A 1-d array of numbers (float64); a single number is a vector of one."""
    if isinstance(value, str) or np.ndim(value) >= 1:
        array = as_matrix(value, name) if isinstance(value, str) else np.asarray(
            value, dtype=np.float64)
    else:
        array = np.array([as_number(value, name)])
    if array.ndim == 2 and 1 in array.shape:
        array = array.reshape(-1)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty vector, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must contain finite numbers only")
    return array


# ---------------------------------------------------------------- writing numbers

def number(x, digits: int = 4) -> str:
    """A number as a learner writes it: ``2`` not ``2.0``, at most ``digits`` decimals.

    >>> from ember.explain.values import number
    >>> number(2.0), number(-0.5), number(0.622459), number(-0.0)
    ('2', '-0.5', '0.6225', '0')
    """
    x = float(x)
    if x == 0:
        return "0"
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    if abs(x) == np.inf:
        return "-inf" if x < 0 else "inf"
    text = np.format_float_positional(x, precision=digits, trim="-")
    return "0" if text in ("-0", "0") else text


def _factor(x) -> str:
    text = number(x)
    return f"({text})" if text.startswith("-") else text


def product(a, b) -> str:
    """``a*b``, a negative factor in brackets: ``1*(-1)``."""
    return f"{_factor(a)}*{_factor(b)}"


def signed_sum(values) -> str:
    """``-1 + 0 + 2 - 5``: the terms of a sum with their signs."""
    parts = []
    for i, v in enumerate(values):
        text = number(v)
        if i == 0:
            parts.append(text)
        elif text.startswith("-"):
            parts.append(f"- {text[1:]}")
        else:
            parts.append(f"+ {text}")
    return " ".join(parts)


def matrix_lines(array: np.ndarray) -> list[str]:
    """The rows of a matrix, numbers right-aligned in columns."""
    cells = [[number(v) for v in row] for row in np.atleast_2d(array)]
    width = max(len(c) for row in cells for c in row)
    return ["  ".join(c.rjust(width) for c in row) for row in cells]
