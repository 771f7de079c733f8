"""``ember explain``: the worked calculations on the command line, and one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ember.cli import main
from ember.explain import Explanation, registry


def _run(capsys, *argv) -> str:
    assert main(["explain", *argv]) == 0
    return capsys.readouterr().out


def test_conv_output(capsys):
    out = _run(capsys, "conv-output", "--width", "32", "--kernel", "5", "--padding", "2",
               "--stride", "1")
    assert "floor((32 - 5 + 2*2) / 1) + 1" in out and "Output: 32 x 32" in out
    out = _run(capsys, "conv-output", "--width", "8", "--kernel", "4", "--padding", "same")
    assert "1 before and 2 after" in out


def test_receptive_field(capsys):
    out = _run(capsys, "receptive-field", "--layers", "conv3,conv3,pool2,conv3")
    assert "Receptive field: 10 x 10" in out


def test_conv_with_negative_numbers_in_the_kernel(capsys):
    out = _run(capsys, "conv", "--input", "1 0 2; 5 4 2; 3 4 5", "--kernel",
               "-1 0 1; -1 0 1; -1 0 1", "--bias", "1")
    assert "= -1 + 0 + 2 - 5 + 0 + 2 - 3 + 0 + 5 + 1\n" in out
    assert out.rstrip().endswith("Output:\n    1")
    out = _run(capsys, "conv", "--input", "1 2; 3 4", "--kernel", "1", "--bias", "-1")
    assert "Output:\n    0  1\n    2  3" in out


def test_pool(capsys):
    out = _run(capsys, "pool", "--input", "1 3 2 1; 5 6 0 8; 3 2 1 0; 1 2 3 4", "--size", "2",
               "--stride", "2", "--mode", "max")
    assert "y[0,1] = max(2, 1, 0, 8) = 8" in out
    out = _run(capsys, "pool", "--input", "1 3; 5 6", "--mode", "avg")
    assert "= 15 / 4 = 3.75" in out


def test_params(capsys):
    out = _run(capsys, "params", "--layer", "conv", "--in-channels", "3", "--out-channels",
               "100", "--kernel", "3", "--input-size", "32", "--padding", "same")
    assert "Parameters: 2,800; MACs: 2,764,800; FLOPs: 5,427,200." in out
    out = _run(capsys, "params", "--layer", "fc", "--in-features", "400", "--out-features",
               "120", "--no-bias")
    assert "Parameters: 48,000;" in out


def test_lstm_step(capsys):
    out = _run(capsys, "lstm-step", "--x", "1", "--weight-ih", "0.5; 0.5; 0.5; 0.5",
               "--weight-hh", "0 0 0 0", "--bias-ih", "0 0 0 0")
    assert "i = sigmoid(0.5*1 + 0 + 0*0) = sigmoid(0.5) = 0.6225" in out
    assert "Result: h' = [" in out


def test_a_registered_calculation_appears_on_the_command_line(capsys, monkeypatch):
    monkeypatch.setattr(registry, "_TOPICS", dict(registry._TOPICS))

    @registry.register("double", "twice a number",
                       registry.option("--x", "x", float, "the number"))
    def double(x):
        return Explanation("Double", [f"2*{x} = {2 * x}"], 2 * x)

    assert "2*1.5 = 3.0" in _run(capsys, "double", "--x", "1.5")


def _usage_error(capsys, argv, match):
    with pytest.raises(SystemExit) as exit_info:
        main(["explain", *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("ember explain"), err
    assert match in err, err


def _one_line_error(capsys, argv, match):
    assert main(["explain", *argv]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("ember: error:"), err
    assert match in err and "Traceback" not in err, err


def test_bad_input_gives_one_line_errors(capsys):
    # caught while reading the options (exit 2)
    _usage_error(capsys, ["conv", "--input", "1 2; 3", "--kernel", "1"], "different lengths")
    _usage_error(capsys, ["conv-output", "--width", "x", "--kernel", "3"], "whole number")
    _usage_error(capsys, ["conv-output", "--kernel", "3"], "--width")
    _usage_error(capsys, ["pool", "--input", "1 2", "--mode", "min"], "invalid choice")
    _usage_error(capsys, ["nonsense"], "invalid choice")
    # caught by the calculation (exit 1)
    _one_line_error(capsys, ["conv-output", "--width", "3", "--kernel", "5"],
                    "larger than the padded input")
    _one_line_error(capsys, ["receptive-field", "--layers", "conv3,fc2"], "cannot read layer")
    _one_line_error(capsys, ["params", "--layer", "conv", "--in-channels", "3"],
                    "needs out_channels")
    _one_line_error(capsys, ["lstm-step", "--x", "1", "--weight-ih", "1 1 1",
                             "--weight-hh", "0"], "weight_ih must have")


def test_in_a_fresh_process():
    done = subprocess.run([sys.executable, "-m", "ember", "explain", "pool", "--input",
                           "1 2", "--size", "3"], capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "larger than the padded input" in done.stderr
    assert "Traceback" not in done.stderr
