"""``ember experiment``: the list, a smoke run, and one-line errors."""

import subprocess
import sys

import pytest

from ember import experiments
from ember.cli import main


def test_list_prints_every_experiment_and_its_claim(capsys):
    assert main(["experiment", "--list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(experiments.names())
    for line, (name, claim) in zip(lines, experiments.list(), strict=True):
        assert line.startswith(name) and line.endswith(claim)


def test_a_smoke_run_prints_the_table_and_finding_and_writes_the_plot(tmp_path, capsys):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    assert main(["experiment", "sparsity", "--smoke", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "penalty" in out and ("held: " in out or "did not hold: " in out)
    assert (tmp_path / "sparsity-smoke.png").stat().st_size > 0
    assert f"plot: {tmp_path / 'sparsity-smoke.png'}" in out


def test_a_smoke_run_never_replaces_the_full_runs_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    full = tmp_path / "xor.png"
    full.write_bytes(b"the full run's plot")
    assert main(["experiment", "xor", "--smoke", "--out", str(tmp_path)]) == 0
    assert full.read_bytes() == b"the full run's plot"
    assert (tmp_path / "xor-smoke.png").exists()


@pytest.mark.parametrize("argv, match", [
    (["experiment", "nope"], "unknown experiment 'nope'"),
    (["experiment"], "give an experiment NAME"),
])
def test_bad_names_give_one_line_errors(argv, match, capsys):
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("ember: error:") and match in err, err


def test_the_command_line_shows_no_traceback():
    done = subprocess.run([sys.executable, "-m", "ember", "experiment", "nope"],
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr
    assert "loss_choice" in done.stderr  # the message lists the choices
