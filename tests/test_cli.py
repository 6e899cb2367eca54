"""lstm_core.cli (main, run, common): the command line as users call it: python -m lstm_core ..."""

from __future__ import annotations

import contextlib
import io
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lstm_core import RunConfig, simulate
from lstm_core.cli.main import main
from lstm_core.io.strict_json import json_line
from lstm_core.model.config import OPENING_PRESET, PRESETS

ROOT = Path(__file__).resolve().parents[1]


def command(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m lstm_core ARGS` as a user runs it, in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "lstm_core", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The same command's code, `lstm_core.cli.main.main(ARGS)` (what `python -m lstm_core`
    calls), in this process with its output captured: no interpreter and torch start per call.
    """
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def test_run_json_matches_simulate() -> None:
    done = command(
        "run",
        "--input-dim",
        "3",
        "--hidden-dim",
        "2",
        "--seq-len",
        "4",
        "--seed",
        "0",
        "--forget-bias",
        "0",
        "--batch-size",
        "2",
        "--num-layers",
        "2",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    result = simulate(
        RunConfig(input_dim=3, hidden_dim=2, seq_len=4, forget_bias=0.0, batch_size=2, num_layers=2)
    )
    assert torch.tensor(payload["x"]).shape == (2, 4, 3)
    torch.testing.assert_close(torch.tensor(payload["h"]), result.h)
    torch.testing.assert_close(torch.tensor(payload["c"]), result.c)
    torch.testing.assert_close(torch.tensor(payload["manual"]["c"]), result.manual_c)
    assert set(payload["manual"]["gates"]) == {"i", "f", "g", "o"}
    torch.testing.assert_close(torch.tensor(payload["manual"]["gates"]["f"]), result.gates["f"])
    assert payload["max_abs_diff"]["h"] <= 1e-6 and payload["max_abs_diff"]["c"] <= 1e-6
    assert {"autocorr_h", "autocorr_c", "step_change_h", "step_change_c", "verdict"} <= set(
        payload["metrics"]
    )


def test_run_defaults_show_persistence() -> None:
    done = cli("run", "--json")
    metrics = json.loads(done.stdout)["metrics"]
    assert metrics["c_persists"] is True
    assert metrics["autocorr_c"] > metrics["autocorr_h"] + 0.1
    done = cli("run", "--preset", "PyTorch default", "--json")
    assert json.loads(done.stdout)["metrics"]["c_persists"] is False


def test_run_json_metrics_have_the_memory_times_and_the_regime() -> None:
    done = cli("run", "--hidden-dim", "64", "--seq-len", "300", "--input-dim", "2", "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    # size flags alone give the opening preset at that size
    expected = PRESETS[OPENING_PRESET].replace(hidden_dim=64, seq_len=300, input_dim=2)
    assert payload["config"] == expected.to_dict()
    metrics = payload["metrics"]
    for name in ("memory_time_h", "memory_time_c", "step_change_h", "step_change_c"):
        assert isinstance(metrics[name], float) and metrics[name] > 0
    assert metrics["regime"] == "persists" and metrics["c_persists"] is True
    assert metrics["memory_time_c"] >= metrics["memory_time_h"]
    assert metrics["step_change_h"] >= 2 * metrics["step_change_c"]
    assert metrics["fix"] is None
    assert metrics["verdict"].startswith("C persists")


def test_run_json_names_a_failing_regime_and_its_fix() -> None:
    done = cli("run", "--preset", "PyTorch default", "--seq-len", "200", "--json")
    metrics = json.loads(done.stdout)["metrics"]
    assert metrics["c_persists"] is False and metrics["regime"] == "default-init"
    assert metrics["fix"]["changes"] == {"forget_bias": 5.0, "input_scale": 2.0}


def test_run_readable_summary() -> None:
    done = cli("run", "--seq-len", "20")
    assert done.returncode == 0
    assert "max |manual - nn.LSTM|" in done.stdout and "lag-1 autocorrelation" in done.stdout
    assert "memory time (median over units, steps)" in done.stdout and "regime:" in done.stdout


def test_gates_worked_example() -> None:
    done = cli(
        "gates",
        "--c-prev",
        "0.3,0.0",
        "--f",
        "0.8,0.2",
        "--i",
        "0.6,0.4",
        "--g",
        "0.7,-0.1",
        "--o",
        "0.9,0.3",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["c"] == pytest.approx([0.66, -0.04])
    assert payload["h"] == pytest.approx([0.9 * math.tanh(0.66), 0.3 * math.tanh(-0.04)])


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["run", "--hidden-dim", "0"], "hidden_dim must be between"),
        (["run", "--seq-len", "-5"], "seq_len must be between"),
        (["run", "--seed", "abc"], "expected a whole number"),
        (["run", "--forget-bias", "lots"], "expected a number"),
        (["run", "--signal", "noise"], "invalid choice"),
        (["memory", "--hidden-dim", "128"], "the Memory lab runs up to 500 steps and 64 units"),
        (
            ["run", "--hidden-dim", "512", "--seq-len", "10000", "--batch-size", "8"],
            "above the cap",
        ),
        (
            [
                "gates",
                "--c-prev",
                "0.3",
                "--f",
                "0.8,0.2",
                "--i",
                "0.6,0.4",
                "--g",
                "0.7,-0.1",
                "--o",
                "0.9,0.3",
            ],
            "same number of units",
        ),
        (
            [
                "gates",
                "--c-prev",
                "0.3,0",
                "--f",
                "0.8,2",
                "--i",
                "0.6,0.4",
                "--g",
                "0.7,-0.1",
                "--o",
                "0.9,0.3",
            ],
            "f must lie in [0, 1]",
        ),
        (
            [
                "gates",
                "--c-prev",
                "0.3,x",
                "--f",
                "0.8,0.2",
                "--i",
                "0.6,0.4",
                "--g",
                "0.7,-0.1",
                "--o",
                "0.9,0.3",
            ],
            "expected numbers separated by commas",
        ),
    ],
)
def test_bad_values_exit_with_one_line(args: list[str], fragment: str) -> None:
    done = cli(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert fragment in lines[0]
    assert "Traceback" not in done.stderr


def test_a_bad_value_ends_the_process_with_one_line_and_status_2() -> None:
    done = command("run", "--hidden-dim", "0")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith("error: ") and "hidden_dim must be between" in done.stderr


def test_gates_takes_negative_vectors_after_a_space() -> None:
    done = cli(
        "gates",
        "--c-prev",
        "-0.3,0.1",
        "--f",
        "0.8,0.2",
        "--i",
        "0.6,0.4",
        "--g",
        "-0.7,-0.1",
        "--o",
        "0.9,0.3",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["c"] == pytest.approx([0.8 * -0.3 + 0.6 * -0.7, 0.2 * 0.1 + 0.4 * -0.1])


def test_cli_gates_reproduce_a_real_step() -> None:
    """`python -m lstm_core gates` fed a run's gates at step t gives that run's C_t and h_t."""
    config = RunConfig(input_dim=3, hidden_dim=4, seq_len=9, dtype="float64")
    result = simulate(config)
    t = 6
    vectors = {
        "--c-prev": result.c[0, 0, t - 1],
        "--f": result.gates["f"][0, 0, t],
        "--i": result.gates["i"][0, 0, t],
        "--g": result.gates["g"][0, 0, t],
        "--o": result.gates["o"][0, 0, t],
    }
    # flag=value: argparse would take a leading "-0.3,..." for an option name.
    args = [f"{flag}={','.join(map(repr, v.tolist()))}" for flag, v in vectors.items()]
    done = subprocess.run(
        [sys.executable, "-m", "lstm_core", "gates", *args, "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    torch.testing.assert_close(torch.tensor(payload["c"], dtype=torch.float64), result.c[0, 0, t])
    torch.testing.assert_close(torch.tensor(payload["h"], dtype=torch.float64), result.h[0, 0, t])


def test_json_lines_turn_what_is_not_a_number_into_null() -> None:
    value = {"a": float("nan"), "b": [1.5, float("inf"), (2, -float("inf"))], "c": "x"}
    assert json_line(value) == '{"a": null, "b": [1.5, null, [2, null]], "c": "x"}'
