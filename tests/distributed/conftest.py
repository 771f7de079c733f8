"""The ``mpi`` fixture: the helpers of :mod:`mpi_jobs`, or a skip saying why MPI cannot
run here."""

from __future__ import annotations

import mpi_jobs
import pytest


@pytest.fixture
def mpi():
    reason = mpi_jobs.why_mpi_cannot_run()
    if reason:
        pytest.skip(reason)
    return mpi_jobs
