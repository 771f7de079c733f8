"""Module and Parameter: how layers hold their weights, sub-layers and running statistics.

A :class:`Module` registers what is assigned to it: a :class:`Parameter` becomes a
parameter, a Module a child, and ``register_buffer`` adds a tensor that is saved but not
trained (BatchNorm's running mean). Names compose with dots, exactly as in PyTorch
(``features.3.weight``), so a PyTorch ``state_dict`` maps key for key.

>>> import ember as em
>>> class TwoLayer(em.nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.hidden = em.nn.Linear(4, 8)
...         self.out = em.nn.Linear(8, 2)
...     def forward(self, x):
...         return self.out(self.hidden(x).relu())
>>> net = TwoLayer()
>>> [name for name, _ in net.named_parameters()]
['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
>>> net(em.randn(3, 4)).shape
(3, 2)
"""

from __future__ import annotations

import collections
import itertools
from collections import OrderedDict
from collections.abc import Callable, Iterator

import numpy as np

from ember import devices, dtypes
from ember.autograd.engine import no_grad
from ember.errors import ShapeError, StateDictError
from ember.tensor import Tensor


class Parameter(Tensor):
    """A tensor that a Module trains: assigning one to a Module registers it.

    ``Parameter(data)`` shares memory with ``data`` and requires grad by default.
    """

    __slots__ = ()

    def __new__(cls, data=None, requires_grad: bool = True):
        if data is None:
            data = np.zeros((0,), dtypes.get_default_dtype())
        array = data._data if isinstance(data, Tensor) else np.asarray(data)
        if array.dtype.kind != "f":
            raise TypeError(f"Parameter: needs a floating-point tensor, got {array.dtype}")
        p = Tensor._wrap.__func__(cls, array)
        p.requires_grad = requires_grad
        return p

    def __init__(self, data=None, requires_grad: bool = True) -> None:
        pass  # everything happens in __new__

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


_IncompatibleKeys = collections.namedtuple("IncompatibleKeys", ["missing_keys",
                                                                "unexpected_keys"])


class Module:
    """Base class of every layer and model: subclass it and define ``forward``.

    Assign parameters, buffers and sub-modules as attributes in ``__init__`` (after
    ``super().__init__()``); call the module like a function to run ``forward``.
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "training", True)

    def forward(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} defines no forward(); "
                        "subclasses of Module must define forward(self, ...)")

    def __call__(self, *args, **kwargs):
        if self._forward_pre_hooks:
            for hook in list(self._forward_pre_hooks.values()):
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        out = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                result = hook(self, args, out)
                if result is not None:
                    out = result
        return out

    # ------------------------------------------------------------------ registration

    def __setattr__(self, name: str, value) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() is called; "
                "call super().__init__() first in your module's __init__"
            )
        params, buffers, modules = self._parameters, self._buffers, self._modules
        if isinstance(value, Parameter):
            self._discard(name)
            params[name] = value
        elif isinstance(value, Module):
            self._discard(name)
            modules[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(f"cannot assign a {type(value).__name__} as parameter "
                                f"{name!r} (a Parameter or None is required)")
            params[name] = None
        elif name in modules:
            if value is not None:
                raise TypeError(f"cannot assign a {type(value).__name__} as child module "
                                f"{name!r} (a Module or None is required)")
            modules[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign a {type(value).__name__} as buffer {name!r} "
                                "(a Tensor or None is required)")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _discard(self, name: str) -> None:
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __getattr__(self, name: str):
        # only called when normal lookup fails: parameters, buffers and children
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or None, a declared-but-absent one such as ``bias=False``)."""
        _check_name(name, self)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, "
                            f"got {type(param).__name__}")
        self._discard(name)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor that is part of the state but not trained (e.g. running means).

        Persistent buffers are saved in ``state_dict``.
        """
        _check_name(name, self)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, "
                            f"got {type(tensor).__name__}")
        self._discard(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name``."""
        _check_name(name, self, allow_digits=True)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module, got "
                            f"{type(module).__name__}")
        self._discard(name)
        self._modules[name] = module

    register_module = add_module

    def register_forward_hook(self, hook: Callable):
        """Call ``hook(module, inputs, output)`` after every forward; a returned value
        replaces the output. Returns a handle with ``remove()``."""
        return _Handle.add(self._forward_hooks, hook)

    def register_forward_pre_hook(self, hook: Callable):
        """Call ``hook(module, inputs)`` before every forward; a returned value replaces
        the inputs. Returns a handle with ``remove()``."""
        return _Handle.add(self._forward_pre_hooks, hook)

    # ------------------------------------------------------------------ traversal

    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True
                      ) -> Iterator[tuple[str, Module]]:
        """(name, module) for this module and every descendant, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is None:
                continue
            yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                           remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool = True):
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(name, parameter) pairs; a parameter shared by two layers appears once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        """The descendant at a dotted path, e.g. ``model.get_submodule("features.3")``."""
        module = self
        for part in target.split(".") if target else []:
            if part not in module._modules or module._modules[part] is None:
                raise AttributeError(f"get_submodule: {type(module).__name__} has no child "
                                     f"{part!r} (path {target!r})")
            module = module._modules[part]
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at a dotted path, e.g. ``"classifier.1.weight"``."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._parameters:
            raise AttributeError(f"get_parameter: {target!r} is not a parameter")
        return module._parameters[name]

    # ------------------------------------------------------------------ modes and grads

    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout active, BatchNorm uses batch statistics); returns self."""
        if not isinstance(mode, bool):
            raise TypeError("train(): mode must be a bool")
        for module in self.modules():
            # a batch norm frozen by nn.utils.freeze stays in evaluation mode
            stay = mode and module.__dict__.get("_stay_eval", False)
            object.__setattr__(module, "training", mode and not stay)
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze (True) every parameter; returns self.

        Frozen parameters get no gradient and optimisers skip them: fine-tune only the
        head of a pretrained network with ``model.features.requires_grad_(False)``.
        """
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient (to None, or to zeros in place)."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.detach_()
                p.grad.zero_()

    # ------------------------------------------------------------------ state

    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False
                   ) -> OrderedDict:
        """Every parameter and persistent buffer by dotted name (PyTorch's key names).

        The values share memory with the module (detached unless ``keep_vars``).
        """
        if destination is None:
            destination = OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, child in self._modules.items():
            if child is not None:
                child.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy values into the existing parameters and buffers (same objects, new values).

        Values may be ember tensors, NumPy arrays or PyTorch tensors; each is cast to the
        parameter's dtype. With ``strict``, missing or unexpected keys raise a KeyError
        listing them; a shape mismatch always raises, naming the key and both shapes.
        Returns ``(missing_keys, unexpected_keys)``.
        """
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append("missing keys " + ", ".join(missing))
            if unexpected:
                parts.append("unexpected keys " + ", ".join(unexpected))
            raise StateDictError(f"load_state_dict for {type(self).__name__}: "
                                 + "; ".join(parts))
        arrays = {}
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = _to_array(state_dict[key])
            if value.shape != target.shape:
                raise ShapeError(f"load_state_dict: {key} has shape {tuple(value.shape)} in "
                                 f"the state dict but {target.shape} in the model")
            arrays[key] = value
        with no_grad():  # all shapes checked first: a failed load changes nothing
            for key, value in arrays.items():
                own[key].copy_(value)
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ conversion

    def _apply(self, fn: Callable[[np.ndarray], np.ndarray]) -> Module:
        """Replace every parameter's and buffer's array by ``fn(array)``, in place."""
        for module in self.modules():
            for registry in (module._parameters, module._buffers):
                for t in registry.values():
                    if t is None:
                        continue
                    t._data = fn(t._data)
                    t._vc[0] += 1
                    if t.grad is not None:
                        t.grad._data = fn(t.grad._data)
        return self

    def to(self, *args, **kwargs) -> Module:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)`` or ``to(tensor)``: floating
        parameters and buffers converted in place; returns self.

        The device must be one ember has (the CPU); another is a DeviceError.
        """
        _, dtype, _ = devices.parse_to(args, kwargs, "Module.to")
        if dtype is None:
            return self
        dtype = dtypes.as_dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired "
                            f"dtype={dtype}")
        return self._apply(lambda a: a.astype(dtype) if a.dtype.kind == "f" else a)

    def float(self) -> Module:
        return self.to(dtypes.float32)

    def double(self) -> Module:
        return self.to(dtypes.float64)

    def half(self) -> Module:
        return self.to(dtypes.float16)

    def cpu(self) -> Module:
        return self

    def cuda(self, device=None) -> Module:
        """Move to a CUDA GPU: ember has none, so this is a DeviceError."""
        devices.check_device("cuda" if device is None else device, "Module.cuda")
        return self

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every submodule (children first) and on self, e.g. to initialise."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ representation

    def extra_repr(self) -> str:
        """The arguments shown in this module's repr line (override in layers)."""
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, child in self._modules.items():
            text = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {text}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        body = "\n  ".join(([extra] if extra else []) + lines)
        return f"{type(self).__name__}(\n  {body}\n)"


class _Handle:
    _ids = itertools.count()

    def __init__(self, registry: OrderedDict, key: int) -> None:
        self.registry, self.key = registry, key

    @classmethod
    def add(cls, registry: OrderedDict, hook) -> _Handle:
        key = next(cls._ids)
        registry[key] = hook
        return cls(registry, key)

    def remove(self) -> None:
        self.registry.pop(self.key, None)


def _check_name(name: str, module: Module, allow_digits: bool = False) -> None:
    if not isinstance(name, str):
        raise TypeError(f"module attribute names must be strings, got {type(name).__name__}")
    if "." in name or name == "":
        raise KeyError(f"invalid name {name!r}: names must be non-empty and contain no '.'")
    if name in module.__dict__ and name not in module._parameters | module._buffers:
        raise KeyError(f"attribute {name!r} already exists on {type(module).__name__}")


def _to_array(value) -> np.ndarray:
    if isinstance(value, Tensor):
        return value._data
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch.Tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)
