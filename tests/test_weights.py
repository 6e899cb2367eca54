"""Weights files (lstm_core.io.weights): a trained LSTM saved as safetensors and read back; every
other file refused with a plain reason, and a pickle that would run code refused without running
it (app reader, torch.load, CLI)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import ROOT
from safetensors.torch import save

from lstm_core import RunConfig, simulate
from lstm_core.analysis.training import HIDDEN_RANGE, TrainSpec, expected_shapes
from lstm_core.io.weights import (
    MAX_WEIGHTS_BYTES,
    WEIGHTS_FORMAT,
    lstm_only_state,
    weights_from_bytes,
    weights_to_bytes,
)
from lstm_core.learned.adding import train_pair

TINY = TrainSpec(seq_len=10, hidden_dim=3, steps=3, batch_size=8)


@pytest.fixture(scope="module")
def trained() -> dict[str, torch.Tensor]:
    return train_pair(TINY).lstm_state


def test_weights_round_trip_through_safetensors(trained: dict[str, torch.Tensor]) -> None:
    state, metadata = weights_from_bytes(weights_to_bytes(TINY, trained))
    assert metadata == {
        "format": WEIGHTS_FORMAT,
        "task": "adding",
        "seq_len": "10",
        "hidden_dim": "3",
        "seed": "0",
        "steps": "3",
    }
    assert set(state) == set(trained)
    for name, tensor in trained.items():
        torch.testing.assert_close(state[name], tensor, rtol=0, atol=0)


def test_the_lstm_part_runs_in_simulate(trained: dict[str, torch.Tensor]) -> None:
    lstm_state = lstm_only_state(trained)
    assert set(lstm_state) == {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"}
    result = simulate(RunConfig(input_dim=2, hidden_dim=3, seq_len=5), lstm_state)
    for name, tensor in lstm_state.items():
        torch.testing.assert_close(result.parameters[name], tensor, rtol=0, atol=0)


def test_wrong_weight_files_get_a_clear_error(
    tmp_path: Path, trained: dict[str, torch.Tensor]
) -> None:
    with pytest.raises(ValueError, match="not a safetensors"):
        weights_from_bytes(b"this is a text file, not weights")
    with pytest.raises(ValueError, match="given as bytes"):
        weights_from_bytes("a file name")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=f"over {MAX_WEIGHTS_BYTES // 1_000_000} MB"):
        weights_from_bytes(b"\x00" * (MAX_WEIGHTS_BYTES + 1))
    nan = dict(trained, **{"readout.bias": torch.tensor([float("nan")])})
    with pytest.raises(ValueError, match="NaN"):
        weights_from_bytes(save(nan))
    whole_numbers = dict(trained, **{"readout.bias": torch.tensor([1])})
    with pytest.raises(ValueError, match="float32 or float64"):
        weights_from_bytes(save(whole_numbers))
    # A pickle (torch.save) is refused, never unpickled.
    torch.save(trained, tmp_path / "model.pt")
    with pytest.raises(ValueError, match="not a safetensors"):
        weights_from_bytes((tmp_path / "model.pt").read_bytes())


def test_a_well_formed_file_of_a_size_the_lab_does_not_run_is_refused() -> None:
    # Shapes and keys agree; only the hidden size is outside the range a TrainSpec takes.
    high = HIDDEN_RANGE[1]
    shapes = expected_shapes("lstm", 2, high + 1)
    state = {name: torch.zeros(shape) for name, shape in shapes.items()}
    with pytest.raises(
        ValueError, match=f"has {high + 1} units; the adding problem runs 1 to {high}"
    ):
        weights_from_bytes(save(state))


def test_saving_refuses_a_state_that_is_not_the_spec(trained: dict[str, torch.Tensor]) -> None:
    with pytest.raises(ValueError, match="shape"):
        weights_to_bytes(TrainSpec(seq_len=10, hidden_dim=4), trained)


def _good_state(hidden: int = 4) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return {
        name: torch.randn(shape, generator=generator)
        for name, shape in expected_shapes("lstm", 2, hidden).items()
    }


def test_good_weights_round_trip() -> None:
    spec = TrainSpec(hidden_dim=4)
    state, metadata = weights_from_bytes(weights_to_bytes(spec, _good_state()))
    assert metadata["hidden_dim"] == "4"
    for name, tensor in _good_state().items():
        torch.testing.assert_close(state[name], tensor, rtol=0, atol=0)


def test_weights_with_a_wrong_shape_are_refused() -> None:
    state = _good_state()
    state["recurrent.weight_hh_l0"] = torch.zeros(16, 5)  # should be (4H, H) = (16, 4)
    with pytest.raises(ValueError, match=r"recurrent\.weight_hh_l0"):
        weights_from_bytes(save(state))


def test_weights_with_wrong_keys_are_refused() -> None:
    state = _good_state()
    state["surprise"] = state.pop("readout.bias")
    with pytest.raises(ValueError, match=r"missing \['readout\.bias'\].*unexpected \['surprise'\]"):
        weights_from_bytes(save(state))
    with pytest.raises(ValueError, match=r"no 'readout\.weight'"):
        weights_from_bytes(save({"weight": torch.zeros(2, 2)}))


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00" * 7, b"\xff" * 64, b"PK\x03\x04" + b"\x00" * 100, b"{not json" * 10],
)
def test_junk_weights_are_refused(data: bytes) -> None:
    with pytest.raises(ValueError, match="safetensors"):
        weights_from_bytes(data)


class _Payload:
    """Unpickling this calls open(marker, "w"): the file appearing means code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def _malicious_pickle(marker: Path) -> bytes:
    buffer = io.BytesIO()
    torch.save({"readout.weight": _Payload(marker)}, buffer)
    return buffer.getvalue()


def test_the_payload_really_runs_code_when_unpickled(tmp_path: Path) -> None:
    # The control: an unsafe load does run it, so the refusals below mean something.
    marker = tmp_path / "control-ran"
    torch.load(io.BytesIO(_malicious_pickle(marker)), weights_only=False)
    assert marker.exists()


def test_a_malicious_pickle_is_refused_without_running(tmp_path: Path) -> None:
    marker = tmp_path / "payload-ran"
    data = _malicious_pickle(marker)
    with pytest.raises(ValueError, match="not a safetensors weights file"):
        weights_from_bytes(data)
    with pytest.raises(Exception, match="Weights only load failed"):
        torch.load(io.BytesIO(data), weights_only=True)
    assert not marker.exists()


def test_the_cli_refuses_a_malicious_pickle_in_one_line(tmp_path: Path) -> None:
    marker = tmp_path / "payload-ran"
    weights = tmp_path / "evil.safetensors"
    weights.write_bytes(_malicious_pickle(marker))
    done = subprocess.run(
        [sys.executable, "-m", "lstm_core", "run", "--weights", str(weights)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "not a safetensors weights file" in lines[0], done.stderr
    assert not marker.exists()
