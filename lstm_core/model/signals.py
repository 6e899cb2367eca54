"""Input sequences x (B, T, I) built from a seeded noise draw.

The noise is always drawn first from the run's generator (so a seed gives the same weights
whatever the signal); each signal then shapes it. `randn` is the noise itself, which makes the
seeded PyTorch snippet (manual_seed(0), randn(1, 4, 3), nn.LSTM(3, 2)) come out number for
number.
"""

from __future__ import annotations

import math

import torch

from lstm_core.model.config import RunConfig


def make_input(config: RunConfig, noise: torch.Tensor) -> torch.Tensor:
    """Shape the signal from `noise` (B, T, I), float32, drawn from the run's generator."""
    batch, steps, features = noise.shape
    if config.signal == "randn":
        return noise
    if config.signal == "csv":
        assert config.input_values is not None
        values = torch.tensor(config.input_values, dtype=torch.float32)  # (T, I)
        return values.expand(batch, steps, features).clone()
    t = torch.arange(steps, dtype=torch.float32).view(1, steps, 1)
    if config.signal == "sine":
        # The phase per (batch, feature) comes from the noise at t = 0, so it is seeded too.
        phase = noise[:, :1, :] * math.pi  # (B, 1, I)
        return torch.sin(2 * math.pi * config.frequency * t + phase) + 0.1 * noise
    if config.signal == "step":
        level = (t >= steps // 4).to(torch.float32)
        return level + 0.1 * noise
    if config.signal == "pulse":
        x = 0.1 * noise
        x[:, 0, :] = 5.0
        return x
    raise ValueError(f"unknown signal {config.signal!r}")
