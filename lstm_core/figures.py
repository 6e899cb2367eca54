"""Pure figure builders: a SimulationResult in, a plotly go.Figure out. Inputs validated first."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from lstm_core.simulate import SimulationResult

# One colour per unit, the same in every panel and figure.
UNIT_COLORS: tuple[str, ...] = tuple(qualitative.Plotly + qualitative.D3[1:])
# Lines get unreadable past this many units; more go to a heatmap or a unit picker.
MAX_LINE_UNITS = 16


def unit_color(unit: int) -> str:
    return UNIT_COLORS[unit % len(UNIT_COLORS)]


def check_view(
    result: SimulationResult, layer: int, batch: int, units: Sequence[int] | None
) -> list[int]:
    """Validate a (layer, batch item, units) view of `result`; return the units as a list."""
    config = result.config
    if not 0 <= layer < config.num_layers:
        raise ValueError(f"layer must be in 0..{config.num_layers - 1}, got {layer}")
    if not 0 <= batch < config.batch_size:
        raise ValueError(f"batch item must be in 0..{config.batch_size - 1}, got {batch}")
    chosen = list(range(min(config.hidden_dim, MAX_LINE_UNITS))) if units is None else list(units)
    if not chosen:
        raise ValueError("pick at least one unit")
    bad = [u for u in chosen if not 0 <= u < config.hidden_dim]
    if bad:
        raise ValueError(f"units must be in 0..{config.hidden_dim - 1}, got {bad}")
    return chosen


def default_units(hidden_dim: int) -> list[int]:
    """The units shown before the user picks: all of them up to MAX_LINE_UNITS."""
    return list(range(min(hidden_dim, MAX_LINE_UNITS)))


def state_figure(
    result: SimulationResult,
    layer: int = 0,
    batch: int = 0,
    units: Sequence[int] | None = None,
) -> go.Figure:
    """h_t (left) and C_t (right) over time for some units of one layer and batch item.

    Shared time axis; a unit has the same colour in both panels. Hovering a point shows the
    update that produced it with the numbers filled in.
    """
    chosen = check_view(result, layer, batch, units)
    config = result.config
    steps = config.seq_len
    t = np.arange(steps)
    h = result.h[layer, batch].double().numpy()  # (T, H)
    c = result.c[layer, batch].double().numpy()
    gates = {name: g[layer, batch].double().numpy() for name, g in result.gates.items()}
    c_prev = np.vstack([np.zeros((1, c.shape[1])), c[:-1]])  # (T, H) C_{t-1}, zero at t = 0
    figure = make_subplots(
        rows=1,
        cols=2,
        shared_xaxes=True,
        horizontal_spacing=0.08,
        subplot_titles=(
            "Hidden state h<sub>t</sub> = o<sub>t</sub> ⊙ tanh(C<sub>t</sub>): the output",
            "Cell state C<sub>t</sub> = f<sub>t</sub> ⊙ C<sub>t-1</sub> + "
            "i<sub>t</sub> ⊙ g<sub>t</sub>: the memory",
        ),
    )
    hover_h = (
        "unit %{meta} · t = %{x}<br>h = o ⊙ tanh(C) = %{customdata[0]:.3f} × "
        "tanh(%{customdata[1]:.3f}) = %{y:.4f}<extra></extra>"
    )
    hover_c = (
        "unit %{meta} · t = %{x}<br>C = f ⊙ C<sub>t-1</sub> + i ⊙ g<br>"
        "= %{customdata[0]:.3f} × %{customdata[1]:.3f} + %{customdata[2]:.3f} × "
        "%{customdata[3]:.3f}<br>= %{y:.4f}<extra></extra>"
    )
    for unit in chosen:
        color = unit_color(unit)
        common = {"mode": "lines", "line": {"color": color, "width": 1.6}, "meta": unit}
        figure.add_trace(
            go.Scatter(
                x=t,
                y=h[:, unit],
                name=f"unit {unit}",
                legendgroup=f"unit {unit}",
                customdata=np.stack([gates["o"][:, unit], c[:, unit]], axis=1),
                hovertemplate=hover_h,
                **common,
            ),
            row=1,
            col=1,
        )
        figure.add_trace(
            go.Scatter(
                x=t,
                y=c[:, unit],
                name=f"unit {unit}",
                legendgroup=f"unit {unit}",
                showlegend=False,
                customdata=np.stack(
                    [
                        gates["f"][:, unit],
                        c_prev[:, unit],
                        gates["i"][:, unit],
                        gates["g"][:, unit],
                    ],
                    axis=1,
                ),
                hovertemplate=hover_c,
                **common,
            ),
            row=1,
            col=2,
        )
    figure.update_xaxes(title_text="time step t")
    figure.update_yaxes(title_text="h<sub>t</sub>", row=1, col=1)
    figure.update_yaxes(title_text="C<sub>t</sub>", row=1, col=2)
    figure.update_layout(
        title={
            "text": (
                f"LSTM states: input {config.input_dim}, hidden {config.hidden_dim}, "
                f"{steps} steps, seed {config.seed}, forget bias {config.forget_bias:+g}"
                f" · layer {layer}, batch item {batch}"
            ),
            "font": {"size": 14},
        },
        height=430,
        margin={"l": 60, "r": 20, "t": 80, "b": 50},
        legend={"title": {"text": "unit"}},
        hovermode="closest",
    )
    return figure


def persistence_figure(autocorr_h: np.ndarray, autocorr_c: np.ndarray) -> go.Figure:
    """Lag-1 autocorrelation of h and C per unit, as paired bars (1 = fully persistent)."""
    autocorr_h = np.asarray(autocorr_h, dtype=float)
    autocorr_c = np.asarray(autocorr_c, dtype=float)
    if autocorr_h.shape != autocorr_c.shape or autocorr_h.ndim != 1:
        raise ValueError("autocorr_h and autocorr_c must be 1-D and of the same length")
    units = np.arange(len(autocorr_h))
    figure = go.Figure(
        [
            go.Bar(x=units, y=autocorr_h, name="h<sub>t</sub>", marker_color="#EF553B"),
            go.Bar(x=units, y=autocorr_c, name="C<sub>t</sub>", marker_color="#636EFA"),
        ]
    )
    figure.update_layout(
        title={"text": "Lag-1 autocorrelation per unit (1 = the state at t+1 is the state at t)"},
        xaxis_title="unit",
        yaxis={"title": "lag-1 autocorrelation", "range": [-1, 1]},
        barmode="group",
        height=300,
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
    )
    return figure
