"""The Explorer's figures for a Trace (lstm_core.trace): one layer and direction at a time.

An adapter, not a second set of builders: `trace_view` presents one direction of a Trace as
the (L, B, T, H) run the builders in lstm_core.figures.states / .gates read, and each figure
here calls that builder, then names the model and the direction in the titles (a traced
model has no seed or init to describe). With a projection, h is P wide and no longer
o ⊙ tanh(C) unit by unit, so the h panels draw o ⊙ tanh(C) (H wide, the value the per-unit
equations and hovers describe) and say it is h before the projection W_hr.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from lstm_core.analysis.cell_finder import unit_r
from lstm_core.figures.colors import (
    NEUTRAL_COLOR,
    STATE_COLORS,
    projected_unit_color,
    unit_color,
)
from lstm_core.figures.gates import gate_heatmaps, gate_lines
from lstm_core.figures.states import MAX_LINE_UNITS, line_mode, state_figure, state_heatmap
from lstm_core.learned.charmodel import quoted_char
from lstm_core.model.config import describe_init
from lstm_core.model.trace import DIRECTION_NAMES, FILE_MODEL_TITLE, Trace


@dataclass(frozen=True)
class _ViewConfig:
    """The RunConfig fields the figure builders read, for a traced model."""

    input_dim: int
    hidden_dim: int
    seq_len: int
    batch_size: int
    num_layers: int
    seed: int = 0
    forget_bias: float = 0.0
    chrono_t_max: float = 0.0


@dataclass(frozen=True)
class TraceView:
    """One direction of a Trace in SimulationResult's layout: (L, B, T, H) tensors."""

    config: _ViewConfig
    h: torch.Tensor  # (L, B, T, H) h, or o ⊙ tanh(C) with a projection
    c: torch.Tensor  # (L, B, T, H)
    gates: dict[str, torch.Tensor]  # (L, B, T, H) each
    # The reverse direction reads the sequence backwards: its C_{t-1} is the state at t + 1.
    reverse: bool = False
    c_0: torch.Tensor | None = None  # (L, B, H) the C this direction starts from; None: zeros


def trace_view(trace: Trace, direction: int = 0) -> TraceView:
    """Direction `direction` (0 forward, 1 reverse) of `trace`, as the builders read a run."""
    if not 0 <= direction < trace.num_directions:
        raise ValueError(f"direction must be in 0..{trace.num_directions - 1}, got {direction}")
    config = _ViewConfig(
        input_dim=trace.input_size,
        hidden_dim=trace.hidden_size,
        seq_len=trace.seq_len,
        batch_size=trace.batch_size,
        num_layers=trace.num_layers,
    )
    h = trace.unprojected_h if trace.proj_size else trace.h
    return TraceView(
        config=config,
        h=h[:, direction],
        c=trace.c[:, direction],
        gates={name: gate[:, direction] for name, gate in trace.gates.items()},
        reverse=direction == 1,
        c_0=None if trace.c_0 is None else trace.c_0[:, direction],
    )


_PROJECTED_TEXT: dict[str, str] = {
    "Hidden state h<sub>t</sub> = o<sub>t</sub> ⊙ tanh(C<sub>t</sub>): the output": (
        "o<sub>t</sub> ⊙ tanh(C<sub>t</sub>): h<sub>t</sub> before its projection W<sub>hr</sub>"
    ),
    "Hidden state h<sub>t</sub>, every unit": "o<sub>t</sub> ⊙ tanh(C<sub>t</sub>), every unit",
    "h<sub>t</sub>": "o<sub>t</sub> ⊙ tanh(C<sub>t</sub>)",
}


def _retitle(
    figure: go.Figure, trace: Trace, layer: int, direction: int, model_title: str
) -> go.Figure:
    """Name the traced model and the direction where the builder named a seed and an init."""
    # What the seeded builders write of a run's seed and init, as they write it of a view's
    # placeholder config: that clause is the one replaced by the model's own.
    placeholder = _ViewConfig(0, 0, 0, 0, 0)
    seeded = f", seed {placeholder.seed}, {describe_init(placeholder)}"  # type: ignore[arg-type]
    model = f", {trace.num_layers} layer{'s' if trace.num_layers > 1 else ''}"
    if trace.proj_size:
        model += f", h projected to {trace.proj_size}"
    title = (figure.layout.title.text or "").replace(seeded, model)
    if title.startswith("LSTM states:"):
        title = title.replace("LSTM states:", f"{model_title}:", 1)
    elif title:
        title = f"{model_title} · {title}"
    if trace.num_directions == 2:
        title = title.replace(
            f"layer {layer},", f"layer {layer}, {DIRECTION_NAMES[direction]} direction,"
        )
    figure.layout.title.text = title
    if trace.proj_size:
        for annotation in figure.layout.annotations:
            annotation.text = _PROJECTED_TEXT.get(annotation.text, annotation.text)
        for axis in ("yaxis", "yaxis2"):
            if axis in figure.layout and figure.layout[axis].title.text in _PROJECTED_TEXT:
                figure.layout[axis].title.text = _PROJECTED_TEXT[figure.layout[axis].title.text]
    return figure


def states_figure(
    trace: Trace,
    layer: int = 0,
    direction: int = 0,
    batch: int = 0,
    units: Sequence[int] | None = None,
    window: tuple[int, int] | None = None,
    model_title: str = FILE_MODEL_TITLE,
) -> go.Figure:
    """The Explorer's h_t | C_t figure (states.state_figure) for one layer and direction;
    `model_title` names the model in the title."""
    figure = state_figure(trace_view(trace, direction), layer, batch, units, window=window)  # type: ignore[arg-type]
    return _retitle(figure, trace, layer, direction, model_title)


def states_heatmap(
    trace: Trace,
    layer: int = 0,
    direction: int = 0,
    batch: int = 0,
    model_title: str = FILE_MODEL_TITLE,
) -> go.Figure:
    """Every unit's h and C as units × time heatmaps (states.state_heatmap)."""
    figure = state_heatmap(trace_view(trace, direction), layer, batch)  # type: ignore[arg-type]
    return _retitle(figure, trace, layer, direction, model_title)


def gates_figure(
    trace: Trace,
    layer: int = 0,
    direction: int = 0,
    batch: int = 0,
    model_title: str = FILE_MODEL_TITLE,
) -> go.Figure:
    """i, f, g, o as units × time heatmaps (gates.gate_heatmaps), the Gate inspector's view."""
    figure = gate_heatmaps(trace_view(trace, direction), layer, batch)  # type: ignore[arg-type]
    return _retitle(figure, trace, layer, direction, model_title)


def gate_lines_figure(
    trace: Trace,
    layer: int = 0,
    direction: int = 0,
    batch: int = 0,
    units: Sequence[int] | None = None,
    model_title: str = FILE_MODEL_TITLE,
) -> go.Figure:
    """i, f, g, o over time for some units (gates.gate_lines)."""
    figure = gate_lines(trace_view(trace, direction), layer, batch, units)  # type: ignore[arg-type]
    return _retitle(figure, trace, layer, direction, model_title)


def projected_states_figure(
    trace: Trace,
    layer: int = 0,
    direction: int = 0,
    batch: int = 0,
    h_units: Sequence[int] | None = None,
    c_units: Sequence[int] | None = None,
    model_title: str = FILE_MODEL_TITLE,
) -> go.Figure:
    """h (its P projected units) beside C (its H cell units) for a projected LSTM: the two
    states have different widths, so each panel picks its own units (default: all, up to
    MAX_LINE_UNITS)."""
    if not trace.proj_size:
        raise ValueError("projected_states_figure draws an LSTM with proj_size > 0")
    trace_view(trace, direction)  # validates the direction
    if not 0 <= layer < trace.num_layers or not 0 <= batch < trace.batch_size:
        raise ValueError(f"layer {layer} or batch item {batch} is not in this trace")
    h = trace.h[layer, direction, batch].numpy()  # (T, P)
    c = trace.c[layer, direction, batch].numpy()  # (T, H)
    h_units = list(range(min(trace.proj_size, MAX_LINE_UNITS))) if h_units is None else h_units
    c_units = list(range(min(trace.hidden_size, MAX_LINE_UNITS))) if c_units is None else c_units
    for name, units, width in (("h", h_units, trace.proj_size), ("C", c_units, trace.hidden_size)):
        if not units or not all(0 <= unit < width for unit in units):
            raise ValueError(f"{name} units must be in 0..{width - 1}, got {list(units)}")
    figure = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(
            f"Hidden state h<sub>t</sub> = W<sub>hr</sub>(o<sub>t</sub> ⊙ tanh C<sub>t</sub>): "
            f"{trace.proj_size} units",
            f"Cell state C<sub>t</sub>: {trace.hidden_size} units",
        ),
        horizontal_spacing=0.08,
    )
    steps = np.arange(trace.seq_len)
    panels = (("h", h, h_units, projected_unit_color, "dot"), ("C", c, c_units, unit_color, None))
    for column, (name, values, units, color, dash) in enumerate(panels, 1):
        for unit in units:
            figure.add_trace(
                go.Scatter(
                    x=steps,
                    y=values[:, unit],
                    mode=line_mode(trace.seq_len),
                    name=f"{name} unit {unit}",
                    line={"color": color(unit), "width": 1.6, "dash": dash},
                    hovertemplate=f"t=%{{x}} · {name}[{unit}] = %{{y:.4f}}<extra></extra>",
                ),
                row=1,
                col=column,
            )
    direction_text = (
        f", {DIRECTION_NAMES[direction]} direction" if trace.num_directions == 2 else ""
    )
    figure.update_layout(
        title={
            "text": f"{model_title}: layer {layer}{direction_text}, batch item {batch}, h "
            f"projected to {trace.proj_size} of {trace.hidden_size} cell units",
            "font": {"size": 14},
        },
        height=420,
        showlegend=False,
    )
    figure.update_xaxes(title_text="time step t")
    return figure


# How clearly a unit's C must run against the label before its axis is drawn upside down: a
# weak r's sign is noise, and flipping on it would claim a relation the chart does not show.
FLIP_MIN_R = 0.3


def defined_label(label: torch.Tensor, batch: int = 0) -> torch.Tensor:
    """label[batch] at the steps it is defined (NaN steps left out): (n,), n <= T. The steps
    label_correlations reads."""
    row = label[batch]  # (T,)
    return row[row.isfinite()]


def label_correlations(
    trace: Trace,
    label: torch.Tensor,
    unit: int,
    layer: int = 0,
    direction: int = 0,
    batch: int = 0,
) -> dict[str, float]:
    """r of one unit's C and h (h only without a projection) with label[batch] over the steps
    it is defined on: what label_figure draws, as numbers. label (B, T), NaN where undefined."""
    shown_label = label[batch]  # (T,)
    states = {"C": trace.c} | ({} if trace.proj_size else {"h": trace.h})
    return {
        name: unit_r(values[layer, direction, batch, :, unit], shown_label)
        for name, values in states.items()
    }


def label_figure(
    trace: Trace,
    label: torch.Tensor,
    label_name: str,
    unit: int,
    layer: int = 0,
    direction: int = 0,
    batch: int = 0,
    characters: str = "",
) -> go.Figure:
    """A task's label (e.g. the bracket depth) beside one unit's C and h over the steps.

    label (B, T) for the trace's batch items (NaN where undefined); unit < hidden_size (h is
    drawn only without a projection, where h's unit k is C's unit k). `characters`: the text
    read, one character a step (T of them), shown on hover; "" for other inputs. The unit's
    C is drawn above h, each on its own right axis; an axis is drawn upside down when that state
    clearly falls as the label rises (r at most -FLIP_MIN_R over the drawn steps), so that a
    unit that follows the label looks like it, and the title says so.
    """
    trace_view(trace, direction)
    if tuple(label.shape) != (trace.batch_size, trace.seq_len):
        raise ValueError(f"label must be (B, T) = {(trace.batch_size, trace.seq_len)}")
    if not 0 <= unit < trace.hidden_size:
        raise ValueError(f"unit must be in 0..{trace.hidden_size - 1}, got {unit}")
    if characters and len(characters) != trace.seq_len:
        raise ValueError(f"characters must be one a step ({trace.seq_len}), got {len(characters)}")
    if not 0 <= layer < trace.num_layers:
        raise ValueError(f"layer must be in 0..{trace.num_layers - 1}, got {layer}")
    steps = np.arange(trace.seq_len)
    unit_text = f"unit {unit}" + (f" of layer {layer}" if trace.num_layers > 1 else "")
    shown_label = label[batch]  # (T,), NaN where undefined
    # C, then h: a row each, so that each state gets its own scale (a counter's C can run to
    # tens while h stays within ±1) beside the same label.
    states = [("C", trace.c)] + ([] if trace.proj_size else [("h", trace.h)])
    drawn_rs = label_correlations(trace, label, unit, layer, direction, batch)
    figure = make_subplots(
        rows=len(states),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        specs=[[{"secondary_y": True}]] * len(states),
    )
    flipped = []
    for row, (name, values) in enumerate(states, 1):
        series = values[layer, direction, batch, :, unit]  # (T,)
        drawn_r = drawn_rs[name]
        falls = drawn_r <= -FLIP_MIN_R
        if falls:
            flipped.append(f"r({name}, {label_name}) = {drawn_r:+.2f}")
        figure.add_trace(
            go.Scatter(
                x=steps,
                y=shown_label.numpy(),
                name=label_name,
                legendgroup="label",
                showlegend=row == 1,
                mode="lines",
                line={"color": NEUTRAL_COLOR, "width": 3, "shape": "hv"},
                **(
                    {
                        # Quoted, so that a space shows; a newline and a tab as the text
                        # view has them.
                        "customdata": [quoted_char(char) for char in characters],
                        "hovertemplate": "t = %{x}: %{customdata}<br>"
                        + f"{label_name} = %{{y}}<extra></extra>",
                    }
                    if characters
                    else {}
                ),
            ),
            row=row,
            col=1,
            secondary_y=False,
        )
        figure.add_trace(
            go.Scatter(
                x=steps,
                y=series.numpy(),
                name=f"{name} {unit_text}",
                mode="lines",
                # h, often switching every step, thinner and see-through over the label
                line={"color": STATE_COLORS[name.lower()], "width": 2 if name == "C" else 1.2},
                opacity=1.0 if name == "C" else 0.75,
                hovertemplate=f"t = %{{x}}: {name} = %{{y:.4f}}<extra></extra>",
            ),
            row=row,
            col=1,
            secondary_y=True,
        )
        figure.update_yaxes(title_text=label_name, row=row, col=1, secondary_y=False)
        # Its own round ticks and no second grid: ticks synced to the label's grid would fall
        # on values like 0.244 that say nothing.
        figure.update_yaxes(
            title_text=f"{name}" + (" (upside down)" if falls else ""),
            autorange="reversed" if falls else True,
            tickmode="auto",
            showgrid=False,
            row=row,
            col=1,
            secondary_y=True,
        )
    drawn = "C (top) and h (below)" if not trace.proj_size else "C"
    batch_text = f", batch item {batch}" if trace.batch_size > 1 else ""
    figure.update_layout(
        title={
            "text": f"{label_name} (grey, left axes) beside {unit_text}'s {drawn}{batch_text}"
            + (
                f"<br><sup>right axis upside down where {' and '.join(flipped)} over these "
                "steps</sup>"
                if flipped
                else ""
            ),
            "font": {"size": 14},
        },
        height=300 + 180 * (len(states) - 1),
        # Below the axis title: above the plot it ran into the right axis's title.
        legend={
            "orientation": "h",
            "yanchor": "top",
            "y": -0.25 if len(states) == 1 else -0.2,
            "xanchor": "left",
            "x": 0,
        },
        margin={"t": 70, "b": 90},
    )
    figure.update_xaxes(title_text="time step t", row=len(states), col=1)
    return figure
