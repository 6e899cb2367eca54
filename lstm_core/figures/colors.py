"""The app's colours, written once: one per unit, and one scale for signed values.

Every page and figure takes its unit colours and its diverging scale from here, so unit 3 is
the same colour everywhere and +1 is red on every heatmap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.colors import qualitative

# One colour per unit: plotly's ten, then six picked for being far (CIELAB) from every colour
# before them and of middle lightness, so that they read on a light and on a dark page.
# tests/test_colors.py checks that every two of them are clearly apart.
UNIT_COLORS: tuple[str, ...] = (
    *qualitative.Plotly,
    "#FE00CE",
    "#2E91E5",
    "#6C7C32",
    "#109618",
    "#875692",
    "#AF6458",
)
# Reference lines and marks that are not data (baselines, thresholds, a wrapped line's "↪"):
# a middle grey, which reads on a light and on a dark page.
NEUTRAL_COLOR = "#888888"
# The two states wherever they are drawn side by side as marks (bars, the cell diagram's
# paths): h red and C blue, plotly's first two colours.
STATE_COLORS: dict[str, str] = {"h": qualitative.Plotly[1], "c": qualitative.Plotly[0]}
# Signed values (h, C, the candidate g): blue for -1, white for 0, red for +1 ("RdBu_r").
# Stored as explicit stops: unvalidated figures carry the colours, not a name that only
# plotly's Python side resolves.
DIVERGING_COLORSCALE: list[list[Any]] = [
    [stop, color] for stop, color in go.Heatmap(colorscale="RdBu_r").colorscale
]
# Values in [0, 1] (the sigmoid gates).
SEQUENTIAL_COLORSCALE: list[list[Any]] = [
    [stop, color] for stop, color in go.Heatmap(colorscale="Viridis").colorscale
]


def unit_color(unit: int) -> str:
    """Unit `unit`'s colour: its own for the first len(UNIT_COLORS) units, then repeating."""
    return UNIT_COLORS[unit % len(UNIT_COLORS)]


def projected_unit_color(unit: int) -> str:
    """A projected h's unit `unit` (of P): the colours from the end, so that beside C's units
    (from the start) h's unit k does not look like C's unit k, which it is not."""
    return UNIT_COLORS[-1 - unit % len(UNIT_COLORS)]


def unit_colors(units: Sequence[int]) -> list[str]:
    """Colours for the units drawn together, every one different (up to len(UNIT_COLORS)).

    Each unit's own colour (`unit_color`) when all of them have one; otherwise (a pick among
    more units than colours) the colours in the order the units are given.
    """
    if all(0 <= unit < len(UNIT_COLORS) for unit in units):
        return [UNIT_COLORS[unit] for unit in units]
    return [UNIT_COLORS[index % len(UNIT_COLORS)] for index in range(len(units))]
