"""Pure figure builder for "store without exposing": the hand-set latch beside the trained
recall model's memory unit, C and h over time on one sequence."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lstm_core.figures.colors import NEUTRAL_COLOR
from lstm_core.figures.memory import MODEL_COLORS
from lstm_core.learned.latch import LatchComparison

MARK_COLOR = "#2ca02c"
QUERY_COLOR = "#d62728"
# The latch and the trained unit in two colours: the legend lists both rows' traces together.
LATCH_COLOR = MODEL_COLORS["lstm"]
TRAINED_COLOR = "#9467bd"


def _check(comparison: LatchComparison) -> int:
    if not isinstance(comparison, LatchComparison):
        raise TypeError(f"expected a LatchComparison, got {type(comparison).__name__}")
    steps = int(comparison.x.shape[0])
    for name in ("latch_c", "latch_h", "trained_c", "trained_h"):
        series = getattr(comparison, name)
        if tuple(series.shape) != (steps,):
            raise ValueError(f"{name} must have shape ({steps},), got {tuple(series.shape)}")
    if not 0 <= comparison.mark < comparison.query < steps:
        raise ValueError(
            f"need 0 <= mark < query < {steps}, got mark {comparison.mark}, "
            f"query {comparison.query}"
        )
    return steps


def latch_figure(comparison: LatchComparison) -> go.Figure:
    """Two rows over t: the latch's C (solid) and h (dashed), with tanh(stored value) dotted,
    then the trained model's memory unit's C and h; the mark and the query as vertical lines."""
    steps = _check(comparison)
    t = np.arange(steps)
    figure = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        subplot_titles=(
            "Hand-set latch: f = 1, i = mark, o = query",
            f"Trained recall model, memory unit {comparison.unit}",
        ),
    )
    rows = (
        (1, "latch", comparison.latch_c, comparison.latch_h, LATCH_COLOR),
        (2, f"unit {comparison.unit}", comparison.trained_c, comparison.trained_h, TRAINED_COLOR),
    )
    for row, who, c, h, color in rows:
        for name, series, dash in (("C", c, "solid"), ("h", h, "dash")):
            figure.add_trace(
                go.Scatter(
                    x=t,
                    y=np.asarray(series, dtype=np.float64),
                    name=f"{name}_t ({who})",
                    mode="lines",
                    line={"color": color, "dash": dash, "width": 2},
                    legendgroup=who,
                    hovertemplate=f"{who} · t = %{{x}}<br>{name} = %{{y:.4f}}<extra></extra>",
                ),
                row=row,
                col=1,
            )
        for step, label, line_color in (
            (comparison.mark, "mark", MARK_COLOR),
            (comparison.query, "query", QUERY_COLOR),
        ):
            named = {"annotation_text": label} if row == 1 else {}
            figure.add_vline(
                x=step,
                line={"color": line_color, "dash": "dot", "width": 1.5},
                row=row,
                col=1,
                **named,
            )
    # What the latch's C holds: g = tanh(value) at the mark.
    figure.add_hline(
        y=float(np.tanh(comparison.stored_value)),
        line={"color": NEUTRAL_COLOR, "dash": "dot", "width": 1},
        annotation_text="tanh(stored value)",
        annotation_position="bottom right",
        row=1,
        col=1,
    )
    figure.update_xaxes(title_text="step t", row=2, col=1)
    figure.update_yaxes(title_text="state", row=1, col=1)
    figure.update_yaxes(title_text="state", row=2, col=1)
    figure.update_layout(
        height=520,
        margin={"t": 60, "b": 50},
        legend={"orientation": "h", "y": -0.15},
        title={
            "text": (
                f"Stored value {comparison.stored_value:+.3f}: the trained model recalls "
                f"{comparison.recalled:+.3f} at the query"
            ),
            "font": {"size": 14},
        },
    )
    return figure
