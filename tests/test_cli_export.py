"""lstm_core.cli.export: `python -m lstm_core export ...` and `script`: files written, errors as one
line."""

from __future__ import annotations

import io
import subprocess
import sys

import pandas as pd
import pytest
from PIL import Image

from lstm_core import RunConfig, simulate
from lstm_core.cli.main import main
from lstm_core.io.tidy import tidy_frame
from tests.conftest import ROOT

FLAGS = ["--hidden-dim", "3", "--seq-len", "20", "--seed", "2"]


def test_export_png_at_scale(tmp_path, capsys) -> None:
    out = tmp_path / "states.png"
    assert main(["export", str(out), *FLAGS, "--scale", "2"]) == 0
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert Image.open(io.BytesIO(data)).size == (2200, 860)
    assert f"wrote {out}" in capsys.readouterr().err


@pytest.mark.parametrize(("suffix", "magic"), [("svg", b"<svg"), ("pdf", b"%PDF-")])
def test_export_vector_formats(tmp_path, suffix: str, magic: bytes) -> None:
    out = tmp_path / f"states.{suffix}"
    assert main(["export", str(out), *FLAGS]) == 0
    assert out.read_bytes().startswith(magic)


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_export_data_equals_the_tidy_frame(tmp_path, suffix: str) -> None:
    out = tmp_path / f"data.{suffix}"
    assert main(["export", str(out), *FLAGS, "--num-layers", "2"]) == 0
    expected = tidy_frame(simulate(RunConfig(hidden_dim=3, seq_len=20, seed=2, num_layers=2)))
    if suffix == "parquet":
        pd.testing.assert_frame_equal(pd.read_parquet(out), expected)
    else:
        got = pd.read_csv(out, dtype={"value": "float32"})
        assert len(got) == len(expected) == 8 * 2 * 20 * 3
        assert (got["value"].to_numpy() == expected["value"].to_numpy()).all()
        assert got["state"].tolist() == expected["state"].astype(str).tolist()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["export", "out.gif"], "must end in one of .png, .svg, .pdf, .csv, .parquet"),
        (["export", "/no/such/dir/out.png"], "is not a directory"),
        (["export", "{tmp}/x.png", "--scale", "0"], "scale must be in (0, 8]"),
        (["export", "{tmp}/x.png", "--layer", "3"], "layer must be in 0..0"),
        (["export", "{tmp}/x.png", "--hidden-dim", "0"], "hidden_dim must be between"),
    ],
)
def test_export_errors_are_one_line(tmp_path, capsys, argv: list[str], message: str) -> None:
    argv = [part.replace("{tmp}", str(tmp_path)) for part in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_script_subcommand_from_a_shell() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "lstm_core", "script", "--num-layers", "2", "--signal", "pulse"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith('"""Rebuild one LSTM State Explorer run in plain PyTorch.')
    assert "x[:, 0, :] = 5.0" in done.stdout
    assert "BATCH_SIZE, NUM_LAYERS = 1, 2  # B, L" in done.stdout
    compile(done.stdout, "reproduce.py", "exec")
