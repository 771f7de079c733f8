"""Running scripts under ``mpiexec -n N`` from the tests, with a time limit (the ``mpi``
fixture of this folder's conftest gives this module).

The MPI runtime comes with the ``test`` extra (mpi4py and the MPICH wheel, whose
``mpiexec`` sits beside the Python executable). Tests skip, saying why, only when MPI
cannot start here at all.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).parent / "mpi_scripts"


def mpiexec() -> str | None:
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def _environment() -> dict:
    # one BLAS thread per rank: two ranks on two cores must not oversubscribe them
    threads = {v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    return dict(os.environ, **threads, PYTHONUNBUFFERED="1")


def run_mpi(args: list[str], n: int = 2, timeout: float = 120.0,
            cwd: str | None = None) -> subprocess.CompletedProcess:
    """``mpiexec -n n args...``; on timeout the whole process group is killed and the
    test fails (a hang is a failure, never a wait)."""
    process = subprocess.Popen([mpiexec(), "-n", str(n), *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=_environment(),
                               cwd=cwd, start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"mpiexec -n {n} {' '.join(args)} did not finish in {timeout} s\n"
                    f"stdout:\n{out}\nstderr:\n{err}")
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def run_script(name: str, *args: str, n: int = 2, timeout: float = 120.0) -> dict:
    """Run ``mpi_scripts/name`` on n ranks; it must succeed and print a JSON line last."""
    done = run_mpi([sys.executable, str(SCRIPTS / name), *args], n=n, timeout=timeout)
    assert done.returncode == 0, f"{name} failed:\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


@functools.cache
def why_mpi_cannot_run() -> str | None:
    import importlib.util

    if importlib.util.find_spec("mpi4py") is None:
        return 'mpi4py is not installed (pip install -e ".[test]" brings it and MPICH)'
    if mpiexec() is None:
        return 'no mpiexec found (pip install -e ".[test]" brings the MPICH runtime)'
    code = "from mpi4py import MPI; assert MPI.COMM_WORLD.Get_size() == 2"
    try:
        done = subprocess.run([mpiexec(), "-n", "2", sys.executable, "-c", code],
                              capture_output=True, text=True, timeout=60, env=_environment())
    except subprocess.TimeoutExpired:
        return "mpiexec -n 2 did not start two processes within 60 s on this machine"
    if done.returncode != 0:
        return f"mpiexec -n 2 cannot run here: {done.stderr.strip()[-300:]}"
    return None
