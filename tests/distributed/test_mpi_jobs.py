"""Jobs of several processes under mpiexec: collectives, DDP trajectories, failures."""

from __future__ import annotations

import sys
import time

import pytest


def test_every_collective_matches_numpy_on_three_ranks(mpi):
    result = mpi.run_script("collectives.py", n=3)
    assert result["world"] == 3
    assert result["failures"] == []


def test_two_ranks_with_half_batches_follow_one_process_with_the_whole_batch(mpi):
    # SGD with momentum and Adam, plain and with SyncBatchNorm, gradient accumulation
    # under no_sync(), one bucket and several, gradients as bucket views: float64
    result = mpi.run_script("ddp_trajectories.py", n=2)
    assert result["failures"] == []
    assert set(result["max_difference"]) == {
        "mlp-sgd-momentum", "mlp-adam-small-buckets", "mlp-sgd-no_sync-accumulation",
        "syncbn-sgd-momentum", "syncbn-adam-grad-views"}
    for case, difference in result["max_difference"].items():
        assert difference < 1e-10, case


@pytest.mark.parametrize("mode, message", [
    ("raise", "rank 1 of 2 failed (ValueError: rank one broke); aborting the job"),
    ("hang", "all_reduce timed out after 2 s on rank 0 of 2"),
    ("backward", "rank 1 of 2 failed (ValueError: rank one broke in forward)"),
])
def test_a_failing_rank_ends_the_job_with_a_clear_message(mpi, mode, message):
    started = time.monotonic()
    done = mpi.run_mpi([sys.executable, str(mpi.SCRIPTS / "failing_rank.py"), mode],
                       timeout=60)
    assert done.returncode != 0
    assert message in done.stderr
    assert "finished" not in done.stdout
    assert time.monotonic() - started < 30  # the survivor did not wait for rank 1's sleep
