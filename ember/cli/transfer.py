"""``ember train --init SOURCE --freeze WHAT``: start from pretrained weights.

``--init`` takes a checkpoint written by ``ember train`` (``best.safetensors``), any
state_dict file (a ``torch.save`` file or safetensors), or the name of weights ember ships
for ``--model`` (``mnist``, ``LeNet5_Weights.MNIST``, ``DEFAULT``). Every tensor whose
name and shape match the new model is copied; the others (the head, when the number of
classes differs) keep their fresh initialisation, and the command says which.

``--freeze backbone`` trains only the head (feature extraction: every layer but the last
linear one is frozen, batch norms with their statistics); ``--freeze NAME[,NAME]``
freezes the named parts (``features``); ``none`` (the default) fine-tunes everything.
"""

from __future__ import annotations

from pathlib import Path

from ember.models import pretrained
from ember.nn import utils
from ember.nn.layers.linear import Linear


def add_arguments(train) -> None:
    """Add ``--init`` and ``--freeze`` to the ``ember train`` parser."""
    train.add_argument("--init", metavar="CHECKPOINT_OR_WEIGHTS",
                       help="start from pretrained weights: an ember train checkpoint, a "
                            "state_dict file (torch.save or safetensors) or shipped weights "
                            "for --model (e.g. mnist); tensors whose name and shape match "
                            "are copied, the rest (a new head) start fresh")
    train.add_argument("--freeze", default="none", metavar="WHAT",
                       help="'backbone' (train only the last linear layer, the head), a "
                            "comma-separated list of parts (e.g. features), or 'none' "
                            "(default: fine-tune everything)")


def _source_state(model_name: str, source: str) -> dict:
    path = Path(source)
    if path.is_file():
        return pretrained.state_dict_from_file(path)
    chosen = pretrained.resolve(model_name, source)  # a shipped name, or a clear error
    return chosen.get_state_dict()


def apply(args, model) -> str | None:
    """Initialise and freeze ``model`` as ``args`` say; returns a line to print."""
    lines = []
    if getattr(args, "init", None):
        state = _source_state(args.model, args.init)
        own = model.state_dict()
        copied = {k: v for k, v in state.items() if k in own and
                  tuple(own[k].shape) == tuple(v.shape)}
        if not copied:
            raise ValueError(f"--init {args.init}: none of its tensors fits --model "
                             f"{args.model} (names and shapes differ)")
        model.load_state_dict(copied, strict=False)
        fresh = [k for k in own if k not in copied]
        lines.append(f"initialised {len(copied)} of {len(own)} tensors from {args.init}"
                     + (f"; new: {', '.join(fresh)}" if fresh else ""))
    what = getattr(args, "freeze", "none") or "none"
    if what != "none":
        if what == "backbone":
            head = [name for name, m in model.named_modules() if isinstance(m, Linear)][-1]
            utils.freeze(model, except_=[head])
        else:
            parts = [p.strip() for p in what.split(",") if p.strip()]
            modules = dict(model.named_modules())
            unknown = [p for p in parts if p not in modules or not p]
            if unknown:
                top = ", ".join(name for name, _ in model.named_children())
                raise ValueError(f"--freeze: {args.model} has no part {unknown[0]!r} "
                                 f"(its parts: backbone, {top})")
            for part in parts:
                utils.freeze(modules[part])
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        total = sum(p.numel() for p in model.parameters())
        if not trainable:
            raise ValueError(f"--freeze {what}: that freezes every parameter")
        lines.append(f"frozen: {what} ({total - trainable:,} of {total:,} parameters; "
                     f"{trainable:,} train)")
    return "\n".join(lines) or None
