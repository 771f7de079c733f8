"""Shared checks for the experiments' smoke runs (imported by the test modules here)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ember import experiments

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def smoke_twice(name: str, tmp_path_factory) -> tuple:
    """Two smoke runs of ``name`` with seed 0, into two folders."""
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    first = experiments.run(name, out=tmp_path_factory.mktemp("first"), size="smoke")
    second = experiments.run(name, out=tmp_path_factory.mktemp("second"), size="smoke")
    return first, second


def check_result(result, name: str) -> None:
    """The fields every Result must have, filled in consistently."""
    module = experiments.get(name)
    assert result.name == name == module.NAME
    assert result.claim == module.CLAIM and result.claim
    assert result.size == "smoke" and result.seconds > 0
    assert result.plot is not None and result.plot.name == f"{name}-smoke.png"
    assert result.plot.read_bytes()[:8] == PNG_SIGNATURE
    width, height = _png_size(result.plot)
    assert width >= 300 and height >= 200, (width, height)  # readable, not a thumbnail
    assert result.finding.startswith("held: " if result.held else "did not hold: ")
    assert result.table and all(row.keys() == result.table[0].keys() for row in result.table)
    for row in result.table:
        for value in row.values():
            if isinstance(value, float):
                assert not math.isnan(value), row
    assert result.summary().endswith(result.finding)


def _png_size(path) -> tuple[int, int]:
    header = path.read_bytes()[16:24]  # the IHDR chunk's width and height
    return int.from_bytes(header[:4], "big"), int.from_bytes(header[4:], "big")


def check_repeatable(first, second) -> None:
    """Same seed, same numbers: the table (wall-clock columns aside) and the verdict."""
    assert first.numbers() == second.numbers()
    assert first.held == second.held
    if not any(key.endswith("(s)") for key in first.table[0]):
        assert first.finding == second.finding
    assert first.plot != second.plot


def arrays_equal(a, b) -> bool:
    """Nested dicts of arrays/lists, equal value for value."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(arrays_equal(a[k], b[k]) for k in a)
    return np.array_equal(np.asarray(a), np.asarray(b))
