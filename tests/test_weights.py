"""Weights files (lstm_core.io.weights): a trained LSTM saved as safetensors and read back, and
every other file refused with a plain reason (more hostile files: test_hostile_files.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save

from lstm_core import RunConfig, simulate
from lstm_core.analysis.training import TrainSpec, train_pair
from lstm_core.io.weights import (
    MAX_WEIGHTS_BYTES,
    WEIGHTS_FORMAT,
    lstm_only_state,
    weights_from_bytes,
    weights_to_bytes,
)

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


def test_saving_refuses_a_state_that_is_not_the_spec(trained: dict[str, torch.Tensor]) -> None:
    with pytest.raises(ValueError, match="shape"):
        weights_to_bytes(TrainSpec(seq_len=10, hidden_dim=4), trained)
