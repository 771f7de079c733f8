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


def test_the_trainer_on_two_ranks_equals_one_process_and_resumes_exactly(mpi, tmp_path):
    result = mpi.run_script("trainer.py", str(tmp_path), n=2)
    assert result["failures"] == []
    assert result["max_difference"] < 1e-10  # history (reduced metrics) and weights
    assert result["resume_difference"] == 0.0


def test_ember_train_under_mpiexec(mpi, tmp_path):
    import ember as em

    args = [sys.executable, "-m", "ember", "train", "--model", "mlp", "--dataset", "digits",
            "--no-progress", "--scheduler", "none", "--out", str(tmp_path)]
    done = mpi.run_mpi([*args, "--epochs", "1"], n=2, cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("test accuracy") == 1  # rank 0 alone reports
    assert "data-parallel training on 2 processes (MPI), batch size 32 per process" in done.stdout
    resumed = mpi.run_mpi([*args, "--epochs", "2", "--resume", str(tmp_path / "last.safetensors")],
                          n=2, cwd=str(tmp_path))
    assert resumed.returncode == 0, resumed.stderr
    checkpoint = em.load(tmp_path / "last.safetensors")
    assert checkpoint["epoch"] == 2 and len(checkpoint["history"]["loss"]) == 2
    assert checkpoint["meta"]["recipe"]["processes"] == 2
    assert len(checkpoint["rank_rng"]) == 2
    assert len((tmp_path / "history.csv").read_text().splitlines()) == 3  # header + 2 epochs
    # a checkpoint of a distributed run loads in one process
    assert em.models.mlp(64, (256, 128), 10).load_state_dict(checkpoint["model"]) == ([], [])


def test_ember_train_errors_end_every_rank(mpi, tmp_path):
    started = time.monotonic()
    done = mpi.run_mpi([sys.executable, "-m", "ember", "train", "--dataset", "mnist",
                        "--no-progress"], n=2, cwd=str(tmp_path), timeout=60)
    assert done.returncode != 0
    assert "ember: error: --dataset mnist needs --data-dir DIR" in done.stderr
    assert "Traceback" not in done.stderr
    assert time.monotonic() - started < 30
