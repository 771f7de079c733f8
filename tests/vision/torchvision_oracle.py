"""torchvision's pure-Python box and RoI code as the oracle.

torchvision's C++ extension does not load with the CPU build of torch used here, and
importing the package then fails in its meta-kernel registrations. Stubbing the two
registration modules before the import leaves its pure-Python code usable: the box
functions and IoU losses, and ``_roi_align`` (its Python transcription of the RoIAlign
kernel). ``nms`` and ``roi_pool`` live in C++ only; they are tested against the published
definitions in this folder's reference code.

Test-only: ember never imports torch or torchvision.
"""

from __future__ import annotations

import sys
import types

import pytest


def torchvision_ops():
    """``torchvision.ops`` (skipping the test where torchvision is not installed)."""
    pytest.importorskip("torch")
    for name in ("torchvision._meta_registrations", "torchvision._autograd_registrations"):
        sys.modules.setdefault(name, types.ModuleType(name))
    return pytest.importorskip("torchvision.ops")


def roi_align_python():
    """torchvision's pure-Python RoIAlign, without the ``torch.compile`` wrapper."""
    import importlib

    torchvision_ops()
    module = importlib.import_module("torchvision.ops.roi_align")
    return module._roi_align.__wrapped__
