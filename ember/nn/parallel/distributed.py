"""DistributedDataParallel: one model per rank, gradients averaged during the backward pass.

Data parallelism on R ranks: each rank runs the same model on its own share of the batch,
and before the update every gradient is replaced by its average over the ranks,

.. math:: \\bar{g} = \\frac{1}{R} \\sum_{r=1}^{R} g_r

which, for a loss that is a mean over equal shares, is the gradient of the whole batch:
every rank then takes the step one process with the whole batch would take, and the
models stay identical (they start so: rank 0's parameters and buffers are broadcast when
the wrapper is built).

How the averaging overlaps the backward pass (as PyTorch's reducer): the parameters are
grouped, last layer first, into *buckets* of about ``bucket_cap_mb`` megabytes (the first
1 MB), each one flat array. A post-accumulate-grad hook on every parameter copies its
final gradient into its bucket; when a bucket is full it is divided by R and a
non-blocking all-reduce (``MPI_Iallreduce``) starts on it, while the backward pass goes
on to the earlier layers. Buckets start in order, the same on every rank. When the
backward pass ends, the rest are started and all are waited for; the averages are
copied back into ``.grad``. Each bucket also carries, per parameter, the number of ranks
that gave it a gradient: a parameter no rank used keeps ``.grad`` None, one that some
ranks did not use averages their zeros in (PyTorch's ``find_unused_parameters``, always
on here: it costs nothing). The reductions run on a communicator of their own, so they
never interleave with other collectives (SyncBatchNorm's) of the same ranks.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

from ember.autograd.engine import is_grad_enabled, queue_callback
from ember.distributed import collectives
from ember.distributed.process_group import ProcessGroup, _mpi, resolve
from ember.nn.module import Module
from ember.tensor import Tensor

__all__ = ["DistributedDataParallel"]

_FIRST_BUCKET_BYTES = 1 << 20  # PyTorch's first bucket: small, so it starts early


class _Bucket:
    """Parameters whose gradients travel together in one flat array:
    ``[gradients | how many ranks gave each parameter a gradient]``."""

    def __init__(self, params: list) -> None:
        self.params = params
        sizes = [p.numel() for p in params]
        self.numel = sum(sizes)
        self.buffer = np.zeros(self.numel + len(params), dtype=params[0].dtype)
        self.grads = self.buffer[:self.numel]
        self.counts = self.buffer[self.numel:]
        starts = np.cumsum([0, *sizes])
        self.views = [self.buffer[a:b].reshape(p.shape)
                      for a, b, p in zip(starts[:-1], starts[1:], params, strict=True)]
        self.ready = [False] * len(params)
        self.pending = len(params)
        self.request = None

    def reset(self) -> None:
        self.ready = [False] * len(self.params)
        self.pending = len(self.params)
        self.request = None


def _assign_buckets(params: list, cap_bytes: int) -> list[list]:
    """Parameters (in reverse order of definition) cut into buckets of at most
    ``cap_bytes`` (the first at most 1 MB), never mixing dtypes."""
    buckets, current, size = [], [], 0
    for p in reversed(params):
        limit = min(cap_bytes, _FIRST_BUCKET_BYTES) if not buckets else cap_bytes
        if current and (p.dtype != current[0].dtype or size >= limit):
            buckets.append(current)
            current, size = [], 0
        current.append(p)
        size += p.numel() * p.element_size()
    if current:
        buckets.append(current)
    return buckets


class DistributedDataParallel(Module):
    """Data-parallel training of ``module`` across the ranks of a process group.

    Wrap the model once on every rank (after ``init_process_group``), give each rank its
    share of every batch (:class:`~ember.data.DistributedSampler`), and train as usual:
    ``backward()`` leaves every rank with the gradients averaged over the ranks, so the
    optimisers take identical steps. See the module for how (buckets, hooks, non-blocking
    all-reduces). ``state_dict()`` keys start with ``module.``, as in PyTorch; save
    ``model.module.state_dict()`` for a checkpoint that loads without the wrapper.

    Args:
        module: the model (the same architecture on every rank; rank 0's weights win).
        device_ids, output_device, dim: accepted for PyTorch compatibility (CPU only).
        broadcast_buffers: before each forward pass that records a graph, copy rank 0's
            buffers (BatchNorm's running statistics) to every rank (default True).
        process_group: the ranks to average over (default: all).
        bucket_cap_mb: bucket size in megabytes (default 25; the first bucket is 1 MB).
        find_unused_parameters: accepted for compatibility; unused parameters are
            always handled (see the module).
        gradient_as_bucket_view: let each ``.grad`` be a view into its bucket, saving a
            copy and the memory of the gradients (default False).
        check_reduction, static_graph: accepted for compatibility.
        init_sync: broadcast rank 0's parameters and buffers now (default True).

    Use :meth:`no_sync` to accumulate gradients over several backward passes and average
    once. In a script started by ``mpiexec -n 2 python train.py``::

        dist.init_process_group("mpi")
        model = em.nn.parallel.DistributedDataParallel(model)
        loss_fn(model(x_share), y_share).backward()   # .grad: the average over the ranks
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, process_group: ProcessGroup | None = None,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False, init_sync: bool = True) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be an ember Module, got "
                            f"{type(module).__name__}")
        group = resolve(process_group, "DistributedDataParallel")
        if not isinstance(group, ProcessGroup):
            raise ValueError("DistributedDataParallel: this rank is not a member of "
                             "process_group")
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        self.module = module
        self.process_group = group
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.device_ids, self.output_device, self.dim = device_ids, output_device, dim
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 2**20)
        self.require_backward_grad_sync = True
        self.world_size = group.size()
        self._check_same_model(module)
        if init_sync:
            self._broadcast(self._states(module))
        # the gradient reductions get a communicator of their own
        self._reducer_group = group.dup()
        self._buckets = [_Bucket(b) for b in _assign_buckets(params, self.bucket_bytes_cap)]
        self._prepare(True)
        self._grad_hook_handles = []
        for bucket in self._buckets:
            for position, p in enumerate(bucket.params):
                self._grad_hook_handles.append(p.register_post_accumulate_grad_hook(
                    lambda p, bucket=bucket, position=position:
                    self._gradient_ready(bucket, position)))

    # ------------------------------------------------------------------ forward

    def forward(self, *inputs, **kwargs):
        if is_grad_enabled():  # a forward pass without a graph (evaluation) changes nothing
            if any(b.request is not None for b in self._buckets):
                raise RuntimeError(
                    "DistributedDataParallel: the previous backward pass did not finish its "
                    "gradient reduction (did it raise?); the ranks can no longer be kept in "
                    "step")
            sync = self.require_backward_grad_sync
            self._prepare(sync)
            if sync and self.broadcast_buffers and self.world_size > 1:
                buffers = [b for _, b in self.module.named_buffers()]
                if buffers:
                    self._broadcast(buffers)
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Inside this context, backward passes accumulate local gradients without averaging
        them across ranks; the first backward pass after it averages the accumulated sum.

        Gradient accumulation over k micro-batches then costs one reduction instead of
        k: ``with model.no_sync(): model(x1).sum().backward()`` and so on, then a last
        forward and backward outside the context."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    # ------------------------------------------------------------------ the reducer

    def _prepare(self, sync: bool) -> None:
        """Ready the buckets for the backward pass of the forward pass starting now."""
        for bucket in self._buckets:
            bucket.reset()
        self._next_bucket = 0
        self._finish_queued = False
        self._sync_this_pass = sync and self.world_size > 1

    def _gradient_ready(self, bucket: _Bucket, position: int) -> None:
        """Post-accumulate-grad hook: parameter ``position`` of ``bucket`` has its final
        gradient of this backward pass."""
        if not self._sync_this_pass or bucket.ready[position]:
            return
        if not self._finish_queued:
            queue_callback(self._finish)
            self._finish_queued = True
        self._fill(bucket, position)
        if bucket.pending == 0:
            self._start_ready_buckets()
        elif self._next_bucket:
            # let MPI move the buckets already started along (it progresses in its calls)
            _mpi().Request.Testall([b.request for b in self._buckets[:self._next_bucket]])

    def _fill(self, bucket: _Bucket, position: int) -> None:
        p, view = bucket.params[position], bucket.views[position]
        if p.grad is None:
            view[...] = 0
            bucket.counts[position] = 0
        else:
            if p.grad._data is not view:
                np.copyto(view, p.grad._data)
            bucket.counts[position] = 1
        bucket.ready[position] = True
        bucket.pending -= 1

    def _start_ready_buckets(self) -> None:
        MPI = _mpi()
        comm = self._reducer_group.comm
        while (self._next_bucket < len(self._buckets)
               and self._buckets[self._next_bucket].pending == 0):
            bucket = self._buckets[self._next_bucket]
            bucket.grads /= self.world_size
            bucket.request = comm.Iallreduce(MPI.IN_PLACE, bucket.buffer, MPI.SUM)
            self._next_bucket += 1

    def _finish(self) -> None:
        """At the end of the backward pass: start what is left, wait, write the averages."""
        for bucket in self._buckets:
            for position in range(len(bucket.params)):
                if not bucket.ready[position]:
                    self._fill(bucket, position)
        self._start_ready_buckets()
        self._reducer_group.wait([b.request for b in self._buckets],
                                 "DistributedDataParallel's gradient all-reduce")
        for bucket in self._buckets:
            bucket.request = None
            for p, view, count in zip(bucket.params, bucket.views, bucket.counts, strict=True):
                if count == 0:
                    continue  # no rank gave it a gradient: .grad stays as it is (None)
                self._write_back(p, view)
        self._prepare(True)  # a second backward pass (retain_graph) is averaged too

    def _write_back(self, p, view: np.ndarray) -> None:
        if self.gradient_as_bucket_view:
            if p.grad is None:
                p.grad = Tensor._wrap(view)
            elif p.grad._data is not view:
                p.grad._data = view
            return
        if p.grad is None:
            p.grad = Tensor._wrap(view.copy())
        elif p.grad._data.flags.writeable and p.grad._data.flags.c_contiguous:
            np.copyto(p.grad._data, view)
        else:
            p.grad._data = view.copy()

    # ------------------------------------------------------------------ start-up

    def _broadcast(self, tensors: list) -> None:
        """Rank 0's values of ``tensors`` to every rank: one broadcast per dtype."""
        if self.world_size == 1:
            return
        by_dtype: dict = {}
        for t in tensors:
            by_dtype.setdefault(t.dtype, []).append(t)
        root = self.process_group.ranks[0]
        for dtype, members in by_dtype.items():
            flat = np.concatenate([t._data.reshape(-1) for t in members]).astype(dtype,
                                                                                 copy=False)
            collectives.broadcast(Tensor._wrap(flat), src=root, group=self.process_group)
            start = 0
            for t in members:
                n = t.numel()
                t._data[...] = flat[start:start + n].reshape(t.shape)
                t._vc[0] += 1
                start += n

    @staticmethod
    def _states(module: Module) -> list:
        """Every parameter and buffer (persistent or not), each once."""
        return [t for _, t in (*module.named_parameters(), *module.named_buffers())]

    def _check_same_model(self, module: Module) -> None:
        """Every rank must wrap the same architecture: compare names, shapes and dtypes."""
        if self.world_size == 1:
            return
        mine = [(name, tuple(t.shape), str(t.dtype))
                for name, t in (*module.named_parameters(), *module.named_buffers())]
        everyone = [None] * self.world_size
        collectives.all_gather_object(everyone, mine, group=self.process_group)
        for rank, theirs in enumerate(everyone):
            if theirs != everyone[0]:
                difference = next((f"{a} on rank 0 but {b} on rank {rank}"
                                   for a, b in zip(everyone[0], theirs, strict=False)
                                   if a != b),
                                  f"{len(everyone[0])} tensors on rank 0 but {len(theirs)} "
                                  f"on rank {rank}")
                raise ValueError("DistributedDataParallel: the ranks' models differ: "
                                 + difference)

    def extra_repr(self) -> str:
        sizes = ", ".join(f"{math.ceil(b.numel * b.buffer.itemsize / 1024)} kB"
                          for b in self._buckets)
        return f"world_size={self.world_size}, buckets=[{sizes}]"
