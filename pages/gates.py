"""Gate inspector: i, f, g, o over time, their saturation, and the mean forget gate per unit."""

from __future__ import annotations

import streamlit as st

from lstm_core.analysis.gate_stats import SATURATION_THRESHOLDS, forget_gate_of_bias
from lstm_core.analysis.metrics import HALF_LIFE_FORMULA
from lstm_core.figures.downsample import bin_widths_text, heatmap_columns
from lstm_core.figures.gates import (
    forget_mean_figure,
    gate_heatmaps,
    gate_lines,
    saturation_figure,
)
from lstm_core.model.cell import gate_range_text
from lstm_core.model.config import OPENING_PRESET, PRESETS
from ui.entry import require_app
from ui.figure import show_figure
from ui.pickers import view_pickers
from ui.runs import seeded_run_or_stop
from ui.source_cell_pages import gates_body

require_app()

st.title("Gate inspector")
st.markdown(
    "The four gates decide every update: the **forget gate f_t** how much of $C_{t-1}$ to keep, "
    "the **input gate i_t** how much of the **candidate g_t (C̃_t)** to write, and the "
    "**output gate o_t** how much of tanh(C_t) to show as h_t. Sigmoid gates live in "
    f"{gate_range_text('f')}, the tanh candidate in {gate_range_text('g')}; the colour scales "
    "are fixed to those ranges."
)

config, _ = seeded_run_or_stop(gates_body)
layer, batch, units = view_pickers(config, "gates", default_units=4)
view = config.view_label(layer, batch)

st.subheader("Units × time")
show_figure(
    gate_heatmaps,
    config,
    layer,
    batch,
    name=f"gates_heatmaps_{view}",
    key="gates_heatmaps",
    spinner="Summarising the gates…",
)
columns = heatmap_columns(config.seq_len, config.hidden_dim)
if columns < config.seq_len:
    widths = bin_widths_text(config.seq_len, columns)
    st.caption(
        f"{config.seq_len:,} steps × {config.hidden_dim} units are too many cells to send to "
        f"the browser: time is averaged over {columns} consecutive bins of "
        f"{widths} steps each. Short spikes "
        "are smoothed; the lines below keep each line's minimum and maximum."
    )

st.subheader("Picked units")
if units:
    show_figure(
        gate_lines,
        config,
        layer,
        batch,
        tuple(units),
        name=f"gates_lines_{view}",
        key="gates_lines",
    )
else:
    st.warning("Pick at least one unit to draw its gates.")

st.subheader("Saturation (Karpathy et al. 2015)")
st.markdown(
    "For each gate and unit: the share of steps the gate is **left-saturated** (below "
    f"{SATURATION_THRESHOLDS['f'][0]:g}, nearly shut) against the share it is "
    f"**right-saturated** (above {SATURATION_THRESHOLDS['f'][1]:g}, nearly open); for the "
    f"candidate g the thresholds are {SATURATION_THRESHOLDS['g'][0]:g} and "
    f"{SATURATION_THRESHOLDS['g'][1]:g}. A forget gate high on the y-axis "
    "keeps C almost unchanged most of the time: an integrator, the slow memory. Points near "
    "(0, 0) work in the gate's middle range."
)
show_figure(
    saturation_figure,
    config,
    layer,
    batch,
    name=f"gates_saturation_{view}",
    key="gates_saturation",
    spinner="Summarising the gates…",
)

st.subheader("Mean forget gate per unit")
_opening_bias = PRESETS[OPENING_PRESET].forget_bias
st.markdown(
    f"C keeps the share f̄ of itself per step, so information halves in about {HALF_LIFE_FORMULA} "
    "steps (hover a bar). PyTorch's default init puts f near σ(0) = 0.5; the opening preset's "
    f"forget bias of {_opening_bias:+g} lifts it near σ({_opening_bias:g}) ≈ "
    f"{forget_gate_of_bias(_opening_bias):.2f}."
)
show_figure(
    forget_mean_figure,
    config,
    layer,
    batch,
    name=f"gates_forget_mean_{view}",
    key="gates_forget_means",
)
