"""Reading files written by ``torch.save``, without PyTorch and without running their code.

A ``.pth``/``.pt`` file is a pickle: a little program for a stack machine that rebuilds
Python objects, and may call any function it names (which is how a hostile file runs
code). ember never hands it to :mod:`pickle`. :class:`RestrictedUnpickler` below is its
own interpreter for the opcodes ``torch.save`` emits; it builds only plain values (None,
bools, numbers, strings, bytes, tuples, lists, dicts, sets) and calls only the functions
of :data:`ALLOWED` (tensor rebuilding, storage types, ``OrderedDict``, ``torch.Size``),
ember's own reimplementations of what PyTorch's ``weights_only=True`` allows. Any other
global (a module class, ``os.system``) stops reading with a
:class:`~ember.serialization.CheckpointError` naming the file and the global; it is never
imported, let alone called. The interpreter is a loop over bytes (no recursion), so deep
nesting cannot exhaust Python's stack.

Two layouts are read:

* the zip format (PyTorch >= 1.6): ``archive/data.pkl`` holds the pickle, whose tensors
  refer by key to storages stored raw in ``archive/data/<key>``;
* the legacy format: five pickles in a row (magic number, protocol, system info, the
  object, the storage keys), then each storage as its element count and raw bytes.

Tensors come back as ember Tensors of the same dtype, shape and values (bfloat16, which
NumPy lacks, as float32: exact); a ``state_dict`` comes back as an ``OrderedDict`` that
``Module.load_state_dict`` takes as it is.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections import OrderedDict

import numpy as np

from ember.tensor import Tensor

# storage class name -> element dtype (little-endian in the file)
STORAGE_DTYPES = {
    "DoubleStorage": "<f8", "FloatStorage": "<f4", "HalfStorage": "<f2",
    "BFloat16Storage": "bfloat16", "LongStorage": "<i8", "IntStorage": "<i4",
    "ShortStorage": "<i2", "CharStorage": "i1", "ByteStorage": "u1", "BoolStorage": "?",
    "ComplexFloatStorage": "<c8", "ComplexDoubleStorage": "<c16",
}
# torch dtype name -> NumPy dtype, for dtypes named as globals (``torch float32``)
TORCH_DTYPES = {"float64": "<f8", "float32": "<f4", "float16": "<f2", "bfloat16": "bfloat16",
                "int64": "<i8", "int32": "<i4", "int16": "<i2", "int8": "i1", "uint8": "u1",
                "bool": "?", "complex64": "<c8", "complex128": "<c16"}
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class UnsafeGlobal(Exception):
    """The pickle names a global outside :data:`ALLOWED`."""


class DamagedPickle(Exception):
    """The pickle's bytes are not a program the interpreter accepts."""


class _StorageType:
    """A storage class named by the pickle (``torch FloatStorage``): it carries a dtype."""

    def __init__(self, name: str, dtype: str) -> None:
        self.name, self.dtype = name, dtype


class _Storage:
    """A storage's elements, as a 1-d array of its dtype."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array


def _dtype(spec: str) -> np.dtype:
    return np.dtype("<u2") if spec == "bfloat16" else np.dtype(spec)


def _elements(raw: bytes, spec: str, count: int | None = None) -> np.ndarray:
    """The elements of a raw storage; bfloat16 widened to float32 (exactly)."""
    dtype = _dtype(spec)
    if count is None:
        count = len(raw) // dtype.itemsize
    if count * dtype.itemsize > len(raw):
        raise DamagedPickle(f"a storage holds {len(raw)} bytes, fewer than its {count} "
                            "elements need")
    array = np.frombuffer(raw, dtype=dtype, count=count)
    if spec == "bfloat16":
        return (array.astype(np.uint32) << 16).view(np.float32)
    return array.astype(array.dtype.newbyteorder("="), copy=False)


def _rebuild_tensor(storage, storage_offset, size, stride, *rest) -> Tensor:
    """``torch._utils._rebuild_tensor_v2``: the strided view of a storage, as a copy."""
    if not isinstance(storage, _Storage):
        raise DamagedPickle("a tensor is rebuilt from something that is not a storage")
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride) or not all(isinstance(v, int) and v >= 0
                                           for v in (*size, *stride, storage_offset)):
        raise DamagedPickle(f"a tensor has an invalid size {size} / stride {stride}")
    array = storage.array
    if 0 not in size:
        last = storage_offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
        if last >= len(array):
            raise DamagedPickle(f"a tensor of size {size} and stride {stride} at offset "
                                f"{storage_offset} reaches beyond its storage of "
                                f"{len(array)} elements")
        view = np.lib.stride_tricks.as_strided(
            array[storage_offset:], shape=size,
            strides=tuple(s * array.itemsize for s in stride), writeable=False)
    else:
        view = np.empty(size, dtype=array.dtype)
    return Tensor._wrap(np.array(view, order="C"))


def _rebuild_parameter(data, requires_grad=True, *rest):
    """``torch._utils._rebuild_parameter``: a Parameter around the rebuilt tensor."""
    from ember.nn.module import Parameter

    if not isinstance(data, Tensor):
        raise DamagedPickle("a parameter is rebuilt from something that is not a tensor")
    return Parameter(data, requires_grad=bool(requires_grad)) \
        if data.dtype.kind in "fc" else data


def _rebuild_from_type(function, new_type, args, state):
    """``torch._tensor._rebuild_from_type_v2``: a tensor (subclass ignored) of ``function``."""
    if function not in (_rebuild_tensor, _rebuild_parameter):
        raise DamagedPickle("a tensor is rebuilt by a function that does not build tensors")
    return function(*args)


def _ordered_dict(*args):
    pairs = args[0] if args else ()
    if not isinstance(pairs, (list, tuple, dict)):
        raise DamagedPickle("OrderedDict called with something that is not pairs")
    return OrderedDict(pairs)


def _encode(text, encoding="latin1"):
    """``_codecs.encode``: how protocol 2 pickles bytes (as a latin-1 string)."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise DamagedPickle("_codecs.encode called with something other than text")
    return text.encode("latin1")


def _size(*args):
    return tuple(args[0]) if args else ()


def _plain(kind):
    def build(*args):
        if len(args) > 1 or (args and not isinstance(args[0], (list, tuple, set, frozenset,
                                                                 str, bytes, int, float))):
            raise DamagedPickle(f"{kind.__name__} called with unexpected arguments")
        return kind(*args)
    return build


# what a file may name: (module, name) -> ember's implementation
ALLOWED = {
    ("collections", "OrderedDict"): _ordered_dict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type,
    ("torch", "Size"): _size,
    ("_codecs", "encode"): _encode,
    ("__builtin__", "set"): _plain(set), ("builtins", "set"): _plain(set),
    ("__builtin__", "frozenset"): _plain(frozenset),
    ("builtins", "frozenset"): _plain(frozenset),
    ("builtins", "bytearray"): _plain(bytearray),
    ("__builtin__", "bytearray"): _plain(bytearray),
    **{("torch", name): _StorageType(name, dtype) for name, dtype in STORAGE_DTYPES.items()},
    **{("torch", name): _StorageType(name, dtype) for name, dtype in TORCH_DTYPES.items()},
}


class RestrictedUnpickler:
    """An interpreter for the pickle opcodes ``torch.save`` writes (protocols 2-5).

    Args:
        data: the pickle's bytes.
        storage: ``storage(key, dtype_spec, numel) -> _Storage`` for persistent ids.
        build_tensors: False for a dry run that only collects the storages' dtypes
            (tensor-building calls then return None).
    """

    def __init__(self, data: bytes, storage, build_tensors: bool = True) -> None:
        self.data, self.storage, self.build_tensors = data, storage, build_tensors

    def load(self):
        data, position = self.data, 0
        stack: list = []
        marks: list[list] = []
        memo: dict = {}
        end = len(data)

        def take(n: int) -> bytes:
            nonlocal position
            if position + n > end:
                raise DamagedPickle("the pickle ends in the middle of an instruction")
            chunk = data[position:position + n]
            position += n
            return chunk

        def line() -> str:
            nonlocal position
            stop = data.find(b"\n", position)
            if stop < 0:
                raise DamagedPickle("the pickle ends in the middle of a name")
            text = data[position:stop].decode("utf-8", "strict")
            position = stop + 1
            return text

        def pop_mark() -> list:
            nonlocal stack
            if not marks:
                raise DamagedPickle("an instruction needs a mark that is not there")
            items, stack = stack, marks.pop()
            return items

        def pop():
            if not stack:
                raise DamagedPickle("the pickle's stack is empty where it needs a value")
            return stack.pop()

        def top():
            if not stack:
                raise DamagedPickle("the pickle's stack is empty where it needs a value")
            return stack[-1]

        def find(module: str, name: str):
            found = ALLOWED.get((module, name))
            if found is None:
                raise UnsafeGlobal(f"{module}.{name}")
            return found

        while True:
            opcode = take(1)
            if opcode == b"\x80":  # PROTO
                if take(1)[0] > 5:
                    raise DamagedPickle("unknown pickle protocol")
            elif opcode == b"\x95":  # FRAME
                take(8)
            elif opcode == b".":  # STOP
                return pop()
            elif opcode == b"(":  # MARK
                marks.append(stack)
                stack = []
            elif opcode == b")":
                stack.append(())
            elif opcode == b"t":  # (pop_mark rebinds `stack`: take the items first)
                items = tuple(pop_mark())
                stack.append(items)
            elif opcode in (b"\x85", b"\x86", b"\x87"):  # TUPLE1-3
                n = opcode[0] - 0x84
                if len(stack) < n:
                    raise DamagedPickle("a tuple needs more values than the stack holds")
                items = stack[-n:]
                del stack[-n:]
                stack.append(tuple(items))
            elif opcode == b"]":
                stack.append([])
            elif opcode == b"l":
                items = pop_mark()
                stack.append(items)
            elif opcode == b"}":
                stack.append({})
            elif opcode == b"d":
                items = pop_mark()
                stack.append(_pairs({}, items))
            elif opcode == b"\x8f":  # EMPTY_SET
                stack.append(set())
            elif opcode == b"a":  # APPEND
                value = pop()
                _container(top(), list).append(value)
            elif opcode == b"e":  # APPENDS
                items = pop_mark()
                _container(top(), list).extend(items)
            elif opcode == b"\x90":  # ADDITEMS
                items = pop_mark()
                _container(top(), set).update(items)
            elif opcode == b"\x91":  # FROZENSET
                items = frozenset(pop_mark())
                stack.append(items)
            elif opcode == b"s":  # SETITEM
                value, key = pop(), pop()
                _pairs(top(), [key, value])
            elif opcode == b"u":  # SETITEMS
                items = pop_mark()
                _pairs(top(), items)
            elif opcode == b"N":
                stack.append(None)
            elif opcode == b"\x88":
                stack.append(True)
            elif opcode == b"\x89":
                stack.append(False)
            elif opcode == b"J":
                stack.append(struct.unpack("<i", take(4))[0])
            elif opcode == b"K":
                stack.append(take(1)[0])
            elif opcode == b"M":
                stack.append(struct.unpack("<H", take(2))[0])
            elif opcode == b"\x8a":  # LONG1
                stack.append(int.from_bytes(take(take(1)[0]), "little", signed=True))
            elif opcode == b"\x8b":  # LONG4
                n = struct.unpack("<i", take(4))[0]
                if n < 0:
                    raise DamagedPickle("a negative length")
                stack.append(int.from_bytes(take(n), "little", signed=True))
            elif opcode == b"G":
                stack.append(struct.unpack(">d", take(8))[0])
            elif opcode == b"X":  # BINUNICODE
                stack.append(_text(take(struct.unpack("<I", take(4))[0])))
            elif opcode == b"\x8c":  # SHORT_BINUNICODE
                stack.append(_text(take(take(1)[0])))
            elif opcode == b"\x8d":  # BINUNICODE8
                stack.append(_text(take(struct.unpack("<Q", take(8))[0])))
            elif opcode == b"T":  # BINSTRING (py2 str)
                stack.append(take(struct.unpack("<i", take(4))[0]).decode("latin1"))
            elif opcode == b"U":  # SHORT_BINSTRING
                stack.append(take(take(1)[0]).decode("latin1"))
            elif opcode == b"B":  # BINBYTES
                stack.append(bytes(take(struct.unpack("<I", take(4))[0])))
            elif opcode == b"C":  # SHORT_BINBYTES
                stack.append(bytes(take(take(1)[0])))
            elif opcode == b"\x8e":  # BINBYTES8
                stack.append(bytes(take(struct.unpack("<Q", take(8))[0])))
            elif opcode == b"q":  # BINPUT
                memo[take(1)[0]] = top()
            elif opcode == b"r":  # LONG_BINPUT
                memo[struct.unpack("<I", take(4))[0]] = top()
            elif opcode == b"\x94":  # MEMOIZE
                memo[len(memo)] = top()
            elif opcode in (b"h", b"j"):  # BINGET, LONG_BINGET
                key = take(1)[0] if opcode == b"h" else struct.unpack("<I", take(4))[0]
                if key not in memo:
                    raise DamagedPickle(f"the pickle refers to memo entry {key}, never made")
                stack.append(memo[key])
            elif opcode == b"c":  # GLOBAL
                module = line()
                stack.append(find(module, line()))
            elif opcode == b"\x93":  # STACK_GLOBAL
                name, module = pop(), pop()
                if not isinstance(name, str) or not isinstance(module, str):
                    raise DamagedPickle("a global named by something other than text")
                stack.append(find(module, name))
            elif opcode in (b"R", b"\x81"):  # REDUCE, NEWOBJ
                args, function = pop(), pop()
                if not isinstance(args, tuple) or not callable(function) or \
                        isinstance(function, _StorageType):
                    raise DamagedPickle("a call of something that is not an allowed function")
                if not self.build_tensors and function in _TENSOR_BUILDERS:
                    stack.append(None)
                else:
                    stack.append(function(*args))
            elif opcode == b"b":  # BUILD: only the metadata of a state dict, ignored
                state = pop()
                if not isinstance(top(), (OrderedDict, Tensor)) or not isinstance(
                        state, (dict, tuple, type(None))):
                    raise DamagedPickle("BUILD on an object that is not a state dict")
            elif opcode == b"Q":  # BINPERSID
                stack.append(self._persistent(pop()))
            elif opcode == b"0":  # POP
                if stack:
                    stack.pop()
                else:
                    pop_mark()
            elif opcode == b"1":  # POP_MARK
                pop_mark()
            elif opcode == b"2":  # DUP
                stack.append(top())
            else:
                raise DamagedPickle(f"unsupported pickle instruction {opcode!r} at byte "
                                    f"{position - 1}")

    def _persistent(self, pid):
        """``('storage', storage_type, key, location, numel[, view])``: a storage."""
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[4], int)):
            raise DamagedPickle(f"an unknown kind of persistent reference {str(pid)[:80]}")
        return self.storage(str(pid[2]), pid[1].dtype, pid[4])


_TENSOR_BUILDERS = (_rebuild_tensor, _rebuild_parameter, _rebuild_from_type)


def _container(obj, kind):
    if not isinstance(obj, kind):
        raise DamagedPickle(f"items added to a {type(obj).__name__}, not a {kind.__name__}")
    return obj


def _pairs(target, items: list):
    if not isinstance(target, dict) or len(items) % 2:
        raise DamagedPickle("dict items added to something that is not a dict")
    for i in range(0, len(items), 2):
        key = items[i]
        if isinstance(key, (list, dict, set, Tensor)):
            raise DamagedPickle("a dict key that is not a plain value")
        target[key] = items[i + 1]
    return target


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogatepass")


# ---------------------------------------------------------------------------- the files


def is_torch_file(head: bytes) -> bool:
    """A zip archive, or a pickle (PROTO 2-5) as the legacy format starts."""
    return head[:4] == b"PK\x03\x04" or (head[:1] == b"\x80" and head[1:2] in
                                          (b"\x02", b"\x03", b"\x04", b"\x05"))


def load(content: bytes):
    """The object in the bytes of a file written by ``torch.save``.

    Raises :class:`UnsafeGlobal` or :class:`DamagedPickle` (the caller names the file).
    """
    if content[:4] == b"PK\x03\x04":
        return _load_zip(content)
    return _load_legacy(content)


def _load_zip(content: bytes):
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        names = archive.namelist()
    except Exception as error:  # zipfile has many ways to fail on damaged bytes
        raise DamagedPickle(f"not a readable zip archive ({error})") from None
    pickles = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
    if len(pickles) != 1:
        raise DamagedPickle("the archive has no data.pkl (not written by torch.save)")
    prefix = pickles[0][: -len("data.pkl")]
    order = prefix + "byteorder"
    if order in names and _member(archive, order).strip() not in (b"little", b""):
        raise DamagedPickle("the file was written big-endian; ember reads little-endian files")
    storages: dict[str, _Storage] = {}

    def storage(key: str, spec: str, numel: int) -> _Storage:
        if key not in storages:
            name = f"{prefix}data/{key}"
            if name not in names:
                raise DamagedPickle(f"storage {key} is missing from the archive")
            storages[key] = _Storage(_elements(_member(archive, name), spec, numel))
        return storages[key]

    return RestrictedUnpickler(_member(archive, pickles[0]), storage).load()


def _member(archive: zipfile.ZipFile, name: str) -> bytes:
    """A member's bytes (its CRC checked by zipfile); any failure is damage."""
    try:
        return archive.read(name)
    except Exception as error:  # BadZipFile, zlib.error, NotImplementedError, ...
        raise DamagedPickle(f"a damaged zip member {name} ({error})") from None


def _load_legacy(content: bytes):
    """magic, protocol, sys_info, the object, the storage keys, then the storages."""
    reader = _Reader(content)
    magic = RestrictedUnpickler(reader.pickle(), _no_storage).load()
    if magic != LEGACY_MAGIC:
        raise DamagedPickle("a pickle, but not one written by torch.save (no magic number)")
    RestrictedUnpickler(reader.pickle(), _no_storage).load()  # protocol version
    RestrictedUnpickler(reader.pickle(), _no_storage).load()  # system info
    object_pickle = reader.pickle()
    keys = RestrictedUnpickler(reader.pickle(), _no_storage).load()
    if not isinstance(keys, list):
        raise DamagedPickle("the list of storage keys is damaged")
    # the storages follow the object: a dry run learns their dtypes (hence byte sizes)
    dtypes: dict[str, str] = {}

    def note(key: str, spec: str, numel: int):
        dtypes[key] = spec

    RestrictedUnpickler(object_pickle, note, build_tensors=False).load()
    storages: dict[str, _Storage] = {}
    for key in map(str, keys):
        if key not in dtypes:
            raise DamagedPickle(f"storage {key} is not used by the object")
        numel = struct.unpack("<q", reader.take(8))[0]
        if numel < 0:
            raise DamagedPickle("a storage of negative size")
        spec = dtypes[key]
        storages[key] = _Storage(_elements(reader.take(numel * _dtype(spec).itemsize), spec,
                                           numel))
    return RestrictedUnpickler(object_pickle, lambda key, spec, numel: storages[key]
                               if key in storages else _missing(key)).load()


def _missing(key):
    raise DamagedPickle(f"storage {key} is missing from the file")


def _no_storage(key, spec, numel):
    raise DamagedPickle("a storage where none belongs")


class _Reader:
    """Consecutive pickles in one byte string (each ends at its STOP)."""

    def __init__(self, content: bytes) -> None:
        self.content, self.position = content, 0

    def take(self, n: int) -> bytes:
        if self.position + n > len(self.content):
            raise DamagedPickle("the file ends before its storages do")
        chunk = self.content[self.position:self.position + n]
        self.position += n
        return chunk

    def pickle(self) -> bytes:
        import pickletools

        start = self.position
        try:
            for opcode, _, position in pickletools.genops(io.BytesIO(self.content[start:])):
                if opcode.name == "STOP":
                    self.position = start + position + 1
                    return self.content[start:self.position]
        except ValueError as error:
            raise DamagedPickle(f"a damaged pickle ({error})") from None
        raise DamagedPickle("a pickle without its end")
