"""Pure figure builders for the Memory lab: results in, plotly go.Figure out, inputs validated."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lstm_core.analysis.memory import STATE_LABELS, STATE_NAMES, MemoryLab, half_life_text
from lstm_core.analysis.training import BASELINE_MSE, TrainedTrace
from lstm_core.figures.colors import NEUTRAL_COLOR
from lstm_core.learned.adding import TrainingResult

# One colour per model; the LSTM's C is solid, its h dashed.
MODEL_COLORS: dict[str, str] = {"lstm": "#1f77b4", "gru": "#2ca02c", "rnn": "#d62728"}
STATE_STYLE: dict[str, tuple[str, str]] = {
    "lstm_c": (MODEL_COLORS["lstm"], "solid"),
    "lstm_h": (MODEL_COLORS["lstm"], "dash"),
    "gru_h": (MODEL_COLORS["gru"], "solid"),
    "rnn_h": (MODEL_COLORS["rnn"], "solid"),
}
FORGET_PRODUCT_COLOR = NEUTRAL_COLOR
# Losses below this are drawn at it: a log axis cannot show 0.
LOG_FLOOR = 1e-30
# Every log axis of the lab: ticks as powers of ten (10⁻⁶), not SI prefixes ("1µ") or "1e-16".
LOG_AXIS: dict[str, str] = {"type": "log", "exponentformat": "power"}
LOSS_WINDOW = 25  # training steps in each point of the loss chart's running mean


def _check_lab(lab: MemoryLab) -> int:
    if not isinstance(lab, MemoryLab):
        raise TypeError(f"expected a MemoryLab, got {type(lab).__name__}")
    steps = lab.config.seq_len
    for series in (*lab.difference.values(), *lab.gradient.values(), lab.forget_product):
        if series.shape != (steps,):
            raise ValueError(f"every series must have shape ({steps},), got {tuple(series.shape)}")
    if set(lab.difference) != set(STATE_NAMES) or set(lab.gradient) != set(STATE_NAMES):
        raise ValueError(f"the lab must hold the states {', '.join(STATE_NAMES)}")
    return steps


def _floored(series: object) -> np.ndarray:
    values = np.asarray(series, dtype=np.float64)
    return np.maximum(values, LOG_FLOOR)


def _gapped(series: object) -> np.ndarray:
    """Exact zeros become gaps (NaN): the two runs agree to every float64 bit from there on."""
    values = np.asarray(series, dtype=np.float64).copy()
    values[values <= 0] = np.nan
    return values


def perturbation_figure(lab: MemoryLab) -> go.Figure:
    """||Δstate_t|| over t (log y) for LSTM C, LSTM h, GRU h and RNN h; a marker where each
    falls to half its t = 0 value for good (`half_life`), and a dotted line at the predicted
    half-life of C.

    Where a difference is exactly 0 (the runs agree to the last float64 bit) the line stops.
    """
    steps = _check_lab(lab)
    t = np.arange(steps)
    figure = go.Figure()
    for name in STATE_NAMES:
        color, dash = STATE_STYLE[name]
        difference = _gapped(lab.difference[name])
        measured = lab.half_life[name]
        label = f"{STATE_LABELS[name]} (half-life {half_life_text(measured, steps)})"
        figure.add_trace(
            go.Scatter(
                x=t,
                y=difference,
                name=label,
                mode="lines",
                line={"color": color, "dash": dash, "width": 2},
                hovertemplate=(
                    f"{STATE_LABELS[name]} · t = %{{x}}<br>‖Δ‖ = %{{y:.3g}}<extra></extra>"
                ),
            )
        )
        if measured is not None:
            figure.add_trace(
                go.Scatter(
                    x=[measured],
                    y=[difference[measured]],
                    mode="markers",
                    marker={"color": color, "size": 10, "symbol": "circle-open", "line_width": 2},
                    name=f"{STATE_LABELS[name]} halved",
                    showlegend=False,
                    hovertemplate=f"{STATE_LABELS[name]} halved at t = %{{x}}<extra></extra>",
                )
            )
    predicted = lab.predicted_half_life_c
    if math.isfinite(predicted) and predicted <= steps:
        figure.add_vline(
            x=predicted,
            line={"color": MODEL_COLORS["lstm"], "dash": "dot", "width": 1},
            annotation_text=f"predicted half-life of C: {predicted:.1f}",
            annotation_position="top right",
        )
    figure.update_layout(
        title="Two runs alike except the first input: how long does each state remember it?",
        xaxis_title="time step t",
        yaxis={**LOG_AXIS, "title": {"text": "‖state_t − perturbed state_t‖ (log)"}},
        legend={"orientation": "h", "yanchor": "top", "y": -0.2},
        height=460,
        margin={"t": 60},
    )
    return figure


def gradient_figure(lab: MemoryLab) -> go.Figure:
    """‖∂state_T/∂state_t‖ over t (log y) from autograd, with ‖∏_{s>t} f_s‖ for the LSTM's C.

    Exact zeros (a product that underflowed float64) are gaps.
    """
    steps = _check_lab(lab)
    t = np.arange(steps)
    figure = go.Figure()
    for name in STATE_NAMES:
        color, dash = STATE_STYLE[name]
        label = STATE_LABELS[name]
        figure.add_trace(
            go.Scatter(
                x=t,
                y=_gapped(lab.gradient[name]),
                name=f"‖∂{label}_T / ∂{label}_t‖",
                mode="lines",
                line={"color": color, "dash": dash, "width": 2},
                hovertemplate=f"{label} · t = %{{x}}<br>‖∂/∂‖ = %{{y:.3g}}<extra></extra>",
            )
        )
    figure.add_trace(
        go.Scatter(
            x=t,
            y=_gapped(lab.forget_product),
            name="‖∏ f_s, s = t+1..T‖: C's direct path",
            mode="lines",
            line={"color": FORGET_PRODUCT_COLOR, "dash": "dot", "width": 2},
            hovertemplate="forget-gate product · t = %{x}<br>%{y:.3g}<extra></extra>",
        )
    )
    figure.update_layout(
        title="How much the final state still depends on the state at step t (autograd)",
        xaxis_title="time step t",
        yaxis={**LOG_AXIS, "title": {"text": "Jacobian norm (Frobenius, log)"}},
        legend={"orientation": "h", "yanchor": "top", "y": -0.2},
        height=460,
        margin={"t": 60},
    )
    return figure


def trailing_mean(values: Sequence[float], window: int) -> np.ndarray:
    """The mean of each value and the up to `window - 1` before it: (N,) float64."""
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    sums = np.cumsum(np.concatenate([[0.0], np.asarray(values, dtype=np.float64)]))  # (N + 1,)
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (sums[ends] - sums[starts]) / (ends - starts)


def training_figure(result: TrainingResult) -> go.Figure:
    """Training loss per step of the LSTM and the RNN (faint), their mean over the last
    LOSS_WINDOW steps (bold), and the 0.167 baseline (always predicting 1.0)."""
    if not isinstance(result, TrainingResult):
        raise TypeError(f"expected a TrainingResult, got {type(result).__name__}")
    if not result.lstm_losses or len(result.lstm_losses) != len(result.rnn_losses):
        raise ValueError("both models need the same, non-empty number of training steps")
    steps = np.arange(1, len(result.lstm_losses) + 1)
    figure = go.Figure()
    runs = (
        ("lstm", result.lstm_losses, result.lstm_mse),
        ("rnn", result.rnn_losses, result.rnn_mse),
    )
    # One batch's loss swings by a factor of two from step to step: the raw losses stay faint
    # behind their running mean, which shows when the LSTM leaves the baseline.
    for kind, losses, _ in runs:
        figure.add_trace(
            go.Scatter(
                x=steps,
                y=_floored(losses),
                name=f"{kind.upper()}, each step",
                mode="lines",
                line={"color": MODEL_COLORS[kind], "width": 1},
                opacity=0.3,
                showlegend=False,
                hovertemplate=f"{kind.upper()} · step %{{x}}<br>loss %{{y:.4f}}<extra></extra>",
            )
        )
    for kind, losses, mse in runs:
        figure.add_trace(
            go.Scatter(
                x=steps,
                y=_floored(trailing_mean(losses, LOSS_WINDOW)),
                name=f"{kind.upper()}: test MSE {mse:.4f}",
                mode="lines",
                line={"color": MODEL_COLORS[kind], "width": 2.5},
                hovertemplate=f"{kind.upper()} · step %{{x}}<br>mean loss of the last "
                f"{LOSS_WINDOW} steps %{{y:.4f}}<extra></extra>",
            )
        )
    # A trace, not add_hline: on a log axis plotly places an annotation at 10**y (plotly.py
    # issue 2580), so add_hline's label stretched the axis to 1, far from its line; and a label
    # on the line would sit on the RNN's loss, which runs along it. The legend names it.
    figure.add_trace(
        go.Scatter(
            x=[steps[0], steps[-1]],
            y=[BASELINE_MSE, BASELINE_MSE],
            name=f"{BASELINE_MSE:.3f}: always predicting 1.0",
            mode="lines",
            line={"color": NEUTRAL_COLOR, "dash": "dash", "width": 2},
            hoverinfo="skip",
        )
    )
    figure.update_layout(
        title=f"Adding problem, T = {result.spec.seq_len}: training loss (batch MSE; bold: mean "
        f"of the last {LOSS_WINDOW} steps)",
        xaxis_title="optimiser step",
        yaxis={**LOG_AXIS, "title": {"text": "MSE (log)"}},
        legend={"orientation": "h", "yanchor": "top", "y": -0.2},
        height=400,
        margin={"t": 60},
    )
    return figure


def trained_states_figure(trace: TrainedTrace) -> go.Figure:
    """The trained LSTM's h_t (left) and C_t (right) on one test sequence.

    The unit whose C follows the first marked value best (`memory_unit`, named with its r) is
    drawn thick and coloured, every other unit thin and grey; dotted lines mark the two marked
    positions.
    """
    if not isinstance(trace, TrainedTrace):
        raise TypeError(f"expected a TrainedTrace, got {type(trace).__name__}")
    if trace.h.shape != trace.c.shape or trace.h.dim() != 2:
        raise ValueError("h and c must both be (T, H)")
    steps, hidden = trace.h.shape
    if not 0 <= trace.memory_unit < hidden:
        raise ValueError(f"memory unit must be in 0..{hidden - 1}")
    t = np.arange(steps)
    memory_r = float(trace.c_correlation[trace.memory_unit])  # over the test set
    figure = make_subplots(
        rows=1,
        cols=2,
        shared_xaxes=True,
        horizontal_spacing=0.08,
        subplot_titles=("Hidden state h<sub>t</sub>", "Cell state C<sub>t</sub>"),
    )
    unit = trace.memory_unit
    for column, (label, states) in enumerate((("h", trace.h), ("C", trace.c)), start=1):
        values = states.double().numpy()
        for u in range(hidden):
            if u == unit:
                continue
            figure.add_trace(
                go.Scatter(
                    x=t,
                    y=values[:, u],
                    mode="lines",
                    line={"color": "rgba(128,128,128,0.35)", "width": 1},
                    name="other units",
                    legendgroup="other",
                    showlegend=column == 1 and u == (1 if unit == 0 else 0),
                    hovertemplate=f"unit {u} · t = %{{x}}<br>{label} = %{{y:.3f}}<extra></extra>",
                ),
                row=1,
                col=column,
            )
        figure.add_trace(
            go.Scatter(
                x=t,
                y=values[:, unit],
                mode="lines",
                line={"color": MODEL_COLORS["lstm"], "width": 3},
                # Named by its r, not as "the memory unit": an untrained model has none.
                name=f"unit {unit} (r = {memory_r:+.2f} with the 1st value)",
                legendgroup="memory",
                showlegend=column == 1,
                hovertemplate=f"unit {unit} · t = %{{x}}<br>{label} = %{{y:.3f}}<extra></extra>",
            ),
            row=1,
            col=column,
        )
    first, second = trace.markers
    value = float(trace.x[first, 0])
    for position, text in ((first, f"1st mark: {value:.2f}"), (second, "2nd mark")):
        figure.add_vline(
            x=position,
            line={"color": NEUTRAL_COLOR, "dash": "dot", "width": 1},
            annotation_text=text,
            annotation_position="top right",
        )
    figure.update_xaxes(title_text="time step t")
    figure.update_layout(
        title=(
            f"Trained LSTM on a test sequence: target {trace.target:.3f}, "
            f"prediction {trace.prediction:.3f}"
        ),
        legend={"orientation": "h", "yanchor": "top", "y": -0.2},
        height=440,
        margin={"t": 80},
    )
    return figure
