"""lstm_core.cli.weights: `python -m lstm_core run --weights FILE ...`: the contract the acceptance
checks call."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from lstm_steps import one_thread, step_plain
from safetensors.torch import save_file
from torch import nn

from lstm_core.cli.main import main

pytestmark = pytest.mark.usefixtures(one_thread.__name__)
ROOT = Path(__file__).resolve().parents[1]


class _Tagger(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 3)
        self.lstm = nn.LSTM(3, 5, 2, batch_first=True, bidirectional=True, proj_size=2)
        self.head = nn.Linear(4, 2)


def _strict(constant: str) -> None:
    raise AssertionError(f"{constant} is not JSON")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["run", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out, parse_constant=_strict)


def _fail(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["run", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
    return captured.err


@pytest.fixture
def tagger(tmp_path: Path) -> tuple[Path, nn.LSTM]:
    torch.manual_seed(0)
    model = _Tagger()
    path = tmp_path / "tagger.pt"
    torch.save({"model": model.state_dict(), "epoch": 4}, path)
    return path, model.lstm


def test_a_bidirectional_projected_checkpoint_on_an_npy_input(
    tagger: tuple[Path, nn.LSTM], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, lstm = tagger
    x = np.random.default_rng(0).normal(size=(2, 6, 3)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    payload = _run(capsys, "--weights", str(path), "--input-npy", str(tmp_path / "x.npy"))
    config = payload["config"]
    assert config["num_directions"] == 2 and config["proj_size"] == 2
    assert config["lstm_prefix"] == "model.lstm" and config["signal"] == "npy"
    h, c = torch.tensor(payload["h"]), torch.tensor(payload["c"])
    assert h.shape == (2, 2, 2, 6, 2) and c.shape == (2, 2, 2, 6, 5)  # [L][D][B][T][H]
    h_plain, c_plain = step_plain(lstm, torch.from_numpy(x))
    torch.testing.assert_close(h, h_plain, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(c, c_plain, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(torch.tensor(payload["manual"]["h"]), h_plain, rtol=1e-5, atol=1e-5)
    assert torch.tensor(payload["manual"]["gates"]["f"]).shape == (2, 2, 2, 6, 5)
    _, (h_n, c_n) = lstm(torch.from_numpy(x))
    torch.testing.assert_close(torch.tensor(payload["h_n"]).reshape(4, 2, 2), h_n.detach())
    torch.testing.assert_close(torch.tensor(payload["c_n"]).reshape(4, 2, 5), c_n.detach())
    assert payload["max_abs_diff"]["h"] <= 1e-5 and payload["max_abs_diff"]["c"] <= 1e-5
    assert payload["metrics"]["direction"] == 0 and "regime" in payload["metrics"]


def test_seeded_noise_of_the_given_size_and_one_direction_shapes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    torch.manual_seed(1)
    lstm = nn.LSTM(4, 3, bias=False)
    save_file(lstm.state_dict(), tmp_path / "lstm.safetensors")
    weights = str(tmp_path / "lstm.safetensors")
    flags = ("--seq-len", "7", "--batch-size", "2", "--seed", "5")
    payload = _run(capsys, "--weights", weights, *flags)
    noise = torch.randn(2, 7, 4, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(torch.tensor(payload["x"]), noise)
    assert torch.tensor(payload["h"]).shape == (1, 2, 7, 3)  # [L][B][T][H]
    output, _ = lstm(noise.transpose(0, 1))
    torch.testing.assert_close(torch.tensor(payload["h"])[0], output.detach().transpose(0, 1))
    float64 = _run(capsys, "--weights", weights, *flags, "--dtype", "float64")
    assert float64["max_abs_diff"]["h"] <= 1e-12 and float64["max_abs_diff"]["c"] <= 1e-12


def test_a_c_that_never_decays_has_no_finite_half_life_and_the_json_stays_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lstm = nn.LSTM(2, 3)
    with torch.no_grad():
        for parameter in lstm.parameters():
            parameter.zero_()
        lstm.bias_ih_l0[3:6] = 40.0  # the f block: f = σ(40) = 1.0 in float32
    save_file(lstm.state_dict(), tmp_path / "latch.safetensors")
    payload = _run(capsys, "--weights", str(tmp_path / "latch.safetensors"), "--seq-len", "20")
    assert payload["metrics"]["mean_forget"] == 1.0
    assert payload["metrics"]["predicted_half_life_c"] is None  # infinite: C never halves


def test_a_csv_input(
    tagger: tuple[Path, nn.LSTM], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = tagger
    (tmp_path / "x.csv").write_text("a,b,c\n1,2,3\n4,5,6\n")
    payload = _run(capsys, "--weights", str(path), "--input-csv", str(tmp_path / "x.csv"))
    assert payload["x"] == [[[1, 2, 3], [4, 5, 6]]] and payload["config"]["signal"] == "csv"


def test_refusals_are_one_line(
    tagger: tuple[Path, nn.LSTM], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = tagger
    np.save(tmp_path / "wide.npy", np.zeros((5, 4)))
    err = _fail(capsys, "--weights", str(path), "--input-npy", str(tmp_path / "wide.npy"))
    assert "the input has 4 features per step but the LSTM reads 3" in err
    assert "contradicts the weights (5)" in _fail(
        capsys, "--weights", str(path), "--hidden-dim", "8"
    )
    two = tmp_path / "two.pt"
    torch.save(
        {
            "a.weight_ih_l0": torch.zeros(8, 1),
            "a.weight_hh_l0": torch.zeros(8, 2),
            "b.weight_ih_l0": torch.zeros(8, 1),
            "b.weight_hh_l0": torch.zeros(8, 2),
        },
        two,
    )
    assert "pick one by prefix: 'a', 'b'" in _fail(capsys, "--weights", str(two))
    assert "needs --weights" in _fail(capsys, "--input-npy", str(tmp_path / "wide.npy"))
    assert "does nothing with --weights" in _fail(
        capsys, "--weights", str(path), "--forget-bias", "1"
    )
    # Sizes are refused before any input is made, and an input float32 cannot hold is named.
    (tmp_path / "x.csv").write_text("1,2,3\n")
    for batch in ("0", "-3", "65"):
        assert "--batch-size must be between 1 and 64" in _fail(
            capsys,
            "--weights",
            str(path),
            "--input-csv",
            str(tmp_path / "x.csv"),
            "--batch-size",
            batch,
        )
    assert "--seq-len must be between 1 and 10,000" in _fail(
        capsys, "--weights", str(path), "--seq-len", "1000000000"
    )
    # A wide model's noise would be 328 M values: refused by its sizes before it is drawn.
    wide = nn.LSTM(512, 16)
    save_file(wide.state_dict(), tmp_path / "wide.safetensors")
    flags = ("--batch-size", "64", "--seq-len", "10000")
    assert "states is above the cap" in _fail(
        capsys, "--weights", str(tmp_path / "wide.safetensors"), *flags
    )
    save_file(nn.LSTM(4096, 1).state_dict(), tmp_path / "one_unit.safetensors")  # 640 k states
    assert "input values is above the cap of 25,000,000" in _fail(
        capsys, "--weights", str(tmp_path / "one_unit.safetensors"), *flags
    )
    (tmp_path / "huge.csv").write_text("1e39,2,3\n")
    assert "beyond float32's range" in _fail(
        capsys, "--weights", str(path), "--input-csv", str(tmp_path / "huge.csv")
    )


def test_a_hostile_pickle_is_refused_by_the_command_and_writes_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "payload-ran"

    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str, str]]:
            return (open, (str(marker), "w"))

    buffer = io.BytesIO()
    torch.save({"weight_ih_l0": Payload()}, buffer)
    weights = tmp_path / "evil.pt"
    weights.write_bytes(buffer.getvalue())
    done = subprocess.run(
        [sys.executable, "-m", "lstm_core", "run", "--weights", str(weights), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "unpickling it would run code" in lines[0], done.stderr
    assert not marker.exists()
