"""ember.backend: the array module and the allocator setting."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import numpy as np
import pytest

from ember import backend


def test_numpy_arrays_use_numpy():
    assert backend.get_array_module(np.zeros(2), 1.0) is np


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                    reason="mallopt is glibc's")
def test_keep_freed_memory_sets_and_restores_glibc_thresholds():
    assert backend.keep_freed_memory(False) is True
    assert backend.keep_freed_memory(True) is True


def test_import_respects_ember_keep_memory_zero():
    """With EMBER_KEEP_MEMORY=0 importing ember leaves malloc alone (and still works)."""
    code = "import ember as em; print(em.ones(2).sum().item())"
    env = dict(os.environ, EMBER_KEEP_MEMORY="0")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "2.0"
