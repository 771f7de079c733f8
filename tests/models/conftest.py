"""Fixtures for the model tests."""

from __future__ import annotations

import pytest

from ember.nn import init


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
    """torchvision's own pure-Python model definitions, the oracle for its architectures.

    Its C++ extension does not load beside the CPU build of torch here, and
    ``torchvision/_meta_registrations.py`` (fake kernels for the extension's operators,
    imported by ``torchvision/__init__.py``) fails without it; the models need neither,
    so that module is replaced by an empty one before the import."""
    import sys
    import types

    pytest.importorskip("torch")
    name = "torchvision._meta_registrations"
    if "torchvision" not in sys.modules:
        sys.modules.setdefault(name, types.ModuleType(name))
    try:
        import torchvision
    except Exception as error:  # pragma: no cover - depends on the installed build
        pytest.skip(f"torchvision does not import here: {error}")
    return torchvision
