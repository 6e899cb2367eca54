"""What a training run of a learned model returns: its scores, its cells and its weights.

Shared by every task of `train --task`, the code model included."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from safetensors.torch import save

from lstm_core.analysis.cell_finder import UnitMatch


def trained_seed(metadata: dict[str, str]) -> int:
    """The seed a weights file records (its held-out data is drawn with it); the trainer's
    default, 0, when the file records none."""
    return int(metadata.get("seed", "0"))


def task_model_words(metadata: dict[str, str]) -> str:
    """How a task model's weights file was trained, from its metadata: "seed 3, 16 units,
    200 steps"."""
    words = [f"seed {trained_seed(metadata)}"]
    if "hidden_dim" in metadata:
        words.append(f"{int(metadata['hidden_dim'])} units")
    if "steps" in metadata:
        words.append(f"{int(metadata['steps']):,} steps")
    return ", ".join(words)


def weights_file_name(metadata: dict[str, str]) -> str:
    """The file name a task model's weights are saved under, from its metadata:
    "brackets_H16_T64_seed3_steps200.safetensors"."""
    parts = [metadata.get("task", "task")]
    for key, tag in (("hidden_dim", "H"), ("seq_len", "T"), ("seed", "seed"), ("steps", "steps")):
        if key in metadata:
            parts.append(f"{tag}{metadata[key]}")
    return "_".join(parts) + ".safetensors"


@dataclass(frozen=True)
class TrainOutcome:
    """A trained task model, its scores and its cells: what `train --json` prints, and the
    weights to save. Shared by every task, the code model included."""

    task: str
    seconds: float  # wall time of the training
    final_loss: float  # the training loss of the last step
    held_out: dict[str, float]  # the task's own score on held-out data, and its baseline
    cells: dict[str, UnitMatch]  # per label, the unit whose C follows it best (held-out data)
    state: dict[str, torch.Tensor]  # the model's state_dict
    metadata: dict[str, str]  # written into the safetensors file

    def to_json(self) -> dict[str, Any]:
        """{"task", "seconds", "final_loss", "held_out", "cells": {label: {"unit", "r_c",
        "r_h", "best_h_unit", "best_r_h"}}}; a non-finite number becomes null."""
        return {
            "task": self.task,
            "seconds": _finite(self.seconds),
            "final_loss": _finite(self.final_loss),
            "held_out": {name: _finite(value) for name, value in self.held_out.items()},
            "cells": {
                label: {k: _finite(v) for k, v in match.to_dict().items()}
                for label, match in self.cells.items()
            },
        }

    def to_bytes(self) -> bytes:
        """The weights as a safetensors file, with `metadata`."""
        return save({k: v.contiguous() for k, v in self.state.items()}, metadata=self.metadata)


def _finite(value: float | int) -> float | int | None:
    return value if math.isfinite(value) else None
