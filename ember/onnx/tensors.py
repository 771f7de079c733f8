"""ONNX tensors (``TensorProto``) as NumPy arrays, decoded defensively.

A tensor's bytes are checked against its declared shape and type before any array is
made, so a hostile file cannot make the reader allocate what it does not contain.
External data (a tensor stored in a side file) is read only from a regular file inside
the model's own folder, within that file's bounds.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np


class OnnxError(ValueError):
    """An ONNX file that ember cannot read: malformed, unsafe, or using what ember does
    not implement. The message names the file and the offending part."""


# TensorProto.DataType -> NumPy dtype (the types a model's weights and shapes use)
DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16, 6: np.int32,
          7: np.int64, 9: np.bool_, 10: np.float16, 11: np.float64, 12: np.uint32,
          13: np.uint64}
NAMES = {1: "float", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64",
         8: "string", 9: "bool", 10: "float16", 11: "double", 12: "uint32", 13: "uint64",
         14: "complex64", 15: "complex128", 16: "bfloat16"}
MAX_ELEMENTS = 2**31  # per tensor


def dtype_of(code: int, where: str) -> np.dtype:
    if code not in DTYPES:
        kind = NAMES.get(code, f"type {code}")
        raise OnnxError(f"{where}: tensors of {kind} are not supported")
    return np.dtype(DTYPES[code])


def to_array(tensor, where: str, folder: Path | None) -> np.ndarray:
    """The array of a ``TensorProto`` (``where`` names it in errors; ``folder`` is the
    model's folder for external data, None when the model came from memory)."""
    dtype = dtype_of(tensor.data_type, where)
    dims = [int(d) for d in tensor.dims]
    if any(d < 0 for d in dims):
        raise OnnxError(f"{where}: negative dimension in shape {dims}")
    count = math.prod(dims)
    if count > MAX_ELEMENTS:
        raise OnnxError(f"{where}: {count} elements is more than ember reads "
                        f"({MAX_ELEMENTS}) in one tensor")
    if tensor.HasField("segment"):
        raise OnnxError(f"{where}: segmented tensors are not supported")
    if tensor.data_location == 1:  # EXTERNAL
        raw = _external(tensor, where, folder, count * dtype.itemsize)
        return _from_raw(raw, dtype, dims, count, where)
    if tensor.raw_data:
        return _from_raw(tensor.raw_data, dtype, dims, count, where)
    values = _typed_values(tensor, dtype)
    if len(values) != count:
        raise OnnxError(f"{where}: holds {len(values)} values for shape {dims} "
                        f"({count} elements)")
    if dtype == np.float16 and tensor.data_type == 10:  # stored as the bits in int32_data
        array = np.asarray(values, dtype=np.uint16).view(np.float16)
    else:
        try:
            array = np.asarray(values).astype(dtype)
        except (OverflowError, ValueError) as error:
            raise OnnxError(f"{where}: values do not fit {dtype}: {error}") from None
    return array.reshape(dims)


def _from_raw(raw: bytes, dtype: np.dtype, dims: list, count: int, where: str) -> np.ndarray:
    if len(raw) != count * dtype.itemsize:
        raise OnnxError(f"{where}: holds {len(raw)} bytes, but shape {dims} of "
                        f"{dtype} needs {count * dtype.itemsize}")
    array = np.frombuffer(raw, dtype=dtype.newbyteorder("<"), count=count)
    return array.astype(dtype, copy=False).reshape(dims)  # read-only: users copy it


def _typed_values(tensor, dtype: np.dtype):
    if dtype == np.float32:
        return tensor.float_data
    if dtype == np.float64:
        return tensor.double_data
    if dtype == np.int64:
        return tensor.int64_data
    if dtype in (np.uint32, np.uint64):
        return tensor.uint64_data
    return tensor.int32_data  # int8/16/32, uint8/16, bool, float16 bits


def _external(tensor, where: str, folder: Path | None, size: int) -> bytes:
    """The bytes of an externally stored tensor, from inside the model's folder only."""
    info = {entry.key: entry.value for entry in tensor.external_data}
    location = info.get("location", "")
    if folder is None:
        raise OnnxError(f"{where}: stored in an external file ({location!r}), which needs "
                        "the model loaded from a path")
    relative = Path(location)
    if not location or relative.is_absolute() or ".." in relative.parts or \
            location.startswith(("/", "\\")) or ":" in location or "\x00" in location:
        raise OnnxError(f"{where}: external data location {location!r} is not a file "
                        "name inside the model's folder")
    path = folder / relative
    try:
        resolved, root = path.resolve(strict=True), folder.resolve(strict=True)
    except (OSError, RuntimeError):
        raise OnnxError(f"{where}: external data file {location!r} does not exist") from None
    if root not in resolved.parents or not resolved.is_file():
        raise OnnxError(f"{where}: external data {location!r} is not a regular file inside "
                        f"the model's folder")
    try:
        offset = int(info.get("offset", 0))
        length = int(info.get("length", size))
    except ValueError:
        raise OnnxError(f"{where}: external data offset/length are not numbers") from None
    total = os.path.getsize(resolved)
    if offset < 0 or length != size or offset + length > total:
        raise OnnxError(f"{where}: external data ({location!r}, offset {offset}, length "
                        f"{length}) does not hold the {size} bytes of the tensor "
                        f"(the file has {total})")
    with open(resolved, "rb") as handle:
        handle.seek(offset)
        return handle.read(length)
