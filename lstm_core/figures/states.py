"""Pure figure builders: a SimulationResult in, a plotly go.Figure out. Inputs validated first.

What is drawn is bounded by the screen, not by the run: long lines are downsampled
(`lstm_core.figures.downsample.line_indices`) to at most a few thousand points, arrays are
float32 / int32, and many units are shown as a units × time heatmap of binned means. The
full-resolution numbers stay in the SimulationResult (and its data export).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lstm_core.analysis.metrics import lag1_autocorrelation
from lstm_core.figures.colors import (
    DIVERGING_COLORSCALE,
    STATE_COLORS,
    UNIT_COLORS,
    unit_color,
    unit_colors,
)
from lstm_core.figures.downsample import (
    bin_time,
    bin_widths_text,
    downsampled_note,
    line_indices,
    points_per_line,
)
from lstm_core.model.config import clamp_window, describe_init
from lstm_core.model.simulate import SimulationResult

__all__ = [
    "DIVERGING_COLORSCALE",
    "UNIT_COLORS",
    "unit_color",
]  # re-exported, lstm_core.figures.colors
# Lines get unreadable past this many units; more go to a heatmap or a unit picker. Each line
# gets its own colour (lstm_core.figures.colors.UNIT_COLORS has at least this many).
MAX_LINE_UNITS = 16
# Lines over at most this many steps get a marker at every step: each step is a discrete
# update, and a run of one step is a single point, which a line alone does not draw.
MARKED_STEPS = 30


def line_mode(steps: int) -> str:
    """A line trace's plotly mode over `steps` steps: markers too up to MARKED_STEPS."""
    return "lines+markers" if steps <= MARKED_STEPS else "lines"


# Heatmap overview: units × time-bin cells per panel at most, and time bins at most.
OVERVIEW_CELLS_PER_PANEL = 49_152
OVERVIEW_MAX_BINS = 600
# Margins of the Explorer's figures: wide enough for the tick labels and axis titles of the usual
# runs, so that plotly.js's automargin has nothing to add. When it has (l 60 -> 62, b 50 -> 53),
# it draws the whole figure a second time, a large part of a slider move at the default size.
STATE_MARGIN: dict[str, int] = {"l": 70, "r": 20, "t": 80, "b": 60}
SUBTITLE_HEIGHT = 16  # px more at the top for a title's second line
# The window's mark on the whole-run overview: a light band that reads on white and on dark,
# edged in the same colour so that a short window on an opaque heatmap still shows.
WINDOW_MARK_COLOR = "rgba(255, 193, 7, 0.25)"
WINDOW_EDGE_COLOR = "rgb(255, 193, 7)"


@functools.lru_cache(maxsize=8)
def _subplot_layout(
    rows: int, cols: int, spacing: float, titles: tuple[str, ...]
) -> dict[str, Any]:
    """make_subplots' layout (axes, domains, panel titles) for a grid, computed once."""
    if rows > 1:
        grid = make_subplots(
            rows=rows, cols=cols, shared_xaxes=True, vertical_spacing=spacing, subplot_titles=titles
        )
    else:
        grid = make_subplots(
            rows=rows, cols=cols, horizontal_spacing=spacing, subplot_titles=titles
        )
    return grid.to_dict()["layout"]


def _figure(traces: list[dict[str, Any]], layout: dict[str, Any]) -> go.Figure:
    """A go.Figure from plain trace and layout dicts, not validated by plotly.

    plotly's validation of every property costs more than building the dicts on large runs,
    a large part of a rerun; the builders' output is validated once in the tests instead
    (tests/test_figures_downsample.py builds each figure again with validation).
    """
    return go.Figure({"data": traces, "layout": layout}, _validate=False)


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
    max_points: int | None = None,
    window: tuple[int, int] | None = None,
) -> go.Figure:
    """h_t (left) and C_t (right) over time for some units of one layer and batch item.

    Shared time axis; a unit has the same colour in both panels. Hovering a point shows the
    update that produced it with the numbers filled in. `window` = (start, stop) draws steps
    start..stop-1 only (fitted to the run by `clamp_window`; None: every step), and the time
    axis spans just them. Each line is downsampled to `max_points` (default:
    `points_per_line(len(units))`) with `line_indices`; the hover numbers are those of the very
    steps drawn. float32 arrays, SVG lines.
    """
    chosen = check_view(result, layer, batch, units)
    config = result.config
    steps = config.seq_len
    start, stop = (
        (0, steps) if window is None else clamp_window(window[0], window[1] - window[0], steps)
    )
    whole = (start, stop) == (0, steps)
    points = points_per_line(len(chosen)) if max_points is None else max_points
    h = result.h[layer, batch].numpy()  # (T, H) in the run's dtype
    c = result.c[layer, batch].numpy()
    gates = {name: g[layer, batch].numpy() for name, g in result.gates.items()}
    layout = copy.deepcopy(
        _subplot_layout(
            1,
            2,
            0.08,
            (
                "Hidden state h<sub>t</sub> = o<sub>t</sub> ⊙ tanh(C<sub>t</sub>): the output",
                "Cell state C<sub>t</sub> = f<sub>t</sub> ⊙ C<sub>t-1</sub> + "
                "i<sub>t</sub> ⊙ g<sub>t</sub>: the memory",
            ),
        )
    )
    hover_h = (
        "unit %{meta} · t = %{x}<br>h = o ⊙ tanh(C) = %{customdata[0]:.3f} × "
        "tanh(%{customdata[1]:.3f}) = %{y:.4f}<extra></extra>"
    )
    # The reverse direction's state before step t is the one after step t + 1.
    previous = "C<sub>t+1</sub>" if getattr(result, "reverse", False) else "C<sub>t-1</sub>"
    hover_c = (
        f"unit %{{meta}} · t = %{{x}}<br>C = f ⊙ {previous} + i ⊙ g<br>"
        "= %{customdata[0]:.3f} × %{customdata[1]:.3f} + %{customdata[2]:.3f} × "
        "%{customdata[3]:.3f}<br>= %{y:.4f}<extra></extra>"
    )
    traces: list[dict[str, Any]] = []
    for unit, color in zip(chosen, unit_colors(chosen), strict=True):
        common = {
            "type": "scatter",
            "mode": line_mode(stop - start),
            "line": {"color": color, "width": 1.6},
            "marker": {"size": 5},
            "meta": str(unit),
            "name": f"unit {unit}",
            "legendgroup": f"unit {unit}",
        }
        h_unit, c_unit = h[:, unit], c[:, unit]  # (T,)
        at = start + line_indices(h_unit[start:stop], points)  # the steps drawn for h
        traces.append(
            {
                **common,
                "x": at.astype(np.int32),
                "y": h_unit[at].astype(np.float32),
                "customdata": np.stack([gates["o"][at, unit], c_unit[at]], axis=1).astype(
                    np.float32
                ),  # (n, 2) o_t, C_t
                "hovertemplate": hover_h,
                "xaxis": "x",
                "yaxis": "y",
            }
        )
        at = start + line_indices(c_unit[start:stop], points)  # the steps drawn for C
        # C before step t: the start state (0 unless a traced run was given one) where the
        # direction begins, at t = 0 forward and at t = T - 1 reverse.
        c_0 = getattr(result, "c_0", None)
        start_c = 0.0 if c_0 is None else float(c_0[layer, batch, unit])
        if getattr(result, "reverse", False):
            c_prev = np.where(at < steps - 1, c_unit[np.minimum(at + 1, steps - 1)], start_c)
        else:
            c_prev = np.where(at > 0, c_unit[np.maximum(at - 1, 0)], start_c)
        traces.append(
            {
                **common,
                "x": at.astype(np.int32),
                "y": c_unit[at].astype(np.float32),
                "showlegend": False,
                "customdata": np.stack(
                    [gates["f"][at, unit], c_prev, gates["i"][at, unit], gates["g"][at, unit]],
                    axis=1,
                ).astype(np.float32),  # (n, 4) f_t, C_{t-1}, i_t, g_t
                "hovertemplate": hover_c,
                "xaxis": "x2",
                "yaxis": "y2",
            }
        )
    layout["xaxis"]["title"] = {"text": "time step t"}
    layout["xaxis2"]["title"] = {"text": "time step t"}
    layout["xaxis2"]["matches"] = "x"  # one time axis: zooming one panel zooms both
    layout["yaxis"]["title"] = {"text": "h<sub>t</sub>"}
    layout["yaxis2"]["title"] = {"text": "C<sub>t</sub>"}
    if not whole:
        layout["xaxis"]["range"] = [start, stop - 1]
    shown = "" if whole else f" · steps {start}-{stop - 1}"
    note = downsampled_note(stop - start, points)
    layout.update(
        # The downsampling note on a line of its own: beside a long model title it would run
        # past a narrow chart.
        title={
            "text": (
                f"LSTM states: input {config.input_dim}, hidden {config.hidden_dim}, "
                f"{steps} steps, seed {config.seed}, {describe_init(config)}"
                f" · layer {layer}, batch item {batch}{shown}"
            ),
            "subtitle": {"text": note},
            "font": {"size": 14},
        },
        height=430 + (SUBTITLE_HEIGHT if note else 0),
        margin=dict(STATE_MARGIN, t=STATE_MARGIN["t"] + (SUBTITLE_HEIGHT if note else 0)),
        legend={"title": {"text": "unit"}},
        hovermode="closest",
    )
    return _figure(traces, layout)


def mark_window(figure: go.Figure, start: int, stop: int) -> go.Figure:
    """`figure` with steps start..stop-1 shaded on every x axis: where a window lies in a run.

    The traces are shared with `figure` (nothing is copied or changed), so a screen figure's
    `datarevision` still holds and plotly.js only redraws the band. Behind lines, the band sits
    below the data; heatmaps are opaque, so there it is drawn above them, edged.
    """
    if not 0 <= start < stop:
        raise ValueError(f"the window must have 0 <= start < stop, got {start}, {stop}")
    spec = figure.to_plotly_json()  # the figure's own dicts: read here, never changed
    layout = dict(spec["layout"])  # a new top level; the shapes below are a new list
    axes = sorted(name for name in layout if name.startswith("xaxis")) or ["xaxis"]
    opaque = any(trace.get("type") == "heatmap" for trace in spec["data"])
    layout["shapes"] = [
        *layout.get("shapes", []),
        *(
            {
                "type": "rect",
                "xref": name.replace("axis", ""),
                "yref": f"{name.replace('xaxis', 'y')} domain",
                "x0": start - 0.5,
                "x1": stop - 0.5,
                "y0": 0,
                "y1": 1,
                "fillcolor": WINDOW_MARK_COLOR,
                "line": {"width": 2, "color": WINDOW_EDGE_COLOR} if opaque else {"width": 0},
                "layer": "above" if opaque else "below",
            }
            for name in axes
        ),
    ]
    marked = go.Figure({"data": spec["data"], "layout": layout}, _validate=False)
    if (
        layout.get("template") is None
    ):  # a screen figure's `null` template (lstm_core.figures.screen)
        marked.layout.template = None
    return marked


def overview_bins(steps: int, units: int) -> int:
    """Time bins of the heatmap overview for `units` rows: within the cell budget, >= 1."""
    return max(1, min(steps, OVERVIEW_MAX_BINS, OVERVIEW_CELLS_PER_PANEL // max(1, units)))


def state_heatmap(result: SimulationResult, layer: int = 0, batch: int = 0) -> go.Figure:
    """Every unit's h_t (top) and C_t (bottom) as units × time heatmaps: the overview.

    Time is cut into `overview_bins(T, H)` near-equal consecutive bins and each cell is the
    mean over its bin (`downsample.bin_time`); float32. h shares one colour scale fixed to
    [-1, 1]; C's is symmetric around 0 at its largest |mean|.
    """
    check_view(result, layer, batch, [0])
    config = result.config
    steps, units = config.seq_len, config.hidden_dim
    bins = overview_bins(steps, units)
    h_bins = bin_time(result.h[layer, batch].numpy(), bins)  # values (H, n)
    c_bins = bin_time(result.c[layer, batch].numpy(), bins)
    width = steps / len(h_bins.start)
    layout = copy.deepcopy(
        _subplot_layout(
            2,
            1,
            0.1,
            ("Hidden state h<sub>t</sub>, every unit", "Cell state C<sub>t</sub>, every unit"),
        )
    )
    c_limit = float(np.abs(c_bins.values).max()) or 1.0
    steps_per_column = bin_widths_text(steps, bins)
    mean_text = f"mean over {steps_per_column} steps" if h_bins.binned else "value"
    traces: list[dict[str, Any]] = []
    for row, (name, bins_of, zmin, zmax, colorbar_y) in enumerate(
        (("h", h_bins, -1.0, 1.0, 0.79), ("C", c_bins, -c_limit, c_limit, 0.21)), start=1
    ):
        axis = "" if row == 1 else str(row)
        traces.append(
            {
                "type": "heatmap",
                "z": bins_of.values.astype(np.float32),  # (H, n)
                # Evenly spaced cells (x0, dx) draw several times faster in plotly.js than
                # explicit, slightly uneven bin edges; cell k is centred on its bin's middle.
                "x0": (width - 1) / 2,
                "dx": width,
                "zsmooth": "fast",
                "zmin": zmin,
                "zmax": zmax,
                "colorscale": DIVERGING_COLORSCALE,
                "colorbar": {
                    "title": {"text": name},
                    "len": 0.42,
                    "y": colorbar_y,
                    "outlinewidth": 0,  # as the export template draws it
                },
                "hovertemplate": (
                    f"unit %{{y}} · t ≈ %{{x:.0f}}<br>{name}: {mean_text} = %{{z:.3f}}"
                    "<extra></extra>"
                ),
                "xaxis": f"x{axis}",
                "yaxis": f"y{axis}",
            }
        )
        layout[f"yaxis{axis}"]["title"] = {"text": "unit"}
    layout["xaxis2"]["title"] = {"text": "time step t"}
    # On a line of its own: beside a long model title it would run past a narrow chart.
    binned = f"each column is the mean of {steps_per_column} steps" if h_bins.binned else ""
    layout.update(
        title={
            "text": f"All {units} units at a glance · layer {layer}, batch item {batch}",
            "subtitle": {"text": binned},
            "font": {"size": 14},
        },
        height=560,
        margin=dict(STATE_MARGIN),
    )
    return _figure(traces, layout)


def persistence_figure(autocorr_h: np.ndarray, autocorr_c: np.ndarray) -> go.Figure:
    """Lag-1 autocorrelation of h and C per unit, as paired bars (1 = fully persistent)."""
    autocorr_h = np.asarray(autocorr_h, dtype=float)
    autocorr_c = np.asarray(autocorr_c, dtype=float)
    if autocorr_h.shape != autocorr_c.shape or autocorr_h.ndim != 1:
        raise ValueError("autocorr_h and autocorr_c must be 1-D and of the same length")
    units = np.arange(len(autocorr_h))
    figure = go.Figure(
        [
            go.Bar(x=units, y=autocorr_h, name="h<sub>t</sub>", marker_color=STATE_COLORS["h"]),
            go.Bar(x=units, y=autocorr_c, name="C<sub>t</sub>", marker_color=STATE_COLORS["c"]),
        ]
    )
    figure.update_layout(
        title={"text": "Lag-1 autocorrelation per unit (1 = the state at t+1 is the state at t)"},
        # Units are bars, not a scale: no grid or zero line across them (what plotly.js picks
        # for the axis bars stand on, stated so it holds without a template too).
        xaxis={"title": "unit", "showgrid": False, "zeroline": False},
        yaxis={"title": "lag-1 autocorrelation", "range": [-1, 1]},
        barmode="group",
        height=300,
        margin={**STATE_MARGIN, "t": 50},  # l 60 / b 40 made automargin draw it twice
    )
    return figure


def run_persistence_figure(result: SimulationResult, layer: int = 0, batch: int = 0) -> go.Figure:
    """`persistence_figure` of one layer and batch item of `result`: lag-1 autocorrelation of
    each unit's h and C over the run."""
    check_view(result, layer, batch, [0])
    h, c = result.h[layer, batch], result.c[layer, batch]  # (T, H)
    return persistence_figure(
        lag1_autocorrelation(h).double().numpy(), lag1_autocorrelation(c).double().numpy()
    )
