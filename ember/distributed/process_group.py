"""Process groups on MPI: starting, describing and ending a distributed job.

``mpiexec -n 4 python train.py`` starts four copies of a script; each calls
:func:`init_process_group` and learns its *rank* (0-3) and the *world size* (4) from MPI.
A :class:`ProcessGroup` is a set of ranks that take part in collectives together: the
default group holds every rank, :func:`new_group` makes smaller ones.

Failure handling, so that a broken job ends instead of hanging:

* an exception that no code catches, on any rank, prints its traceback and then aborts
  the whole job (``MPI_Abort``), so that ranks waiting for it in a collective stop too;
* every wait for a collective has a time limit (``timeout``, 30 minutes by default as in
  PyTorch): a rank whose peer died or is stuck raises :class:`DistTimeoutError` naming
  the operation, which (uncaught) aborts the job.

A wait polls its requests (MPI progresses a non-blocking collective only inside MPI
calls, on both sides), yielding the core between polls to any process waiting for it,
instead of spinning inside MPI; after 0.2 s it sleeps up to 1 ms between polls, so that
a rank waiting long (for a checkpoint being written, a slower machine) costs no CPU.
"""

from __future__ import annotations

import datetime
import os
import sys
import time

import numpy as np

__all__ = [
    "DistError", "DistBackendError", "DistTimeoutError", "ProcessGroup", "group",
    "is_available", "init_process_group", "destroy_process_group", "is_initialized",
    "is_mpi_available", "get_backend", "get_rank", "get_world_size", "new_group",
    "get_process_group_ranks", "launched_world_size",
]

DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)  # PyTorch's default_pg_timeout
_SPIN_SECONDS = 0.2  # a wait polls (yielding the core) this long, then sleeps between polls
_ABORT_GRACE = 0.5  # seconds between printing a rank's uncaught error and aborting the job
_INSTALL_HINT = 'pip install "ember[distributed]" (mpi4py and the MPICH runtime)'

# environment variables a launcher sets to the number of processes of the job
_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE",
                   "SLURM_STEP_NUM_TASKS")


class DistError(RuntimeError):
    """An error in a distributed operation."""


class DistBackendError(DistError):
    """The MPI library reported an error, or an operation could not complete."""


class DistTimeoutError(DistBackendError):
    """A collective did not complete within the process group's timeout."""


class ProcessGroup:
    """Ranks that run collectives together, over one MPI communicator.

    Attributes:
        comm: the mpi4py communicator.
        ranks: the members' ranks in the default group, in this group's rank order.
        timeout: seconds a collective may wait before :class:`DistTimeoutError`.
    """

    def __init__(self, comm, ranks: list[int], timeout: float) -> None:
        self.comm = comm
        self.ranks = list(ranks)
        self.timeout = float(timeout)

    def rank(self) -> int:
        return self.comm.Get_rank()

    def size(self) -> int:
        return self.comm.Get_size()

    def group_rank(self, global_rank: int, what: str) -> int:
        """This group's rank of the process whose default-group rank is ``global_rank``."""
        try:
            return self.ranks.index(int(global_rank))
        except ValueError:
            raise ValueError(f"{what}: rank {global_rank} is not in the process group "
                             f"(its ranks are {self.ranks})") from None

    def wait(self, requests: list, what: str, timeout: float | None = None,
             statuses: list | None = None) -> None:
        """Wait for MPI requests, at most ``timeout`` seconds (default: the group's)."""
        MPI = _mpi()
        if MPI.Request.Testall(requests, statuses):
            return
        limit = self.timeout if timeout is None else float(timeout)
        started = time.monotonic()
        delay = 0.0
        while not MPI.Request.Testall(requests, statuses):
            waited = time.monotonic() - started
            if waited > limit:
                raise DistTimeoutError(
                    f"ember.distributed: {what} timed out after {limit:g} s on rank "
                    f"{get_rank()} of {get_world_size()}: another rank has failed, has "
                    "stopped or is stuck (look for its error); raise the limit with "
                    "init_process_group(timeout=...)")
            if waited < 1e-4:
                continue  # a collective that is nearly done: poll again at once
            if waited < _SPIN_SECONDS:
                os.sched_yield()  # poll, but let a process waiting for this core run
            else:  # a long wait (a slow rank, a checkpoint being written): sleep
                time.sleep(delay)
                delay = min(2 * delay or 1e-4, 1e-3)

    def all_gather_array(self, array: np.ndarray, what: str = "all_gather") -> np.ndarray:
        """Every rank's ``array`` (same shape and dtype on all), stacked in rank order."""
        send = np.ascontiguousarray(array)
        gathered = np.empty((self.size(), *send.shape), dtype=send.dtype)
        self.wait([self.comm.Iallgather(send, gathered)], what)
        return gathered

    def all_reduce_array(self, array: np.ndarray, what: str = "all_reduce") -> None:
        """Sum a contiguous ``array`` over the ranks, in place."""
        MPI = _mpi()
        self.wait([self.comm.Iallreduce(MPI.IN_PLACE, array, MPI.SUM)], what)

    def dup(self) -> ProcessGroup:
        """A group of the same ranks on a communicator of its own: its collectives never
        interleave with this group's (DistributedDataParallel reduces gradients on one)."""
        return ProcessGroup(self.comm.Dup(), self.ranks, self.timeout)

    def __repr__(self) -> str:
        return f"ProcessGroup(ranks={self.ranks}, backend='mpi')"


class _NonMember:
    """What :func:`new_group` returns on a rank outside the new group (as PyTorch's
    ``GroupMember.NON_GROUP_MEMBER``): collectives on it do nothing."""

    def __repr__(self) -> str:
        return "<not a member of this process group>"


_state: dict = {"MPI": None, "world": None, "previous_excepthook": None}


class _Groups:
    """``group.WORLD``: the default process group (None before ``init_process_group``);
    ``group.NON_GROUP_MEMBER``: what :func:`new_group` gives ranks outside it."""

    NON_GROUP_MEMBER = _NonMember()

    @property
    def WORLD(self) -> ProcessGroup | None:  # noqa: N802  (PyTorch's name)
        return _state["world"]


group = _Groups()


def _mpi():
    if _state["MPI"] is None:
        raise RuntimeError("Default process group has not been initialized, please make "
                           "sure to call init_process_group.")
    return _state["MPI"]


def is_available() -> bool:
    """Whether ember.distributed can run here (mpi4py is installed; MPI is not started)."""
    import importlib.util

    return importlib.util.find_spec("mpi4py") is not None


is_mpi_available = is_available


def launched_world_size() -> int:
    """The number of processes a launcher (``mpiexec``, ``mpirun``, ``srun``) started for
    this job, read from its environment variables; 1 when started on its own."""
    for name in _SIZE_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return 1


def _seconds(timeout) -> float:
    if timeout is None:
        return DEFAULT_TIMEOUT.total_seconds()
    if isinstance(timeout, datetime.timedelta):
        timeout = timeout.total_seconds()
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
        raise ValueError(f"init_process_group: timeout must be a positive number of seconds "
                         f"or a timedelta, got {timeout!r}")
    return float(timeout)


def init_process_group(backend: str | None = "mpi", init_method: str | None = None,
                       timeout=None, world_size: int = -1, rank: int = -1, store=None,
                       group_name: str = "", pg_options=None, device_id=None) -> None:
    """Start this process's part in a distributed job (MPI): the default process group.

    Rank and world size come from MPI (the launcher); ``world_size`` and ``rank``, when
    given, are checked against them. A script started without ``mpiexec`` runs as a job
    of one process. Installs the abort-on-uncaught-exception hook (see the module).

    Args:
        backend: ``"mpi"`` (the only backend; None means mpi).
        init_method: ignored (MPI's launcher connects the processes), as in PyTorch's
            MPI backend.
        timeout: how long a collective may wait (a ``timedelta`` or seconds; default 30
            minutes).
        world_size, rank: expected values, or -1.

    >>> import ember.distributed as dist
    >>> dist.is_initialized()
    False
    """
    if backend not in (None, "mpi", "MPI"):
        raise ValueError(f"init_process_group: ember.distributed runs on MPI; backend must "
                         f"be 'mpi', got {backend!r}")
    if _state["world"] is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    seconds = _seconds(timeout)
    try:
        from mpi4py import MPI
    except ImportError:
        raise ImportError(f"ember.distributed needs mpi4py and an MPI library: "
                          f"{_INSTALL_HINT}") from None
    except RuntimeError as error:  # mpi4py found no MPI library to load
        raise ImportError(f"ember.distributed: mpi4py could not load an MPI library "
                          f"({error}); {_INSTALL_HINT}") from None
    comm = MPI.COMM_WORLD
    size, own_rank = comm.Get_size(), comm.Get_rank()
    if world_size not in (-1, None) and world_size != size:
        raise ValueError(f"init_process_group: world_size={world_size} but MPI started "
                         f"{size} processes")
    if rank not in (-1, None) and rank != own_rank:
        raise ValueError(f"init_process_group: rank={rank} but MPI gave this process rank "
                         f"{own_rank}")
    _state["MPI"] = MPI
    _state["world"] = ProcessGroup(comm, list(range(size)), seconds)
    if _state["previous_excepthook"] is None:
        _state["previous_excepthook"] = sys.excepthook
        sys.excepthook = _abort_on_uncaught_exception


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """End a process group, by default the default one (MPI itself is finalised when the
    process exits)."""
    if group is not None and group is not _state["world"]:
        if isinstance(group, ProcessGroup):
            group.comm.Free()
        return
    if _state["world"] is None:
        raise RuntimeError("destroy_process_group: the default process group is not "
                           "initialized")
    _state["world"] = None
    if _state["previous_excepthook"] is not None:
        sys.excepthook = _state["previous_excepthook"]
        _state["previous_excepthook"] = None


def is_initialized() -> bool:
    """Whether :func:`init_process_group` has run (and the group is not destroyed)."""
    return _state["world"] is not None


def resolve(group: ProcessGroup | None, what: str = "ember.distributed"):
    """The group that ``group`` stands for (None: the default group)."""
    if group is None:
        if _state["world"] is None:
            raise RuntimeError(f"{what}: the default process group has not been "
                               "initialized; call ember.distributed.init_process_group() first")
        return _state["world"]
    if not isinstance(group, (ProcessGroup, _NonMember)):
        raise TypeError(f"{what}: group must be a ProcessGroup or None, got "
                        f"{type(group).__name__}")
    return group


def get_backend(group: ProcessGroup | None = None) -> str:
    resolve(group, "get_backend")
    return "mpi"


def get_rank(group: ProcessGroup | None = None) -> int:
    """This process's rank in ``group`` (default: the default group); -1 outside it."""
    g = resolve(group, "get_rank")
    return -1 if isinstance(g, _NonMember) else g.rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    """The number of processes in ``group`` (default: the default group); -1 outside it."""
    g = resolve(group, "get_world_size")
    return -1 if isinstance(g, _NonMember) else g.size()


def get_process_group_ranks(group: ProcessGroup | None) -> list[int]:
    """The default-group ranks of ``group``'s members, in its rank order."""
    return list(resolve(group, "get_process_group_ranks").ranks)


def new_group(ranks=None, timeout=None, backend=None, pg_options=None):
    """A process group of some of the ranks (all by default). Every rank of the default
    group must call it, with the same ``ranks``; ranks outside get
    ``group.NON_GROUP_MEMBER``, on which collectives do nothing."""
    world = resolve(None, "new_group")
    members = sorted(set(range(world.size()) if ranks is None else (int(r) for r in ranks)))
    if any(r < 0 or r >= world.size() for r in members):
        raise ValueError(f"new_group: ranks must be in [0, {world.size() - 1}], got {ranks}")
    seconds = world.timeout if timeout is None else _seconds(timeout)
    MPI = _mpi()
    inside = world.rank() in members
    comm = world.comm.Split(0 if inside else MPI.UNDEFINED, world.rank())
    if not inside:
        return group.NON_GROUP_MEMBER
    return ProcessGroup(comm, members, seconds)


def _abort_on_uncaught_exception(exc_type, exc, traceback) -> None:
    """sys.excepthook while a group is up: print the error, then end every rank."""
    previous = _state["previous_excepthook"] or sys.__excepthook__
    previous(exc_type, exc, traceback)
    world = _state["world"]
    if world is None or world.size() <= 1:
        return
    sys.stderr.write(f"ember.distributed: rank {world.rank()} of {world.size()} failed "
                     f"({exc_type.__name__}: {exc}); aborting the job on every rank\n")
    sys.stdout.flush()
    sys.stderr.flush()
    # mpiexec forwards each rank's output through a proxy that Abort tears down: give it
    # a moment to pass on the traceback and the line above, or they can be cut off
    time.sleep(_ABORT_GRACE)
    world.comm.Abort(1)
