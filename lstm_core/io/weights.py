"""Weights files of a trained adding-problem LSTM: safetensors bytes in and out.

A file holds the state_dict of an LSTM SequenceRegressor (lstm_core.analysis.training) and its
TrainSpec as string metadata. Nothing is unpickled: safetensors is plain tensors and JSON, and
everything read is checked (size, keys, shapes, dtype, finite values) before it is used.
"""

from __future__ import annotations

import torch

from lstm_core.analysis.training import HIDDEN_RANGE, TrainSpec, check_lstm_state
from lstm_core.learned.charmodel import read_safetensors

# Uploaded weight files above this size are refused before parsing.
MAX_WEIGHTS_BYTES = 50_000_000
# The metadata "format" of every file this module writes.
WEIGHTS_FORMAT = "lstm-state-explorer/adding-lstm"


def weights_to_bytes(spec: TrainSpec, state: dict[str, torch.Tensor]) -> bytes:
    """A trained LSTM SequenceRegressor as safetensors bytes, with its spec as metadata."""
    from safetensors.torch import save

    check_lstm_state(state, spec.hidden_dim)
    metadata = {
        "format": WEIGHTS_FORMAT,
        "task": spec.task,
        "seq_len": str(spec.seq_len),
        "hidden_dim": str(spec.hidden_dim),
        "seed": str(spec.seed),
        "steps": str(spec.steps),
    }
    return save({k: v.contiguous() for k, v in state.items()}, metadata=metadata)


def weights_from_bytes(data: bytes) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Parse safetensors bytes of a trained LSTM SequenceRegressor: (state_dict, metadata).

    Nothing is unpickled. Raises ValueError with a plain reason for anything else: not a
    safetensors file, too large, missing or extra tensors, wrong shapes, non-finite values.
    """
    state, metadata = read_safetensors(data, MAX_WEIGHTS_BYTES)
    hidden = state.get("readout.weight")
    if hidden is None or hidden.dim() != 2:
        raise ValueError(
            "this safetensors file holds no trained adding-problem LSTM "
            "(no 'readout.weight' tensor); save one from the Memory lab"
        )
    low, high = HIDDEN_RANGE
    if not low <= hidden.shape[1] <= high:
        raise ValueError(
            f"its LSTM has {hidden.shape[1]} units; the adding problem runs {low} to {high}"
        )
    check_lstm_state(state, int(hidden.shape[1]))
    return state, metadata


def lstm_only_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The nn.LSTM part of a SequenceRegressor state_dict, keys as `simulate` expects them."""
    prefix = "recurrent."
    return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
