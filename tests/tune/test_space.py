"""ember.tune.space: specs read into Optuna distributions, grids, and clear errors."""

import pytest

optuna = pytest.importorskip("optuna")

from optuna.distributions import (  # noqa: E402
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from ember.tune.space import Space, describe, grid_values, parse_spec  # noqa: E402


@pytest.mark.parametrize("spec, expected", [
    ("uniform(0,1)", FloatDistribution(0.0, 1.0)),
    ("uniform(0, 1, 0.25)", FloatDistribution(0.0, 1.0, step=0.25)),
    ("loguniform(1e-4,1e-1)", FloatDistribution(1e-4, 1e-1, log=True)),
    ("int(1,9)", IntDistribution(1, 9)),
    ("int(0,100,10)", IntDistribution(0, 100, step=10)),
    ("logint(16,512)", IntDistribution(16, 512, log=True)),
    ("choice(32,64,128)", CategoricalDistribution([32, 64, 128])),
    ("choice(adam, sgd, 'rmsprop')", CategoricalDistribution(["adam", "sgd", "rmsprop"])),
    ("choice(0.5,true,none)", CategoricalDistribution([0.5, True, None])),
])
def test_specs_become_optuna_distributions(spec, expected):
    assert parse_spec(spec) == expected
    assert parse_spec(describe(expected)) == expected  # describe writes the spec back


def test_a_space_from_strings_or_a_dict_keeps_fixed_values_apart():
    space = Space.parse(["lr=loguniform(1e-4,1e-1)", "epochs=5", "optimizer = adam"])
    assert set(space.distributions) == {"lr"}
    assert space.fixed == {"epochs": 5, "optimizer": "adam"}
    same = Space.parse({"lr": FloatDistribution(1e-4, 1e-1, log=True), "epochs": 5,
                        "optimizer": "adam", "batch_size": [32, 64]})
    assert same.distributions["lr"] == space.distributions["lr"]
    assert same.distributions["batch_size"] == CategoricalDistribution([32, 64])
    assert Space.parse(space) is space and len(Space.parse(None)) == 0
    trial = optuna.trial.FixedTrial({"lr": 0.01})
    assert space.suggest(trial) == {"lr": 0.01, "epochs": 5, "optimizer": "adam"}
    assert "lr=loguniform(0.0001,0.1)" in repr(space)


def test_grid_values():
    assert grid_values(FloatDistribution(1e-4, 1e-1, log=True), 4) == [1e-4, 1e-3, 1e-2, 1e-1]
    assert grid_values(FloatDistribution(0.0, 1.0), 3) == [0.0, 0.5, 1.0]
    assert grid_values(IntDistribution(1, 3), 5) == [1, 2, 3]  # all of a short range
    assert grid_values(IntDistribution(0, 100, step=10), 3) == [0, 50, 100]
    assert grid_values(CategoricalDistribution(["a", "b"]), 1) == ["a", "b"]
    assert grid_values(FloatDistribution(1.0, 100.0, log=True), 1) == [10.0]
    space = Space.parse(["x=uniform(0,1)", "k=choice(1,2)", "fixed=3"])
    assert space.grid(2) == {"x": [0.0, 1.0], "k": [1, 2]}


@pytest.mark.parametrize("specs, match", [
    (["lr"], "write NAME=SPEC"),
    (["lr=loguniform(0,1)"], "needs low > 0"),
    (["lr=uniform(1,0)"], "low must be less than high"),
    (["lr=uniform(0,1,-1)"], "step must be positive"),
    (["lr=loguniform(1e-3,1,0.1)"], "takes no step"),
    (["n=int(1.5,3)"], "integer bounds"),
    (["x=gauss(0,1)"], "unknown kind 'gauss'"),
    (["x=uniform(0)"], "two numbers"),
    (["x=uniform(a,b)"], "two numbers"),
    (["x=choice()"], "at least one value"),
    (["x=choice(1,1)"], "listed twice"),
    (["x=choice(1,,2)"], "empty value"),
    (["x=1", "x=2"], "given twice"),
    (["x="], "cannot read"),
])
def test_bad_specs_name_the_problem(specs, match):
    with pytest.raises(ValueError, match=match):
        Space.parse(specs)


def test_specs_are_parsed_never_evaluated():
    with pytest.raises(ValueError, match="unknown kind '__import__'"):
        Space.parse(["x=__import__('os').system('echo hi')"])
    assert Space.parse(["x=os.system"]).fixed == {"x": "os.system"}  # a plain word
