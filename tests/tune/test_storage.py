"""Storages by URL, and studies written to them read back whole."""

import pytest

optuna = pytest.importorskip("optuna")

from optuna.trial import TrialState  # noqa: E402

from ember.tune import LIPOSampler, default_url, open_storage, search  # noqa: E402
from ember.tune.storage import safe_url  # noqa: E402


def _study_with_everything(storage, name="everything"):
    """A study whose trials hold every kind of parameter, intermediate values, attributes
    (the LIPO sampler's system attributes among them) and each state."""
    def objective(params, trial):
        trial.set_user_attr("note", {"width": params["width"]})
        for step in (1, 2):
            trial.report(params["lr"] * step, step)
        if params["optimizer"] == "sgd" and trial.number % 3 == 2:
            raise optuna.TrialPruned()
        return params["lr"] + params["width"] / 100 + params["dropout"]

    return search(objective, ["lr=loguniform(1e-4,1e-1)", "width=int(8,64,8)",
                              "dropout=uniform(0,0.5,0.1)", "optimizer=choice(adam,sgd)"],
                  sampler=LIPOSampler(seed=0), n_trials=6, storage=storage, study_name=name,
                  pruner="none")


def _same(a, b):
    keys = ("number", "state", "values", "params", "distributions", "intermediate_values",
            "user_attrs", "system_attrs", "datetime_start", "datetime_complete")
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        for key in keys:
            assert getattr(x, key) == getattr(y, key), (x.number, key)


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_a_stored_study_reads_back_whole(tmp_path, kind):
    url = {"sqlite": f"sqlite:///{tmp_path / 'a' / 'study.db'}",
           "journal": f"journal:{tmp_path / 'c' / 'study.log'}"}[kind]
    written = _study_with_everything(url)
    states = {t.state for t in written.trials}
    assert TrialState.COMPLETE in states
    assert any("lipo:step" in t.system_attrs for t in written.trials)
    read = optuna.load_study(study_name="everything", storage=open_storage(url))
    _same(written.trials, read.trials)
    assert read.best_trial.number == written.best_trial.number
    assert read.direction == written.direction


def test_urls_and_their_errors(tmp_path):
    assert type(open_storage(None)).__name__ == "InMemoryStorage"
    storage = optuna.storages.InMemoryStorage()
    assert open_storage(storage) is storage
    assert default_url(tmp_path) == f"sqlite:///{tmp_path.resolve() / 'study.db'}"
    path = open_storage(tmp_path / "folder" / "b.db", heartbeat=False)  # a path: SQLite
    assert path.url == f"sqlite:///{tmp_path / 'folder' / 'b.db'}"
    with pytest.raises(ValueError, match="cannot open the storage nosuchdb://"):
        open_storage("nosuchdb://x/y")
    with pytest.raises(ImportError, match="pip install PyMySQL"):
        open_storage("mysql+pymysql://ember:secret@127.0.0.1:1/db")
    with pytest.raises(ValueError, match=r"postgresql://ember:\*\*\*@127.0.0.1:1/db") as error:
        open_storage("postgresql://ember:secret@127.0.0.1:1/db")  # nothing listens there
    assert "secret" not in str(error.value)
    assert safe_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
