"""Collectives on ember tensors, as ``torch.distributed``'s, run by MPI.

Each works in place on the tensors' arrays (zero-copy: MPI reads and writes the NumPy
memory itself; only a non-contiguous tensor goes through a contiguous copy). With
``async_op=True`` a call starts a non-blocking MPI collective and returns a :class:`Work`
whose ``wait()`` completes it; otherwise it returns None once done. Every rank of the
group must make the same calls in the same order.

For a tensor x_r on rank r of n ranks:

=========================  =====================================================
``all_reduce(x, op)``      every rank gets op(x_0, ..., x_{n-1}) (sum, avg, product,
                           min, max; elementwise)
``broadcast(x, src)``      every rank gets x_src
``all_gather(xs, x)``      xs[i] = x_i on every rank
``reduce_scatter(y, xs)``  y on rank r = op over ranks of xs[r]
``reduce(x, dst, op)``     rank dst gets op(x_0, ..., x_{n-1})
``gather(x, xs, dst)``     on rank dst, xs[i] = x_i
``scatter(x, xs, src)``    x on rank r = xs[r] of rank src
=========================  =====================================================

Objects (``all_gather_object``, ``broadcast_object_list``) travel pickled: use them only
among your own processes, as in PyTorch.
"""

from __future__ import annotations

import enum
import functools
import pickle

import numpy as np

from ember.distributed.process_group import DistBackendError, ProcessGroup, _mpi, resolve
from ember.distributed.process_group import _NonMember as _Outside
from ember.tensor import Tensor

__all__ = [
    "ReduceOp", "Work", "all_reduce", "broadcast", "all_gather", "all_gather_into_tensor",
    "reduce_scatter", "reduce_scatter_tensor", "reduce", "gather", "scatter", "barrier",
    "send", "recv", "isend", "irecv", "all_gather_object", "broadcast_object_list",
]


class ReduceOp(enum.Enum):
    """How ``all_reduce``, ``reduce`` and ``reduce_scatter`` combine the ranks' values
    (elementwise). ``AVG`` is the sum divided by the number of ranks (floating tensors);
    on bool tensors SUM and MAX are a logical or, PRODUCT and MIN a logical and."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


_OP_NAMES = {"sum": ReduceOp.SUM, "avg": ReduceOp.AVG, "mean": ReduceOp.AVG,
             "product": ReduceOp.PRODUCT, "prod": ReduceOp.PRODUCT, "min": ReduceOp.MIN,
             "max": ReduceOp.MAX}


def _reduce_op(op, dtype: np.dtype, what: str):
    """The MPI op for ``op`` on ``dtype``, and whether to divide by the size afterwards."""
    if isinstance(op, str) and op.lower() in _OP_NAMES:
        op = _OP_NAMES[op.lower()]
    if not isinstance(op, ReduceOp):
        raise ValueError(f"{what}: op must be a ReduceOp or one of "
                         f"{', '.join(sorted(_OP_NAMES))}, got {op!r}")
    MPI = _mpi()
    if op is ReduceOp.AVG and dtype.kind != "f":
        raise TypeError(f"{what}: ReduceOp.AVG needs a floating-point tensor, got {dtype}")
    if dtype.kind == "b":
        return (MPI.LOR if op in (ReduceOp.SUM, ReduceOp.MAX) else MPI.LAND), False
    table = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
             ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX}
    return table[op], op is ReduceOp.AVG


class Work:
    """A collective started with ``async_op=True``: ``wait()`` completes it (then its
    results are in the tensors), ``is_completed()`` asks without blocking."""

    def __init__(self, group: ProcessGroup, requests: list, what: str, finish=None) -> None:
        self.group, self.requests, self.what = group, requests, what
        self._finish = finish
        self._done = False

    def _complete(self) -> None:
        if not self._done:
            self._done = True
            if self._finish is not None:
                self._finish()

    def wait(self, timeout=None) -> bool:
        """Block until done (at most ``timeout`` seconds, default the group's)."""
        if not self._done:
            if hasattr(timeout, "total_seconds"):
                timeout = timeout.total_seconds()
            self.group.wait(self.requests, self.what, timeout)
            self._complete()
        return True

    def is_completed(self) -> bool:
        if not self._done and _mpi().Request.Testall(self.requests):
            self._complete()
        return self._done

    def __repr__(self) -> str:
        return f"<Work {self.what}: {'done' if self._done else 'in flight'}>"


def _run(group, requests, what, finish, async_op):
    work = Work(group, requests, what, finish)
    if async_op:
        return work
    work.wait()
    return None


def _start(what: str, start):
    """Call an MPI function, turning its errors into DistBackendError naming ``what``."""
    try:
        return start()
    except _mpi().Exception as error:
        raise DistBackendError(f"{what}: MPI error: {error}") from None


def _tensor(x, what: str, name: str = "tensor") -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{what}: {name} must be an ember Tensor, got {type(x).__name__}")
    return x


class _Buffer:
    """A tensor's array for MPI to read or write: the array itself when it is contiguous
    and writable (zero-copy), else a contiguous copy written back by ``finish()``."""

    def __init__(self, tensor: Tensor, writes: bool = True) -> None:
        self.tensor = tensor
        data = tensor._data
        ok = data.flags.c_contiguous and (data.flags.writeable or not writes)
        self.array = data if ok else np.ascontiguousarray(data)
        self.copied = not ok and writes

    def finish(self) -> None:
        if self.copied:
            self.tensor._data[...] = self.array
        self.tensor._vc[0] += 1  # changed in place: graphs that saved it will notice


def _group(group, what: str):
    """The group to use, or None when this rank is outside it (then: do nothing)."""
    g = resolve(group, what)
    return None if isinstance(g, _Outside) else g


def _then(*steps):
    def finish():
        for step in steps:
            if step is not None:
                step()
    return finish


def _unstack(gathered: np.ndarray, outputs: list) -> None:
    """Rank i's block of ``gathered`` into ``outputs[i]``."""
    for t, values in zip(outputs, gathered, strict=True):
        t._data[...] = values
        t._vc[0] += 1


def _check_list(tensors, like: Tensor, size: int, what: str, name: str) -> list:
    if not isinstance(tensors, (list, tuple)) or len(tensors) != size:
        raise ValueError(f"{what}: {name} must be a list of {size} tensors (one per rank), "
                         f"got {type(tensors).__name__} of length "
                         f"{len(tensors) if isinstance(tensors, (list, tuple)) else '-'}")
    for t in tensors:
        _tensor(t, what, name)
        if t.shape != like.shape or t.dtype != like.dtype:
            raise ValueError(f"{what}: every tensor of {name} must have shape "
                             f"{tuple(like.shape)} and dtype {like.dtype}, got "
                             f"{tuple(t.shape)} {t.dtype}")
    return list(tensors)


# ----------------------------------------------------------------------------- reductions


def all_reduce(tensor: Tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Combine ``tensor`` across the ranks with ``op``, in place on every rank:
    ``x = op(x_0, ..., x_{n-1})`` (default: the sum)."""
    what = "all_reduce"
    g = _group(group, what)
    if g is None:
        return None
    buf = _Buffer(_tensor(tensor, what))
    mpi_op, average = _reduce_op(op, buf.array.dtype, what)
    MPI = _mpi()
    request = _start(what, lambda: g.comm.Iallreduce(MPI.IN_PLACE, buf.array, mpi_op))
    divide = (lambda: np.divide(buf.array, g.size(), out=buf.array)) if average else None
    return _run(g, [request], what, _then(divide, buf.finish), async_op)


def reduce(tensor: Tensor, dst: int = 0, op=ReduceOp.SUM, group=None,
           async_op: bool = False):
    """Combine ``tensor`` across the ranks with ``op`` into rank ``dst``'s tensor
    (``dst`` is a rank of the default group); the others' tensors are unchanged."""
    what = "reduce"
    g = _group(group, what)
    if g is None:
        return None
    root = g.group_rank(dst, what)
    buf = _Buffer(_tensor(tensor, what), writes=g.rank() == root)
    mpi_op, average = _reduce_op(op, buf.array.dtype, what)
    MPI = _mpi()
    if g.rank() == root:
        request = _start(what, lambda: g.comm.Ireduce(MPI.IN_PLACE, buf.array, mpi_op, root))
        divide = (lambda: np.divide(buf.array, g.size(), out=buf.array)) if average else None
        finish = _then(divide, buf.finish)
    else:
        request = _start(what, lambda: g.comm.Ireduce(buf.array, None, mpi_op, root))
        finish = None
    return _run(g, [request], what, finish, async_op)


def reduce_scatter(output: Tensor, input_list: list, op=ReduceOp.SUM, group=None,
                   async_op: bool = False):
    """Rank r's ``output`` gets ``op`` over the ranks of their ``input_list[r]``."""
    what = "reduce_scatter"
    g = _group(group, what)
    if g is None:
        return None
    _tensor(output, what, "output")
    inputs = _check_list(input_list, output, g.size(), what, "input_list")
    send = np.ascontiguousarray(np.stack([t._data for t in inputs]))
    return _reduce_scatter(g, output, send, op, what, async_op)


def reduce_scatter_tensor(output: Tensor, input: Tensor, op=ReduceOp.SUM, group=None,
                          async_op: bool = False):
    """As :func:`reduce_scatter`, with the inputs as one tensor: rank r's block of
    ``input`` (split along dim 0 into world-size blocks of ``output``'s shape)."""
    what = "reduce_scatter_tensor"
    g = _group(group, what)
    if g is None:
        return None
    _tensor(output, what, "output")
    _tensor(input, what, "input")
    _check_blocks(input, output, g.size(), what)
    send = _Buffer(input, writes=False).array
    return _reduce_scatter(g, output, send, op, what, async_op)


def _reduce_scatter(g, output, send, op, what, async_op):
    buf = _Buffer(output)
    mpi_op, average = _reduce_op(op, buf.array.dtype, what)
    request = _start(what, lambda: g.comm.Ireduce_scatter_block(send, buf.array, mpi_op))
    divide = (lambda: np.divide(buf.array, g.size(), out=buf.array)) if average else None
    return _run(g, [request], what, _then(divide, buf.finish), async_op)


def _check_blocks(big: Tensor, block: Tensor, size: int, what: str) -> None:
    """``big`` must be ``size`` blocks of ``block``'s shape: stacked, or concatenated."""
    stacked = (size, *block.shape)
    joined = (size * block.shape[0], *block.shape[1:]) if block.ndim else None
    if big.dtype != block.dtype or tuple(big.shape) not in (stacked, joined):
        raise ValueError(f"{what}: the large tensor must hold {size} blocks of shape "
                         f"{tuple(block.shape)} ({stacked} or {joined}) with dtype "
                         f"{block.dtype}; got {tuple(big.shape)} {big.dtype}")


# ----------------------------------------------------------------------------- data movement


def broadcast(tensor: Tensor, src: int = 0, group=None, async_op: bool = False):
    """Every rank's ``tensor`` gets rank ``src``'s values (``src``: a default-group rank)."""
    what = "broadcast"
    g = _group(group, what)
    if g is None:
        return None
    root = g.group_rank(src, what)
    buf = _Buffer(_tensor(tensor, what))
    request = _start(what, lambda: g.comm.Ibcast(buf.array, root))
    return _run(g, [request], what, buf.finish, async_op)


def all_gather(tensor_list: list, tensor: Tensor, group=None, async_op: bool = False):
    """``tensor_list[i]`` gets rank i's ``tensor``, on every rank."""
    what = "all_gather"
    g = _group(group, what)
    if g is None:
        return None
    outputs = _check_list(tensor_list, _tensor(tensor, what), g.size(), what, "tensor_list")
    send = _Buffer(tensor, writes=False).array
    gathered = np.empty((g.size(), *tensor.shape), dtype=tensor.dtype)
    request = _start(what, lambda: g.comm.Iallgather(send, gathered))
    return _run(g, [request], what, functools.partial(_unstack, gathered, outputs), async_op)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group=None,
                           async_op: bool = False):
    """Every rank's ``input_tensor``, in rank order, into ``output_tensor`` (their
    concatenation along dim 0, or their stack): one buffer, no copies."""
    what = "all_gather_into_tensor"
    g = _group(group, what)
    if g is None:
        return None
    _tensor(output_tensor, what, "output_tensor")
    _tensor(input_tensor, what, "input_tensor")
    _check_blocks(output_tensor, input_tensor, g.size(), what)
    send = _Buffer(input_tensor, writes=False).array
    buf = _Buffer(output_tensor)
    request = _start(what, lambda: g.comm.Iallgather(send, buf.array))
    return _run(g, [request], what, buf.finish, async_op)


def gather(tensor: Tensor, gather_list: list | None = None, dst: int = 0, group=None,
           async_op: bool = False):
    """On rank ``dst``, ``gather_list[i]`` gets rank i's ``tensor`` (others pass None)."""
    what = "gather"
    g = _group(group, what)
    if g is None:
        return None
    root = g.group_rank(dst, what)
    send = _Buffer(_tensor(tensor, what), writes=False).array
    finish = None
    if g.rank() == root:
        outputs = _check_list(gather_list, tensor, g.size(), what, "gather_list")
        gathered = np.empty((g.size(), *tensor.shape), dtype=tensor.dtype)
        finish = functools.partial(_unstack, gathered, outputs)
        request = _start(what, lambda: g.comm.Igather(send, gathered, root))
    else:
        if gather_list:
            raise ValueError(f"{what}: gather_list must be given on the destination rank "
                             f"{dst} only")
        request = _start(what, lambda: g.comm.Igather(send, None, root))
    return _run(g, [request], what, finish, async_op)


def scatter(tensor: Tensor, scatter_list: list | None = None, src: int = 0, group=None,
            async_op: bool = False):
    """Rank i's ``tensor`` gets ``scatter_list[i]`` of rank ``src`` (others pass None)."""
    what = "scatter"
    g = _group(group, what)
    if g is None:
        return None
    root = g.group_rank(src, what)
    buf = _Buffer(_tensor(tensor, what))
    if g.rank() == root:
        inputs = _check_list(scatter_list, tensor, g.size(), what, "scatter_list")
        send = np.ascontiguousarray(np.stack([t._data for t in inputs]))
        request = _start(what, lambda: g.comm.Iscatter(send, buf.array, root))
    else:
        if scatter_list:
            raise ValueError(f"{what}: scatter_list must be given on the source rank {src} "
                             "only")
        request = _start(what, lambda: g.comm.Iscatter(None, buf.array, root))
    return _run(g, [request], what, buf.finish, async_op)


def barrier(group=None, async_op: bool = False, device_ids=None):
    """Wait until every rank of the group has reached this call."""
    what = "barrier"
    g = _group(group, what)
    if g is None:
        return None
    request = _start(what, lambda: g.comm.Ibarrier())
    return _run(g, [request], what, None, async_op)


# ----------------------------------------------------------------------------- point to point


def isend(tensor: Tensor, dst: int, group=None, tag: int = 0) -> Work | None:
    """Start sending ``tensor`` to rank ``dst`` (a default-group rank); returns a Work."""
    what = "isend"
    g = _group(group, what)
    if g is None:
        return None
    peer = g.group_rank(dst, what)
    send = _Buffer(_tensor(tensor, what), writes=False).array
    request = _start(what, lambda: g.comm.Isend(send, peer, tag))
    return Work(g, [request], what)


def irecv(tensor: Tensor, src: int | None = None, group=None, tag: int = 0) -> Work | None:
    """Start receiving into ``tensor`` from rank ``src`` (None: any rank); returns a Work."""
    what = "irecv"
    g = _group(group, what)
    if g is None:
        return None
    MPI = _mpi()
    peer = MPI.ANY_SOURCE if src is None else g.group_rank(src, what)
    buf = _Buffer(_tensor(tensor, what))
    request = _start(what, lambda: g.comm.Irecv(buf.array, peer, tag))
    return Work(g, [request], what, buf.finish)


def send(tensor: Tensor, dst: int, group=None, tag: int = 0) -> None:
    """Send ``tensor`` to rank ``dst``, waiting until it has left."""
    work = isend(tensor, dst, group, tag)
    if work is not None:
        work.wait()


def recv(tensor: Tensor, src: int | None = None, group=None, tag: int = 0) -> int:
    """Receive into ``tensor`` from rank ``src`` (None: any); returns the sender's rank."""
    what = "recv"
    g = _group(group, what)
    if g is None:
        return -1
    MPI = _mpi()
    peer = MPI.ANY_SOURCE if src is None else g.group_rank(src, what)
    buf = _Buffer(_tensor(tensor, what))
    request = _start(what, lambda: g.comm.Irecv(buf.array, peer, tag))
    statuses = [MPI.Status()]
    g.wait([request], what, statuses=statuses)
    buf.finish()
    return g.ranks[statuses[0].Get_source()]


# ----------------------------------------------------------------------------- objects


def _bytes_of(obj) -> np.ndarray:
    return np.frombuffer(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), dtype=np.uint8)


def all_gather_object(object_list: list, obj, group=None) -> None:
    """``object_list[i]`` gets rank i's ``obj`` (any picklable object), on every rank."""
    what = "all_gather_object"
    g = _group(group, what)
    if g is None:
        return
    if not isinstance(object_list, list) or len(object_list) != g.size():
        raise ValueError(f"{what}: object_list must be a list of {g.size()} (one per rank)")
    data = _bytes_of(obj)
    lengths = np.empty(g.size(), dtype=np.int64)
    g.wait([_start(what, lambda: g.comm.Iallgather(np.array([data.size]), lengths))], what)
    gathered = np.empty(int(lengths.sum()), dtype=np.uint8)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    MPI = _mpi()
    spec = [gathered, lengths.tolist(), offsets.tolist(), MPI.BYTE]
    g.wait([_start(what, lambda: g.comm.Iallgatherv(data, spec))], what)
    for i, (start, n) in enumerate(zip(offsets, lengths, strict=True)):
        object_list[i] = pickle.loads(gathered[start:start + n].tobytes())


def broadcast_object_list(object_list: list, src: int = 0, group=None) -> None:
    """Every rank's ``object_list`` gets the objects of rank ``src``'s, in place (the
    lists must have the same length on every rank)."""
    what = "broadcast_object_list"
    g = _group(group, what)
    if g is None:
        return
    root = g.group_rank(src, what)
    if not isinstance(object_list, list):
        raise TypeError(f"{what}: object_list must be a list")
    data = _bytes_of(list(object_list)) if g.rank() == root else None
    length = np.array([0 if data is None else data.size], dtype=np.int64)
    g.wait([_start(what, lambda: g.comm.Ibcast(length, root))], what)
    if data is None:
        data = np.empty(int(length[0]), dtype=np.uint8)
    g.wait([_start(what, lambda: g.comm.Ibcast(data, root))], what)
    if g.rank() != root:
        received = pickle.loads(data.tobytes())
        if len(received) != len(object_list):
            raise ValueError(f"{what}: rank {src} sent {len(received)} objects, this rank's "
                             f"list has {len(object_list)}")
        object_list[:] = received
