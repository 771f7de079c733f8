"""Two ``ember tune`` processes given one storage and study share one search: on SQLite,
and on a PostgreSQL server the test starts (Debian's ``postgresql`` package)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")
pytest.importorskip("sklearn")

# Runs `ember tune` with its first trial held until the other process is in a trial too,
# so that the two certainly run trials at the same time.
TOGETHER = textwrap.dedent("""
    import sys, time
    import optuna
    from ember.cli import main
    from ember.tune.objective import TrainingObjective

    real, first = TrainingObjective.__call__, [True]

    def call(self, params, trial=None):
        if first and trial is not None:
            first.clear()
            deadline = time.time() + 120
            while time.time() < deadline and len(trial.study.get_trials(
                    deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))) < 2:
                time.sleep(0.05)
        return real(self, params, trial)

    TrainingObjective.__call__ = call
    sys.exit(main(sys.argv[1:]))
""")
TRIALS = 6


def _tune_together(tmp_path: Path, storage: str) -> tuple[optuna.Study, list[str]]:
    script = tmp_path / "together.py"
    script.write_text(TOGETHER)
    common = ["tune", "--space", "lr=loguniform(1e-2,1e-1)", "--space", "width=choice(8,16)",
              "--space", "epochs=2", "--train-size", "200", "--trials", str(TRIALS),
              "--sampler", "tpe", "--pruner", "none", "--storage", storage, "--study",
              "shared", "--no-plots"]
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    processes = [subprocess.Popen([sys.executable, str(script), *common, "--out",
                                   str(tmp_path / name), *extra], env=environment,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for name, extra in (("worker", ["--search-only"]), ("main", []))]
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        outputs.append(out)
    return optuna.load_study(study_name="shared", storage=storage), outputs


def _check_shared(study: optuna.Study, outputs: list[str], tmp_path: Path) -> None:
    worker_out, main_out = outputs
    trials = study.trials
    # the search stops at TRIALS in all; two processes finishing at once may add one
    assert TRIALS <= len(trials) <= TRIALS + 1
    assert [t.number for t in trials] == list(range(len(trials)))
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    workers = {t.user_attrs["worker"] for t in trials}
    assert len(workers) == 2  # both processes ran trials of the one study
    assert "search only" in worker_out and "evaluated once on the test set" in main_out
    assert not (tmp_path / "worker" / "report.txt").exists()
    report = (tmp_path / "main" / "report.txt").read_text()
    assert f"{len(trials)} trials ({len(trials)} complete)" in report  # it saw every trial
    assert study.user_attrs["final"]["trial"] == study.best_trial.number


def test_two_processes_share_one_study_on_sqlite(tmp_path):
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    study, outputs = _tune_together(tmp_path, storage)
    _check_shared(study, outputs, tmp_path)


def _postgres_programs() -> tuple[str, str] | None:
    for folder in [os.path.dirname(shutil.which("initdb") or ""),
                   *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]:
        if folder and os.path.exists(os.path.join(folder, "pg_ctl")):
            return os.path.join(folder, "initdb"), os.path.join(folder, "pg_ctl")
    return None


@pytest.fixture(scope="module")
def postgres_url():
    """A private PostgreSQL server on a free port, with a database ``optuna``."""
    psycopg = pytest.importorskip("psycopg", reason="the PostgreSQL driver psycopg is not "
                                                    "installed (it is in the test extra)")
    programs = _postgres_programs()
    if programs is None:
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed: "
                    "apt-get install postgresql (.ci/run does this on CI)")
    initdb, pg_ctl = programs
    user = None
    if os.geteuid() == 0:  # the server refuses to run as root
        for name in ("postgres", "nobody"):
            try:
                user = pwd.getpwnam(name)
                break
            except KeyError:
                continue
        if user is None:
            pytest.skip("running as root, and there is no 'postgres' or 'nobody' user to run "
                        "the PostgreSQL server as")
    home = Path(tempfile.mkdtemp(prefix="ember-postgres-"))
    if user is not None:
        os.chown(home, user.pw_uid, user.pw_gid)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run_as = {"user": user.pw_uid, "group": user.pw_gid} if user is not None else {}
    data = home / "data"

    def run(*command):
        done = subprocess.run(command, capture_output=True, text=True, cwd=home, **run_as)
        if done.returncode != 0:
            log = home / "server.log"
            raise RuntimeError(f"{command[0]} failed: {done.stderr or done.stdout}"
                               + (log.read_text() if log.exists() else ""))

    run(initdb, "-D", str(data), "-U", "ember", "-A", "trust", "-E", "UTF8", "--no-sync")
    run(pg_ctl, "-D", str(data), "-l", str(home / "server.log"), "-w", "-t", "60", "-o",
        f"-p {port} -h 127.0.0.1 -k {home} -F", "start")
    try:
        with psycopg.connect(f"host=127.0.0.1 port={port} user=ember dbname=postgres",
                             autocommit=True) as connection:
            connection.execute("CREATE DATABASE optuna")
        yield f"postgresql+psycopg://ember@127.0.0.1:{port}/optuna"
    finally:
        subprocess.run([pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, cwd=home, **run_as)
        shutil.rmtree(home, ignore_errors=True)


def test_two_processes_share_one_study_on_postgresql(tmp_path, postgres_url):
    study, outputs = _tune_together(tmp_path, postgres_url)
    _check_shared(study, outputs, tmp_path)
    assert "postgresql+psycopg://ember@127.0.0.1" in outputs[1]
