"""Shared fixtures: a fixed seed per test, and the optional PyTorch oracle."""

from __future__ import annotations

import numpy as np
import pytest

import ember as em


@pytest.fixture(autouse=True)
def _seed():
    em.manual_seed(0)
    yield
    em.set_default_dtype(em.float32)


@pytest.fixture
def torch():
    """PyTorch as the oracle, float64 throughout (tests using it skip without it)."""
    torch = pytest.importorskip("torch")
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(torch.float32)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
