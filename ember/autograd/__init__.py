"""Reverse-mode automatic differentiation: the graph engine, primitives and gradcheck.

``grad`` and ``backward`` differentiate to any order (``create_graph=True``);
``functional`` holds ``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``hvp`` and ``vhp``.
"""

from ember.autograd.engine import (
    backward,
    enable_grad,
    grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)

__all__ = [
    "backward", "enable_grad", "is_grad_enabled", "no_grad", "set_grad_enabled",
    "gradcheck", "GradcheckError", "primitive", "defvjp", "defvjp_argnum", "unbroadcast",
    "Primitive", "Function", "FunctionCtx", "once_differentiable",
    "grad", "gradgradcheck", "functional", "defcomposite",
]

_LAZY = {
    "primitive": "ember.autograd.primitives", "defvjp": "ember.autograd.primitives",
    "defvjp_argnum": "ember.autograd.primitives",
    "unbroadcast": "ember.autograd.primitives", "Primitive": "ember.autograd.primitives",
    "gradcheck": "ember.testing.gradcheck", "GradcheckError": "ember.testing.gradcheck",
    "Function": "ember.autograd.function", "FunctionCtx": "ember.autograd.function",
    "once_differentiable": "ember.autograd.function",
    "gradgradcheck": "ember.testing.gradcheck", "defcomposite": "ember.autograd.primitives",
}


def __getattr__(name):
    # primitives and gradcheck import the Tensor class, which imports this package:
    # load them on first use (ember.testing.gradcheck is where gradcheck lives)
    if name == "functional":
        import importlib

        return importlib.import_module("ember.autograd.functional")
    if name not in _LAZY:
        raise AttributeError(f"module 'ember.autograd' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_LAZY[name]), name)
