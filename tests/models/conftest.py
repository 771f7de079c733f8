"""Fixtures for the model tests."""

from __future__ import annotations

import pytest

from ember.nn import init
from tests.vision.torchvision_oracle import import_torchvision


@pytest.fixture
def cheap_init(monkeypatch):
    """Random initialisers fill zeros instead: building VGG-16 then takes milliseconds,
    not seconds (its 123M classifier weights are drawn twice). For tests of counts, names
    and shapes, which do not depend on the values."""

    def zeros(tensor, *args, **kwargs):
        return init.constant_(tensor, 0.0)

    for name in ("uniform_", "normal_", "trunc_normal_", "kaiming_uniform_",
                 "kaiming_normal_", "xavier_uniform_", "xavier_normal_"):
        monkeypatch.setattr(init, name, zeros)


@pytest.fixture
def torch():
    """PyTorch for the parity tests against torchvision's architectures, on one thread
    (small models on a shared 2-core machine: threads only contend), float32 default."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield torch
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def torchvision():
    """torchvision's own pure-Python model definitions, the oracle for its architectures
    (imported with its C++ registrations stubbed: see ``tests/vision/torchvision_oracle``)."""
    return import_torchvision()
