"""Pure figure builders for the gates: heatmaps, lines, saturation and the mean forget gate.

Each builder validates its inputs first and returns a plotly go.Figure; no Streamlit here.
A unit has the same colour as in every other figure, and signed values the same scale
(`lstm_core.figures.colors`). One cell update's figures are in `lstm_core.figures.updates`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lstm_core.analysis.gate_stats import SATURATION_THRESHOLDS, mean_per_unit, saturation_shares
from lstm_core.analysis.metrics import predicted_half_life
from lstm_core.figures.colors import (
    DIVERGING_COLORSCALE,
    NEUTRAL_COLOR,
    SEQUENTIAL_COLORSCALE,
    unit_color,
    unit_colors,
)
from lstm_core.figures.downsample import (
    bin_time,
    bin_widths_text,
    downsampled_note,
    heatmap_columns,
    line_indices,
)
from lstm_core.figures.states import check_view, line_mode
from lstm_core.model.cell import GATE_RANGES
from lstm_core.model.config import describe_init
from lstm_core.model.simulate import GATE_NAMES, SimulationResult

GATE_TITLES: dict[str, str] = {
    "i": "input gate i<sub>t</sub> (how much to write)",
    "f": "forget gate f<sub>t</sub> (how much to keep)",
    "g": "candidate g<sub>t</sub> = C̃<sub>t</sub> (what to write)",
    "o": "output gate o<sub>t</sub> (how much to show)",
}
# Points per line drawn at most; longer runs are downsampled (`downsample.line_indices`).
MAX_LINE_POINTS = 2000
# Units picked at most on the Gate inspector and Step through: each unit is a line in every
# gate's panel and a row of the step's table, and more lines than this per panel blur together.
MAX_GATE_UNITS = 8


def _view_title(result: SimulationResult, layer: int, batch: int) -> str:
    config = result.config
    return (
        f"input {config.input_dim}, hidden {config.hidden_dim}, {config.seq_len} steps, "
        f"seed {config.seed}, {describe_init(config)} · layer {layer}, "
        f"batch item {batch}"
    )


def gate_heatmaps(
    result: SimulationResult, layer: int = 0, batch: int = 0, max_columns: int | None = None
) -> go.Figure:
    """i, f, g, o as units × time heatmaps, one row each, sharing the time axis.

    Colour scales are fixed to the gates' ranges (`GATE_RANGES`: one for the sigmoid gates, one
    for g), so panels and runs compare at a glance. Long runs
    are averaged over consecutive time bins so that at most `max_columns` columns (default:
    `downsample.heatmap_columns`) reach the screen; the title says so.
    """
    check_view(result, layer, batch, [0])
    config = result.config
    columns = heatmap_columns(config.seq_len, config.hidden_dim)
    if max_columns is not None:
        if max_columns < 1:
            raise ValueError(f"max_columns must be at least 1, got {max_columns}")
        columns = min(columns, max_columns)
    figure = make_subplots(
        rows=4,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.05,
        subplot_titles=[GATE_TITLES[name] for name in GATE_NAMES],
    )
    bins = None
    for row, name in enumerate(GATE_NAMES, start=1):
        bins = bin_time(result.gates[name][layer, batch], columns)  # (H, n)
        figure.add_trace(
            go.Heatmap(
                z=bins.values.astype(np.float32),
                x=bins.start,
                y=np.arange(config.hidden_dim),
                coloraxis="coloraxis2" if name == "g" else "coloraxis",
                name=name,
                hovertemplate=(
                    f"{name}<sub>t</sub> · unit %{{y}} · t = %{{x}}"
                    + (" (bin mean)" if bins.binned else "")
                    + "<br>%{z:.3f}<extra></extra>"
                ),
            ),
            row=row,
            col=1,
        )
        figure.update_yaxes(title_text="unit", row=row, col=1)
    assert bins is not None
    width = bin_widths_text(result.config.seq_len, len(bins.start))
    # On a line of its own: beside a long model title it would run past a narrow chart.
    note = (
        f"each column is the mean of {width} steps ({len(bins.start)} columns)"
        if bins.binned
        else ""
    )
    figure.update_xaxes(title_text="time step t", row=4, col=1)
    figure.update_layout(
        title={
            "text": f"Gates over time: {_view_title(result, layer, batch)}",
            "subtitle": {"text": note},
        },
        title_font_size=13,
        height=880,
        margin={"l": 60, "r": 20, "t": 80, "b": 50},
        coloraxis={
            "colorscale": SEQUENTIAL_COLORSCALE,
            "cmin": GATE_RANGES["f"][0],
            "cmax": GATE_RANGES["f"][1],
            "colorbar": {"title": {"text": "i, f, o"}, "len": 0.45, "y": 0.78},
        },
        coloraxis2={
            "colorscale": DIVERGING_COLORSCALE,
            "cmin": GATE_RANGES["g"][0],
            "cmax": GATE_RANGES["g"][1],
            "colorbar": {"title": {"text": "g"}, "len": 0.2, "y": 0.37},
        },
    )
    return figure


def gate_lines(
    result: SimulationResult,
    layer: int = 0,
    batch: int = 0,
    units: Sequence[int] | None = None,
    max_points: int = MAX_LINE_POINTS,
) -> go.Figure:
    """i, f, g, o over time for picked units: one row per gate, one colour per unit.

    Runs longer than `max_points` steps are downsampled with `line_indices` (MinMaxLTTB, each
    line's minimum and maximum kept), so peaks stay visible; the title says so.
    """
    chosen = check_view(result, layer, batch, units)
    if max_points < 3:
        raise ValueError(f"max_points must be at least 3, got {max_points}")
    figure = make_subplots(
        rows=4,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.05,
        subplot_titles=[GATE_TITLES[name] for name in GATE_NAMES],
    )
    for row, name in enumerate(GATE_NAMES, start=1):
        gate = result.gates[name][layer, batch].double().numpy()  # (T, H)
        for unit, color in zip(chosen, unit_colors(chosen), strict=True):
            steps = line_indices(gate[:, unit], max_points)
            figure.add_trace(
                go.Scatter(
                    x=steps,
                    y=gate[steps, unit],
                    mode=line_mode(gate.shape[0]),
                    name=f"unit {unit}",
                    legendgroup=f"unit {unit}",
                    showlegend=row == 1,
                    line={"color": color, "width": 1.4},
                    hovertemplate=f"unit {unit} · t = %{{x}}<br>{name} = %{{y:.3f}}<extra></extra>",
                ),
                row=row,
                col=1,
            )
        low, high = GATE_RANGES[name]
        figure.update_yaxes(range=[low - 0.03, high + 0.03], title_text=name, row=row, col=1)
    note = downsampled_note(result.config.seq_len, max_points)
    figure.update_xaxes(title_text="time step t", row=4, col=1)
    figure.update_layout(
        title={
            "text": f"Gates of picked units: {_view_title(result, layer, batch)}",
            "subtitle": {"text": note},
        },
        title_font_size=13,
        height=760,
        margin={"l": 60, "r": 20, "t": 80, "b": 50},
        legend={"title": {"text": "unit"}},
    )
    return figure


def saturation_figure(result: SimulationResult, layer: int = 0, batch: int = 0) -> go.Figure:
    """Left- vs right-saturation per unit for each gate (Karpathy et al. 2015, figure 3 style).

    x: share of steps below the left threshold (0.1; -0.9 for g), y: share above the right one
    (0.9). A point on the diagonal x + y = 1 is always saturated; near (0, 0) never.
    """
    check_view(result, layer, batch, [0])
    hidden = result.config.hidden_dim
    figure = make_subplots(
        rows=1,
        cols=4,
        shared_yaxes=True,
        horizontal_spacing=0.03,
        subplot_titles=[
            f"{name}: &lt; {SATURATION_THRESHOLDS[name][0]:g} vs &gt; "
            f"{SATURATION_THRESHOLDS[name][1]:g}"
            for name in GATE_NAMES
        ],
    )
    units = np.arange(hidden)
    colors = [unit_color(int(u)) for u in units]
    for col, name in enumerate(GATE_NAMES, start=1):
        left, right = saturation_shares(
            result.gates[name][layer, batch], *SATURATION_THRESHOLDS[name]
        )
        figure.add_trace(
            go.Scatter(
                x=[0, 1],
                y=[1, 0],
                mode="lines",
                showlegend=False,
                hoverinfo="skip",
                line={"color": NEUTRAL_COLOR, "dash": "dot", "width": 1},
            ),
            row=1,
            col=col,
        )
        figure.add_trace(
            go.Scatter(
                x=left,
                y=right,
                mode="markers",
                name=name,
                showlegend=False,
                customdata=units,
                marker={"color": colors, "size": 8 if hidden <= 64 else 5, "opacity": 0.8},
                hovertemplate=(
                    f"{name} · unit %{{customdata}}<br>left-saturated %{{x:.0%}} of steps"
                    "<br>right-saturated %{y:.0%}<extra></extra>"
                ),
            ),
            row=1,
            col=col,
        )
        figure.update_xaxes(range=[-0.03, 1.03], title_text="left-saturated", row=1, col=col)
    figure.update_yaxes(range=[-0.03, 1.03], title_text="right-saturated", row=1, col=1)
    figure.update_layout(
        title={"text": f"Gate saturation per unit: {_view_title(result, layer, batch)}"},
        title_font_size=13,
        height=340,
        margin={"l": 60, "r": 20, "t": 80, "b": 50},
    )
    return figure


def forget_mean_figure(result: SimulationResult, layer: int = 0, batch: int = 0) -> go.Figure:
    """Mean forget gate f̄ per unit as bars; hover gives C's half-life ln 0.5 / ln f̄."""
    check_view(result, layer, batch, [0])
    means = mean_per_unit(result.gates["f"][layer, batch])  # (H,)
    units = np.arange(means.size)
    lives = [predicted_half_life(float(mean)) for mean in means]
    half_life = ["never (f̄ = 1)" if math.isinf(life) else f"≈ {life:.1f} steps" for life in lives]
    figure = go.Figure(
        go.Bar(
            x=units,
            y=means,
            marker_color=[unit_color(int(u)) for u in units],
            customdata=half_life,
            hovertemplate=(
                "unit %{x}<br>mean f = %{y:.3f}<br>half-life of C: %{customdata}<extra></extra>"
            ),
        )
    )
    figure.add_hline(
        y=0.5,
        line={"dash": "dot", "color": NEUTRAL_COLOR},
        # In the right margin: inside the plot, a forget bias's bars near 1 ran over it.
        annotation_text="σ(0) = 0.5:<br>C halves<br>every step",
        annotation_position="right",
        annotation_align="left",
    )
    figure.update_layout(
        title={"text": f"Mean forget gate per unit: {_view_title(result, layer, batch)}"},
        title_font_size=13,
        xaxis_title="unit",
        yaxis={"title": "mean f<sub>t</sub> over time", "range": [0, 1.05]},
        height=320,
        margin={"l": 60, "r": 100, "t": 60, "b": 40},
    )
    return figure
