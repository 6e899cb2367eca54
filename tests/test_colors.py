"""One unit palette and one diverging scale (lstm_core.figures.colors), used by every figure."""

from __future__ import annotations

import itertools

import numpy as np
from plotly.colors import hex_to_rgb

from lstm_core import RunConfig, simulate
from lstm_core.figures.colors import DIVERGING_COLORSCALE, UNIT_COLORS, unit_color, unit_colors
from lstm_core.figures.gates import gate_heatmaps, gate_lines
from lstm_core.figures.states import MAX_LINE_UNITS, state_figure, state_heatmap


def _lab(color: str) -> np.ndarray:
    """CIELAB of an sRGB hex colour (D65)."""
    rgb = np.array(hex_to_rgb(color)) / 255
    rgb = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = (
        np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
        @ rgb
        / np.array([0.95047, 1.0, 1.08883])
    )
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_every_line_of_a_figure_gets_a_clearly_different_colour() -> None:
    assert len(UNIT_COLORS) >= MAX_LINE_UNITS
    distances = [
        float(np.linalg.norm(_lab(a) - _lab(b))) for a, b in itertools.combinations(UNIT_COLORS, 2)
    ]
    assert min(distances) > 20  # CIE76 ΔE: plotly's own ten are 21.8 apart at the closest
    # 16 units: 3 / 13 and 4 / 10 shared a colour once.
    assert len(set(unit_colors(range(16)))) == 16
    # A pick among more units than colours: still one colour each.
    assert len(set(unit_colors([3, 19, 35, 500]))) == 4
    assert unit_colors([2, 5]) == [unit_color(2), unit_color(5)]


def test_signed_values_share_one_scale_on_every_heatmap() -> None:
    result = simulate(RunConfig(hidden_dim=4, seq_len=20))
    assert DIVERGING_COLORSCALE[-1][1] == "rgb(103,0,31)"  # +1 is red
    heatmap = state_heatmap(result)
    for trace in heatmap.data:
        assert [list(stop) for stop in trace.colorscale] == DIVERGING_COLORSCALE
    gates = gate_heatmaps(result)
    assert [list(stop) for stop in gates.layout.coloraxis2.colorscale] == DIVERGING_COLORSCALE
    lines = state_figure(result)
    assert [t.line.color for t in lines.data[::2]] == unit_colors(range(4))
    assert [t.line.color for t in gate_lines(result, units=[0, 3]).data[:2]] == unit_colors([0, 3])
