"""Checkpoints: ``em.save(obj, f)`` and ``em.load(f)``, safe by construction.

A checkpoint is one `safetensors <https://github.com/huggingface/safetensors>`_ file: the
arrays are stored raw, and the structure around them (dicts, lists, numbers, strings:
a model's and an optimiser's state dicts, the epoch, the history) is JSON in the file's
metadata. Loading parses bytes and JSON only, so it can never execute code.

:func:`load` also reads files written by ``torch.save`` (``.pth``/``.pt``, the zip and
the legacy format): tensors, state dicts and plain containers, through ember's own
restricted pickle interpreter (:mod:`ember.torchfile`), which refuses any other object
without importing or running anything.

Integrity: the metadata holds a SHA-256 of every tensor (over its dtype, shape and bytes)
and one of the metadata itself, and loading checks them all, so a damaged file is a
:class:`CheckpointError` naming the file (and the tensor), never silently wrong weights.

Saving to a path is atomic: the file is written beside the target under a temporary name
(``.NAME.ember-tmp-HOST-PID-XXXX.tmp``), flushed to disk, then renamed over it, so a crash
mid-save leaves the previous checkpoint intact. A temporary left by a process that was
killed mid-save is removed by the next save into that folder. Files get the usual
permissions (``0o666`` less the umask, as ``open()`` gives).

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

import hashlib
import io
import json
import math
import os
import re
import socket
import struct
import tempfile
from pathlib import Path

import numpy as np

from ember import torchfile
from ember.tensor import Tensor

FORMAT = "ember.checkpoint/2"
_OLD_FORMATS = ("ember.checkpoint/1",)  # no checksums: loaded as before
_EMBER_KEYS = ("structure", "checksums", "digest")


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


def save(obj, f) -> None:
    """Write ``obj`` (nested dicts/lists/tuples of tensors, arrays, numbers, strings) to
    ``f``, a path (written atomically) or a binary file object, as safetensors plus JSON.

    Every shape (0-d, empty) and dtype (bool, uint8, int32/64, float16/32/64) comes back
    exactly as saved.
    """
    st_numpy, _ = _safetensors()
    arrays: dict[str, np.ndarray] = {}
    structure = _encode(obj, "", arrays)
    metadata = _metadata(json.dumps(structure, allow_nan=True), arrays)
    if hasattr(f, "write"):
        f.write(st_numpy.save(arrays, metadata=metadata))
        return
    write_atomically(f, lambda temporary: st_numpy.save_file(arrays, temporary,
                                                             metadata=metadata))


def write_atomically(f, write) -> None:
    """Create the file ``f`` atomically: ``write(temporary_path)`` writes it beside the
    target under a temporary name, which is flushed to disk and renamed over ``f``."""
    path = Path(f)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path.parent)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.{_TEMPORARY_TAG}-{os.getpid()}-",
                                     suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(temporary)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp's files are private (0o600)
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


def _encode(obj, where: str, arrays: dict):
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"__float__": repr(obj)}
    if isinstance(obj, np.generic):
        return _encode(obj.item(), where, arrays)
    if isinstance(obj, (Tensor, np.ndarray)):
        kind = "__tensor__" if isinstance(obj, Tensor) else "__array__"
        data = np.asarray(obj._data if isinstance(obj, Tensor) else obj)
        key = where or "value"
        while key in arrays:
            key += "'"
        # NOTE: not np.ascontiguousarray, which turns a 0-d array into shape (1,)
        arrays[key] = data if data.flags.c_contiguous else data.copy(order="C")
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


def _checksum(array: np.ndarray) -> str:
    """SHA-256 of an array's dtype, shape and bytes (a flipped bit anywhere changes it)."""
    digest = hashlib.sha256(f"{array.dtype.str}{list(array.shape)}".encode())
    digest.update(np.ascontiguousarray(array).reshape(-1).view(np.uint8))
    return digest.hexdigest()


def _metadata(structure: str, arrays: dict) -> dict[str, str]:
    checksums = json.dumps({key: _checksum(a) for key, a in arrays.items()}, sort_keys=True)
    return {"format": FORMAT, "structure": structure, "checksums": checksums,
            "digest": _digest(FORMAT, structure, checksums)}


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


# temporaries: ".NAME.ember-tmp-HOST-PID-RANDOM.tmp", HOST a hash of this machine's name
_TEMPORARY_TAG = "ember-tmp-" + hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
_TEMPORARY = re.compile(r"^\..+\." + re.escape(_TEMPORARY_TAG) + r"-(\d+)-[^.]+\.tmp$")


def _remove_stale_temporaries(folder: Path) -> None:
    """Delete temporaries of saves whose process (on this machine) no longer runs."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        match = _TEMPORARY.match(name)
        if match and not _running(int(match.group(1))):
            try:
                os.unlink(folder / name)
            except OSError:
                pass  # removed by another save meanwhile, or not ours to remove


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread of this process may be saving
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _umask() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting it (and put it back)
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (where the platform allows opening a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------- load


def load(f, map_location=None, weights_only: bool | None = None, **kwargs):
    """Read a checkpoint written by :func:`save` (or any safetensors file: a flat dict of
    tensors) from a path or a binary file object.

    Args:
        f: a path, or a binary file object (``open(path, "rb")``, ``io.BytesIO``).
        map_location: ``None``, ``"cpu"`` or a CPU device (the only place ember keeps
            tensors); anything else is refused.
        weights_only: ``True`` or ``None``: what ember always does (data only). ``False``,
            which in PyTorch allows arbitrary pickled objects, is refused: ember never
            unpickles.

    Raises :class:`CheckpointError` naming the file if it is corrupt, truncated, damaged
    (a checksum does not match) or not safetensors (pickles are refused unread).
    """
    if kwargs:
        raise TypeError(f"em.load: unexpected keyword arguments {sorted(kwargs)}")
    if weights_only is False:
        raise ValueError("em.load(weights_only=False): ember never unpickles (a pickle can "
                         "run arbitrary code); checkpoints hold data only, which is what "
                         "weights_only=True loads")
    _check_map_location(map_location)
    _, safe_open = _safetensors()
    if hasattr(f, "read"):
        name = str(getattr(f, "name", "<file object>"))
        if isinstance(f, io.TextIOBase):
            raise TypeError(f"em.load: {name} must be opened in binary mode ('rb')")
        content = f.read()
        if not isinstance(content, (bytes, bytearray, memoryview)):
            raise TypeError(f"em.load: {name} must be opened in binary mode ('rb')")
        return _parse(bytes(content), name)
    path = Path(f)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    with open(path, "rb") as handle:
        head = handle.read(9)
    if not _is_safetensors(head) and torchfile.is_torch_file(head):
        return _load_torch(path.read_bytes(), path)
    try:
        with safe_open(str(path), framework="numpy") as reader:
            metadata = reader.metadata() or {}
            arrays = {key: reader.get_tensor(key) for key in reader.keys()}
    except Exception as error:  # safetensors reports corruption with its own error types
        raise CheckpointError(f"{path}: not a readable checkpoint, the file is truncated or "
                              f"corrupt ({_one_line(error)})") from None
    return _assemble(metadata, arrays, path)


def _parse(content: bytes, name: str):
    """Load from the bytes of a whole file (a file object's content)."""
    st_numpy, _ = _safetensors()
    if not _is_safetensors(content[:9]) and torchfile.is_torch_file(content[:9]):
        return _load_torch(content, name)
    try:
        arrays = {k: np.array(v) for k, v in st_numpy.load(content).items()}
        length = int.from_bytes(content[:8], "little")
        header = json.loads(content[8:8 + length])
        metadata = header.get("__metadata__") or {}
    except Exception as error:
        raise CheckpointError(f"{name}: not a readable checkpoint, the file is truncated or "
                              f"corrupt ({_one_line(error)})") from None
    return _assemble(metadata, arrays, name)


def _assemble(metadata: dict, arrays: dict, name):
    """Check the checksums and rebuild the saved object from its structure and arrays."""
    is_ember = str(metadata.get("format", "")).startswith("ember") or any(
        key in metadata for key in _EMBER_KEYS)
    if not is_ember:
        return {key: Tensor._wrap(value) for key, value in arrays.items()}
    try:
        fmt = metadata["format"]
        structure = metadata["structure"]
        if fmt == FORMAT:
            checksums_text = metadata["checksums"]
            if metadata["digest"] != _digest(fmt, structure, checksums_text):
                raise CheckpointError(f"{name}: the checkpoint is damaged: its metadata "
                                      "does not match its checksum")
            _verify(json.loads(checksums_text), arrays, name)
        elif fmt not in _OLD_FORMATS:
            raise CheckpointError(f"{name}: unknown checkpoint format {fmt!r} (this ember "
                                  f"reads {FORMAT})")
        return _decode(json.loads(structure), arrays)
    except CheckpointError:
        raise
    except RecursionError:
        raise CheckpointError(f"{name}: the checkpoint's structure is nested too deeply to "
                              "be a checkpoint") from None
    except Exception as error:
        raise CheckpointError(f"{name}: the checkpoint's structure is damaged "
                              f"({type(error).__name__}: {_one_line(error)})") from None


def _verify(checksums: dict, arrays: dict, name) -> None:
    if not isinstance(checksums, dict) or set(checksums) != set(arrays):
        missing = sorted(set(checksums) ^ set(arrays)) if isinstance(checksums, dict) else []
        raise CheckpointError(f"{name}: the checkpoint is damaged: its tensors do not match "
                              f"its table of checksums {missing[:3]}")
    for key, array in arrays.items():
        if _checksum(array) != checksums[key]:
            raise CheckpointError(f"{name}: the checkpoint is damaged: tensor {key!r} does "
                                  "not match its SHA-256 checksum")


def _is_safetensors(head: bytes) -> bool:
    """A safetensors file starts with its header's length (8 bytes) and then ``{`` (the
    length's first byte may be 0x80, as a pickle's is: the ``{`` decides)."""
    return len(head) == 9 and head[8:9] == b"{"


def _load_torch(content: bytes, name):
    """A file written by ``torch.save``, read without PyTorch and without running it."""
    try:
        return torchfile.load(content)
    except torchfile.UnsafeGlobal as error:
        raise CheckpointError(
            f"{name}: refers to {error}, which ember does not load: it reads only tensors, "
            "state dicts and plain containers from PyTorch files, and never runs their "
            "code (save model.state_dict() rather than the model)") from None
    except (torchfile.DamagedPickle, RecursionError, MemoryError, ValueError, TypeError,
            KeyError, IndexError, OverflowError, struct.error, UnicodeDecodeError) as error:
        raise CheckpointError(f"{name}: not a readable PyTorch file, it is damaged or not "
                              f"written by torch.save ({_one_line(error)})") from None


def _check_map_location(map_location) -> None:
    if map_location is None or callable(map_location) and not isinstance(map_location, str):
        return
    targets = map_location.values() if isinstance(map_location, dict) else [map_location]
    for target in targets:
        kind = str(getattr(target, "type", target)).split(":")[0]
        if kind != "cpu":
            raise ValueError(f"em.load: map_location={target!r}: ember keeps tensors on the "
                             "CPU only; use map_location='cpu' (or leave it out)")


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:300]


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
