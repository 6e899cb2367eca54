"""What a training run of a learned model returns: its scores, its cells and its weights."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import torch

from lstm_core.analysis.cell_finder import UnitMatch


@dataclass(frozen=True)
class TrainOutcome:
    """One finished training run (the JSON of `train --json` is `to_json()`)."""

    task: str
    seconds: float  # wall time of the training loop
    final_loss: float  # mean training loss over the last steps
    held_out: dict[str, float]  # the task's own scores on held-out data
    cells: dict[str, UnitMatch]  # each label's best unit on held-out data
    state: dict[str, torch.Tensor] = field(repr=False)  # the trained model's state_dict
    metadata: dict[str, str] = field(default_factory=dict)  # what the weights file records

    def to_json(self) -> str:
        """{"task", "seconds", "final_loss", "held_out", "cells": {label: UnitMatch dict}}."""
        return json.dumps(
            {
                "task": self.task,
                "seconds": self.seconds,
                "final_loss": self.final_loss,
                "held_out": self.held_out,
                "cells": {name: match.to_dict() for name, match in self.cells.items()},
            }
        )
