"""``ember tune``: a whole search, its artefacts read back, the test set touched once, and
one-line errors."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest

optuna = pytest.importorskip("optuna")
pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

from ember.cli import main, recipes  # noqa: E402
from ember.tune import default_url  # noqa: E402

ARGS = ["tune", "--model", "mlp", "--dataset", "digits", "--space", "lr=loguniform(1e-2,1e-1)",
        "--space", "width=choice(16,32)", "--space", "epochs=3", "--train-size", "400",
        "--trials", "4", "--sampler", "lipo", "--seed", "1"]


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    out = tmp_path_factory.mktemp("tune")
    reads = []
    real = recipes.load_split
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(recipes, "load_split", lambda name, train, data_dir: reads.append(
            train) or real(name, train, data_dir))
        assert main([*ARGS, "--out", str(out)]) == 0
    return out, reads


def test_the_search_writes_its_study_trials_report_model_and_plots(searched):
    out, _ = searched
    for name in ("study.db", "trials.csv", "report.txt", "best.safetensors",
                 "optimization_history.png", "param_importances.png", "slice.png",
                 "contour.png", "intermediate_values.png"):
        assert (out / name).stat().st_size > 0, name
    report = (out / "report.txt").read_text()
    assert "4 trials" in report and "evaluated once on the test set" in report


def test_the_test_set_is_read_exactly_once(searched):
    _, reads = searched
    assert reads.count(False) == 1 and reads.count(True) == 1


def test_the_study_database_reads_back_as_the_trials_csv(searched):
    out, _ = searched
    study = optuna.load_study(study_name="mlp-digits", storage=default_url(out))
    with open(out / "trials.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(study.trials) == 4
    for row, trial in zip(rows, study.trials, strict=True):
        assert int(row["number"]) == trial.number and row["state"] == trial.state.name
        assert float(row["value"]) == trial.value
        assert float(row["param_lr"]) == trial.params["lr"]
        assert int(row["param_width"]) == trial.params["width"]
        assert int(row["last_step"]) == max(trial.intermediate_values)
        assert row["worker"] == trial.user_attrs["worker"]
    final = study.user_attrs["final"]
    assert final["trial"] == study.best_trial.number
    report = (out / "report.txt").read_text()
    assert f"accuracy {final['test_accuracy']:.4f}" in report


def test_the_chosen_model_evaluates_as_reported(searched, capsys):
    out, _ = searched
    study = optuna.load_study(study_name="mlp-digits", storage=default_url(out))
    capsys.readouterr()
    assert main(["evaluate", str(out / "best.safetensors")]) == 0
    printed = capsys.readouterr().out
    accuracy = float(printed.split("accuracy ")[1].split()[0])
    assert accuracy == pytest.approx(study.user_attrs["final"]["test_accuracy"], abs=1e-4)


def test_running_again_extends_the_study_and_warns_about_the_test_set(searched, capsys):
    out, _ = searched
    capsys.readouterr()
    args = [a if a != "4" else "5" for a in ARGS]
    assert main([*args, "--out", str(out), "--no-plots"]) == 0
    captured = capsys.readouterr()
    assert "trial 4:" in captured.out and "trial 3:" not in captured.out  # only the new one
    assert "5 trials" in captured.out
    assert "the test set was evaluated for this study before" in captured.err


@pytest.mark.parametrize("argv, match", [
    (["tune"], "give the hyperparameters to search"),
    (["tune", "--space", "lr"], "write NAME=SPEC"),
    (["tune", "--space", "momentum=uniform(0,1)"], "unknown hyperparameter 'momentum'"),
    (["tune", "--space", "lr=loguniform(0,1)"], "needs low > 0"),
    (["tune", "--model", "lenet5", "--space", "width=choice(8,16)"], "mlp only"),
    (["tune", "--dataset", "mnist", "--space", "lr=uniform(0.1,1)"], "needs --data-dir"),
    (["tune", "--space", "lr=uniform(0.1,1)", "--storage", "nosuchdb://x"],
     "cannot open the storage"),
])
def test_bad_input_gives_one_line_errors(argv, match, capsys, tmp_path):
    assert main([*argv, "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("ember: error:") and match in err, err


def test_the_command_line_shows_no_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "ember", "tune", "--space", "lr=gauss(0,1)",
                           "--out", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0 and "unknown kind 'gauss'" in done.stderr
