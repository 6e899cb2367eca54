"""Gate inspector: i, f, g, o over time, their saturation, and the mean forget gate per unit."""

from __future__ import annotations

import streamlit as st

from lstm_core.analysis.gate_stats import heatmap_columns
from lstm_core.figures.gates import gate_lines
from ui.cell import cached_gate_overview, view_pickers
from ui.entry import require_app
from ui.export import figure_downloads, plotly_config
from ui.state import current_config, run_or_stop

require_app()

st.title("Gate inspector")
st.markdown(
    "The four gates decide every update: the **forget gate f_t** how much of $C_{t-1}$ to keep, "
    "the **input gate i_t** how much of the **candidate g_t (C̃_t)** to write, and the "
    "**output gate o_t** how much of tanh(C_t) to show as h_t. Sigmoid gates live in [0, 1], "
    "the tanh candidate in [-1, 1]; the colour scales are fixed to those ranges."
)

config = current_config()
if config is None:
    st.stop()
result = run_or_stop(config)
layer, batch, units = view_pickers(config, "gates", default_units=4)

heatmaps, saturation, forget_means = cached_gate_overview(config, layer, batch)
st.subheader("Units × time")
heatmaps_name = f"gates_heatmaps_{config.label()}_l{layer}_b{batch}"
st.plotly_chart(heatmaps, key="gates_heatmaps", config=plotly_config(heatmaps_name))
columns = heatmap_columns(config.seq_len, config.hidden_dim)
if columns < config.seq_len:
    shortest, longest = config.seq_len // columns, -(-config.seq_len // columns)
    widths = f"{shortest}" if shortest == longest else f"{shortest}-{longest}"
    st.caption(
        f"{config.seq_len:,} steps × {config.hidden_dim} units are too many cells to send to "
        f"the browser: time is averaged over {columns} consecutive bins of "
        f"{widths} steps each. Short spikes "
        "are smoothed; the lines below keep each bin's minimum and maximum."
    )
figure_downloads(heatmaps, heatmaps_name, "gates_heatmaps_export")

st.subheader("Picked units")
if units:
    lines = gate_lines(result, layer, batch, units)
    lines_name = f"gates_lines_{config.label()}_l{layer}_b{batch}"
    st.plotly_chart(lines, key="gates_lines", config=plotly_config(lines_name))
    figure_downloads(lines, lines_name, "gates_lines_export")
else:
    st.warning("Pick at least one unit to draw its gates.")

st.subheader("Saturation (Karpathy et al. 2015)")
st.markdown(
    "For each gate and unit: the share of steps the gate is **left-saturated** (below 0.1, "
    "nearly shut) against the share it is **right-saturated** (above 0.9, nearly open); for "
    "the candidate g the thresholds are -0.9 and 0.9. A forget gate high on the y-axis "
    "keeps C almost unchanged most of the time: an integrator, the slow memory. Points near "
    "(0, 0) work in the gate's middle range."
)
saturation_name = f"gates_saturation_{config.label()}_l{layer}_b{batch}"
st.plotly_chart(saturation, key="gates_saturation", config=plotly_config(saturation_name))
figure_downloads(saturation, saturation_name, "gates_saturation_export")

st.subheader("Mean forget gate per unit")
st.markdown(
    "C keeps the share f̄ of itself per step, so information halves in about ln 0.5 / ln f̄ "
    "steps (hover a bar). PyTorch's default init puts f near σ(0) = 0.5; a forget bias of +3 "
    "lifts it near σ(3) ≈ 0.95."
)
forget_name = f"gates_forget_mean_{config.label()}_l{layer}_b{batch}"
st.plotly_chart(forget_means, key="gates_forget_means", config=plotly_config(forget_name))
figure_downloads(forget_means, forget_name, "gates_forget_export")
