"""Helpers for the checkpoint tests: deep equality of loaded structures."""

from __future__ import annotations

import math

import numpy as np

import ember as em


def assert_same(loaded, original, where="top"):
    """Equal structure, keys, types, shapes, dtypes and bytes, recursively."""
    if isinstance(original, em.Tensor):
        assert isinstance(loaded, em.Tensor), where
        assert_same(loaded.numpy(), original.detach().numpy(), where)
    elif isinstance(original, np.ndarray):
        assert isinstance(loaded, np.ndarray), where
        assert loaded.shape == original.shape, (where, loaded.shape, original.shape)
        assert loaded.dtype == original.dtype, (where, loaded.dtype, original.dtype)
        assert np.array_equal(loaded, original, equal_nan=original.dtype.kind == "f"), where
    elif isinstance(original, dict):
        assert isinstance(loaded, dict) and list(loaded) == list(original), where
        for key in original:
            assert_same(loaded[key], original[key], f"{where}/{key}")
    elif isinstance(original, (list, tuple)):
        assert type(loaded) is type(original) and len(loaded) == len(original), where
        for i, (a, b) in enumerate(zip(loaded, original, strict=True)):
            assert_same(a, b, f"{where}/{i}")
    elif isinstance(original, float) and math.isnan(original):
        assert isinstance(loaded, float) and math.isnan(loaded), where
    else:
        assert type(loaded) is type(original) and loaded == original, (where, loaded, original)
