"""lstm_core.io.reproduce: the reproduce script, run in a fresh interpreter, prints what `run
--json` gives."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest
import torch

from lstm_core import RunConfig, simulate
from lstm_core.cli.main import main
from lstm_core.io.reproduce import reproduce_script, script_filename

# (CLI flags, the same run as a RunConfig)
CASES = [
    ([], RunConfig()),
    (
        ["--num-layers", "2", "--batch-size", "3", "--dtype", "float64", "--hidden-dim", "5"],
        RunConfig(num_layers=2, batch_size=3, dtype="float64", hidden_dim=5),
    ),
    (
        ["--signal", "sine", "--frequency", "0.125", "--seed", "11", "--seq-len", "60"],
        RunConfig(signal="sine", frequency=0.125, seed=11, seq_len=60),
    ),
    (
        ["--chrono-t-max", "40", "--signal", "pulse", "--num-layers", "3", "--seq-len", "50"],
        RunConfig(chrono_t_max=40.0, signal="pulse", num_layers=3, seq_len=50),
    ),
    (
        ["--signal", "step", "--forget-bias", "-1.5", "--batch-size", "2", "--dtype", "float64"],
        RunConfig(signal="step", forget_bias=-1.5, batch_size=2, dtype="float64"),
    ),
    (
        ["--input-scale", "0", "--hidden-dim", "16", "--input-dim", "3"],
        RunConfig(input_scale=0.0, hidden_dim=16, input_dim=3),
    ),
    (
        ["--input-scale", "3.5", "--hidden-dim", "32", "--input-dim", "5", "--num-layers", "2"],
        RunConfig(input_scale=3.5, hidden_dim=32, input_dim=5, num_layers=2),
    ),
]


def _run_script(source: str, tmp_path) -> dict:
    path = tmp_path / "reproduce.py"
    path.write_text(source)
    # Run outside the repository so it cannot import lstm_core by accident.
    done = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cli_json(flags: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    """What `python -m lstm_core run --json FLAGS` prints (its main(), run in this process)."""
    capsys.readouterr()
    assert main(["run", "--json", *flags]) == 0
    return json.loads(capsys.readouterr().out)


def test_script_imports_only_torch_and_the_standard_library() -> None:
    source = reproduce_script(RunConfig(chrono_t_max=10.0, signal="sine"))
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported <= {"torch", "json", "math"}
    assert "lstm_core" not in source


@pytest.mark.parametrize(
    ("flags", "config"), CASES, ids=[" ".join(flags) or "defaults" for flags, _ in CASES]
)
def test_script_prints_the_apps_final_states(
    flags, config: RunConfig, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = _run_script(reproduce_script(config), tmp_path)
    app = _cli_json(flags, capsys)
    assert app["config"] == config.to_dict()  # the flags and the RunConfig are the same run
    dtype = torch.float64 if config.dtype == "float64" else torch.float32
    for name in ("h_n", "c_n"):
        got = torch.tensor(script[name], dtype=dtype)  # (L, B, H)
        expected = torch.tensor(app[name], dtype=dtype)
        assert got.shape == (config.num_layers, config.batch_size, config.hidden_dim)
        # Same draws, same kernel: equal to the last bit.
        torch.testing.assert_close(got, expected, rtol=0, atol=0)


def test_script_with_csv_input_embeds_the_values(tmp_path) -> None:
    rows = ((0.5, -1.0), (2.0, 0.25), (1e-3, 3.5), (-0.75, 0.0))
    config = RunConfig(
        signal="csv", input_dim=2, seq_len=4, batch_size=2, input_values=rows, seed=2
    )
    script = _run_script(reproduce_script(config), tmp_path)
    result = simulate(config)
    torch.testing.assert_close(torch.tensor(script["h_n"]), result.h_n, rtol=0, atol=0)
    torch.testing.assert_close(torch.tensor(script["c_n"]), result.c_n, rtol=0, atol=0)


def test_cli_script_prints_the_same_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["script", "--seed", "4", "--hidden-dim", "6"]) == 0
    assert capsys.readouterr().out == reproduce_script(RunConfig(seed=4, hidden_dim=6))
    assert script_filename(RunConfig(seed=4)) == "reproduce_I4_H8_T100_seed4.py"
