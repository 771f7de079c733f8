"""Checkpoints: ``em.save(obj, path)`` and ``em.load(path)``, safe by construction.

A checkpoint is one `safetensors <https://github.com/huggingface/safetensors>`_ file: the
arrays are stored raw, and the structure around them (dicts, lists, numbers, strings:
a model's and an optimiser's state dicts, the epoch, the history) is JSON in the file's
metadata. Loading parses bytes and JSON only, so it can never execute code; a pickle
(e.g. a PyTorch ``.pt`` file) is refused with a clear message.

Saving is atomic: the file is written beside the target under a temporary name, flushed
to disk, then renamed over it, so a crash mid-save leaves the previous checkpoint intact.

>>> import os, tempfile
>>> import ember as em
>>> model = em.nn.Linear(2, 1)
>>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
>>> em.save({"model": model.state_dict(), "epoch": 3}, path)
>>> checkpoint = em.load(path)
>>> checkpoint["epoch"], list(checkpoint["model"])
(3, ['weight', 'bias'])
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from ember.tensor import Tensor

FORMAT = "ember.checkpoint/1"
_PICKLE_HINT = ("ember never unpickles (a pickle can run arbitrary code); convert the "
                "state dict to safetensors first, e.g. safetensors.torch.save_file")


class CheckpointError(ValueError):
    """A file that is not a readable ember checkpoint (corrupt, truncated, or a pickle)."""


def _safetensors():
    try:
        from safetensors import numpy as st_numpy
        from safetensors import safe_open
    except ImportError:
        raise ImportError('checkpoints need the safetensors package: pip install "ember[train]"'
                          ) from None
    return st_numpy, safe_open


# ---------------------------------------------------------------------------- save


def save(obj, path: str | os.PathLike) -> None:
    """Write ``obj`` (nested dicts/lists/tuples of tensors, arrays, numbers, strings) to
    ``path`` atomically, as safetensors plus JSON metadata."""
    st_numpy, _ = _safetensors()
    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    structure = _encode(obj, "", arrays)
    metadata = {"format": FORMAT, "structure": json.dumps(structure, allow_nan=True)}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        st_numpy.save_file(arrays, temporary, metadata=metadata)
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _encode(obj, where: str, arrays: dict):
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"__float__": repr(obj)}
    if isinstance(obj, np.generic):
        return _encode(obj.item(), where, arrays)
    if isinstance(obj, (Tensor, np.ndarray)):
        kind = "__tensor__" if isinstance(obj, Tensor) else "__array__"
        data = obj._data if isinstance(obj, Tensor) else obj
        key = where or "value"
        while key in arrays:
            key += "'"
        arrays[key] = np.ascontiguousarray(data).reshape(np.shape(data))  # 0-d stays 0-d
        return {kind: key}
    if isinstance(obj, (list, tuple)):
        items = [_encode(v, f"{where}/{i}" if where else str(i), arrays)
                 for i, v in enumerate(obj)]
        return items if isinstance(obj, list) else {"__tuple__": items}
    if isinstance(obj, dict):
        pairs = []
        for k, v in obj.items():
            if not isinstance(k, (str, int, float, bool)) and k is not None:
                raise TypeError(f"em.save: dict keys must be strings or numbers, got "
                                f"{type(k).__name__} at {where or 'the top level'}")
            pairs.append([k, _encode(v, f"{where}/{k}" if where else str(k), arrays)])
        return {"__dict__": pairs}
    raise TypeError(
        f"em.save: cannot save a {type(obj).__name__} (at {where or 'the top level'}); "
        "checkpoints hold tensors, arrays, numbers, strings, lists, tuples and dicts only "
        "(save a model's state_dict(), not the model)"
    )


# ---------------------------------------------------------------------------- load


def load(path: str | os.PathLike):
    """Read a checkpoint written by :func:`save` (or any safetensors file: a flat dict of
    tensors). Raises :class:`CheckpointError` naming the file if it is corrupt, truncated,
    or not safetensors (pickles are refused without being read further)."""
    _, safe_open = _safetensors()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    with open(path, "rb") as handle:
        head = handle.read(9)
    if _looks_like_pickle(head):
        raise CheckpointError(f"{path}: this is a pickle or a PyTorch .pt archive, not a "
                              f"safetensors checkpoint; {_PICKLE_HINT}")
    try:
        with safe_open(str(path), framework="numpy") as reader:
            metadata = reader.metadata() or {}
            arrays = {key: reader.get_tensor(key) for key in reader.keys()}
    except Exception as error:  # safetensors reports corruption with its own error types
        raise CheckpointError(f"{path}: not a readable checkpoint, the file is truncated or "
                              f"corrupt ({error})") from None
    if metadata.get("format") != FORMAT:
        return {key: Tensor._wrap(value) for key, value in arrays.items()}
    try:
        structure = json.loads(metadata["structure"])
        return _decode(structure, arrays)
    except (KeyError, ValueError, TypeError) as error:
        raise CheckpointError(f"{path}: the checkpoint's structure is damaged ({error})"
                              ) from None


def _looks_like_pickle(head: bytes) -> bool:
    """A safetensors file starts with its header's length (8 bytes) and then ``{``; a
    pickle starts with PROTO (0x80, then the protocol number) and a ``.pt`` archive is a
    zip file. Only files that are not safetensors-shaped are judged by their magic."""
    if len(head) == 9 and head[8:9] == b"{":
        return False
    return head[:4] == b"PK\x03\x04" or (head[:1] == b"\x80" and head[1:2] in
                                          (b"\x02", b"\x03", b"\x04", b"\x05"))


def _decode(obj, arrays: dict):
    if isinstance(obj, list):
        return [_decode(v, arrays) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__tensor__" in obj:
        return Tensor._wrap(arrays[obj["__tensor__"]])
    if "__array__" in obj:
        return arrays[obj["__array__"]]
    if "__float__" in obj:
        return float(obj["__float__"])
    if "__tuple__" in obj:
        return tuple(_decode(v, arrays) for v in obj["__tuple__"])
    if "__dict__" in obj:
        return {k: _decode(v, arrays) for k, v in obj["__dict__"]}
    raise ValueError(f"unknown entry {sorted(obj)}")
