"""ember.experiments: the registry."""

from pathlib import Path

import pytest

from ember import experiments
from ember.experiments.common import Result, first_epoch, format_table, verdict


def test_names_and_list_cover_every_experiment_module():
    names = experiments.names()
    assert names[:10] == ["loss_choice", "optimizers", "batch_size", "vanishing_gradients",
                          "initialization", "dying_relu", "overfitting", "sparsity",
                          "batch_norm", "xor"]
    modules = {path.stem for path in Path(experiments.__file__).parent.glob("*.py")}
    assert set(names) == modules - {"__init__", "common"}  # every module is registered
    listing = experiments.list()
    assert [name for name, _ in listing] == names
    for name, claim in listing:
        module = experiments.get(name)
        assert module.NAME == name and claim == module.CLAIM
        assert set(module.SIZES) == {"full", "smoke"}
        assert experiments.describe(name)


def test_unknown_names_and_sizes_are_refused_with_the_choices():
    with pytest.raises(ValueError, match="unknown experiment 'nope'.*loss_choice"):
        experiments.get("nope")
    with pytest.raises(ValueError, match="size must be 'full' or 'smoke'"):
        experiments.run("xor", size="huge")
    assert experiments.get("dying-relu") is experiments.get("dying_relu")


def test_result_numbers_drop_only_wall_clock_columns():
    result = Result("x", "c", [{"a": 1.0, "time (s)": 0.3}], verdict(False, "no"), False, None)
    assert result.numbers() == [{"a": 1.0}]
    assert result.finding == "did not hold: no"
    assert format_table(result.table).splitlines()[0].split() == ["a", "time", "(s)"]
    assert first_epoch([0.2, 0.1, 0.05], 0.1, above=False) == 2
    assert first_epoch([0.2, 0.1], 0.9) is None
