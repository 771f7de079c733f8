"""Transfer learning: freeze a pretrained network, replace its head, and give its layers
their own learning rates.

The three ways a course teaches to reuse a network trained on one task for another:

* **feature extraction**: ``freeze(model, except_="fc")`` keeps every pretrained weight
  (and every batch-norm statistic) fixed, and only the new head learns;
* **fine-tuning**: every layer trains from the pretrained weights, usually with a smaller
  learning rate;
* **discriminative fine-tuning** (Howard & Ruder, 2018, "Universal Language Model
  Fine-tuning for Text Classification"): the layers nearest the input, which hold the
  most general features, learn slowest: ``lr_l = lr / decay^(L - l)`` for the L groups
  of layers (:func:`discriminative_lr`).

A frozen batch-norm layer stays in evaluation mode even when ``model.train()`` is called
(its running statistics are pretrained weights too: updating them on the new data while
its scale and shift stay fixed would shift the features the head sees).

>>> import ember as em
>>> model = em.models.lenet5()
>>> head = em.nn.utils.replace_head(model, 3)
>>> em.nn.utils.freeze(model, except_=["classifier.5"]) is model
True
>>> [name for name, p in model.named_parameters() if p.requires_grad]
['classifier.5.weight', 'classifier.5.bias']
>>> groups = em.nn.utils.discriminative_lr(em.nn.utils.unfreeze(model), lr=1e-3, decay=10)
>>> [(g["name"], g["lr"]) for g in groups]
[('features', 0.0001), ('classifier', 0.001)]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ember.nn.layers.linear import Linear
from ember.nn.layers.norm import _BatchNorm
from ember.nn.module import Module

__all__ = ["freeze", "unfreeze", "frozen_batch_norms", "replace_head", "param_groups",
           "discriminative_lr"]


def _named(model: Module, names, what: str) -> list[str]:
    """Check that every name is a submodule or parameter of ``model``."""
    if names is None:
        return []
    if isinstance(names, (str, Module)):
        names = [names]
    modules = dict(model.named_modules())
    parameters = dict(model.named_parameters())
    paths = []
    for name in names:
        if isinstance(name, Module):
            found = [path for path, m in modules.items() if m is name]
            if not found:
                raise ValueError(f"{what}: the module {type(name).__name__} is not part of "
                                 "the model")
            paths.append(found[0])
            continue
        if name not in modules and name not in parameters:
            close = sorted(p for p in list(modules) + list(parameters)
                           if p and (name in p or p.split(".")[0] == name.split(".")[0]))
            hint = f"; did you mean {', '.join(close[:5])}?" if close else \
                f"; its top-level parts are {', '.join(n for n, _ in model.named_children())}"
            raise ValueError(f"{what}: the model has no submodule or parameter {name!r}{hint}")
        paths.append(name)
    return paths


def _under(path: str, prefixes: list[str]) -> bool:
    return any(p == "" or path == p or path.startswith(p + ".") for p in prefixes)


def freeze(module: Module, except_=None, *, batch_norm_eval: bool = True) -> Module:
    """Stop every parameter of ``module`` from learning, except those in ``except_``.

    Args:
        module: the (pretrained) network.
        except_: submodule or parameter names (``"fc"``, ``"classifier.6"``,
            ``"layer4"``), or modules, that stay trainable.
        batch_norm_eval: keep the frozen batch-norm layers in evaluation mode (their
            running statistics fixed) even under ``module.train()``.

    Returns:
        ``module``, whose frozen parameters have ``requires_grad=False``: they get no
        gradient, optimisers skip them, and :func:`ember.summary` counts them as frozen.
    """
    keep = _named(module, except_, "freeze")
    for name, p in module.named_parameters():
        p.requires_grad_(_under(name, keep))
    for name, m in module.named_modules():
        if isinstance(m, _BatchNorm):
            frozen = batch_norm_eval and not _under(name, keep) and not any(
                p.requires_grad for p in m.parameters())
            object.__setattr__(m, "_stay_eval", frozen)
            if frozen:
                object.__setattr__(m, "training", False)
    return module


def unfreeze(module: Module, only=None) -> Module:
    """Let the parameters of ``module`` (or only of the submodules/parameters named in
    ``only``) learn again; their batch-norm layers follow ``train()``/``eval()`` again
    (call ``module.train()`` to put them back in training mode)."""
    chosen = _named(module, only, "unfreeze") or [""]
    for name, p in module.named_parameters():
        if _under(name, chosen):
            p.requires_grad_(True)
    for name, m in module.named_modules():
        if isinstance(m, _BatchNorm) and _under(name, chosen):
            object.__setattr__(m, "_stay_eval", False)
    return module


def frozen_batch_norms(module: Module) -> list[str]:
    """The names of the batch-norm layers that :func:`freeze` keeps in evaluation mode."""
    return [name for name, m in module.named_modules() if m.__dict__.get("_stay_eval")]


def replace_head(model: Module, num_classes: int, name: str | None = None) -> Linear:
    """Replace the output layer of ``model`` by a new, randomly initialised
    ``Linear(in_features, num_classes)`` (the same dtype), and return it.

    Args:
        model: a classifier.
        num_classes: the new task's number of classes.
        name: the head's path (``"fc"``, ``"classifier.6"``); by default the last
            :class:`~ember.nn.Linear` of the model (torchvision's ``fc`` in a ResNet,
            ``classifier[6]`` in a VGG or AlexNet, ``classifier[-1]`` in LeNet-5).
    """
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
        raise ValueError(f"replace_head: num_classes must be a positive int, got "
                         f"{num_classes!r}")
    if name is None:
        linears = [path for path, m in model.named_modules() if isinstance(m, Linear)]
        if not linears:
            raise ValueError(f"replace_head: {type(model).__name__} has no Linear layer; "
                             "name the head to replace")
        name = linears[-1]
    _named(model, [name], "replace_head")
    old = model.get_submodule(name)
    if not isinstance(old, Linear):
        raise ValueError(f"replace_head: {name} is a {type(old).__name__}, not a Linear")
    head = Linear(old.in_features, num_classes, bias=old.bias is not None,
                  dtype=old.weight.dtype)
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    parent._modules[child] = head  # in place: a Sequential keeps its order
    return head


def param_groups(model: Module, lrs: Mapping[str, float], default_lr: float | None = None,
                 **options) -> list[dict]:
    """Optimizer parameter groups with a learning rate per part of the model.

    Args:
        model: the network.
        lrs: ``{submodule or parameter name: lr}``; a parameter takes the rate of the
            longest name that contains it (``{"": 1e-4, "fc": 1e-2}``: the head fast, the
            rest slow).
        default_lr: for the trainable parameters no name covers (None: they are left out).
        options: other options for every group (``weight_decay=1e-4``).

    Returns:
        ``[{"params": [...], "lr": ..., "name": ...}, ...]`` for any optimizer; frozen
        parameters are left out.
    """
    names = sorted(_named(model, list(lrs), "param_groups"), key=len, reverse=True)
    groups: dict[str, list] = {}
    for path, p in model.named_parameters():
        if not p.requires_grad:
            continue
        owner = next((n for n in names if _under(path, [n])), None)
        if owner is None and default_lr is None:
            continue
        groups.setdefault(owner, []).append(p)
    out = []
    for owner, params in groups.items():
        lr = default_lr if owner is None else lrs[owner]
        out.append({"params": params, "lr": lr, "name": owner or "(rest)", **options})
    if not out:
        raise ValueError("param_groups: no trainable parameter is covered")
    return out


def discriminative_lr(model: Module, lr: float, decay: float = 2.6,
                      groups: Sequence[str] | Iterable[str] | None = None,
                      **options) -> list[dict]:
    """Discriminative fine-tuning: group ``l`` of ``L`` (from the input to the output)
    learns at ``lr / decay^(L - l)``, the last (the head) at ``lr``.

    Args:
        model: the network.
        lr: the head's learning rate.
        decay: the factor between neighbouring groups (2.6 in ULMFiT).
        groups: the names of the groups, input first (default: the top-level submodules
            that hold trainable parameters, in order).
        options: other options for every group.
    """
    if decay <= 0:
        raise ValueError(f"discriminative_lr: decay must be positive, got {decay}")
    if groups is None:
        groups = [name for name, child in model.named_children()
                  if any(p.requires_grad for p in child.parameters())]
    groups = list(groups)
    count = len(groups)
    rates = {name: lr / decay ** (count - 1 - i) for i, name in enumerate(groups)}
    return param_groups(model, rates, **options)
