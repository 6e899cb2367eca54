"""Shared test helpers."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
# A cold first run of a page takes ~2 s here; CI machines are shared and noisy.
APPTEST_TIMEOUT = 60


def chart_specs(at: Any) -> list[dict[str, Any]]:
    """The plotly figures an AppTest run drew, as JSON dicts."""
    return [json.loads(element.proto.spec) for element in at.get("plotly_chart")]


def decode(values: Any) -> np.ndarray:
    """A plotly array from a chart spec: a list, or {"dtype", "bdata"} base64."""
    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), values["dtype"])
    return np.asarray(values)
