"""Explorer: h_t and C_t side by side, the equivalence check, and persistence measured."""

from __future__ import annotations

import streamlit as st

from lstm_core import LIMITS, RunConfig
from lstm_core.analysis.metrics import (
    FIX_SETTINGS,
    HALF_LIFE_FORMULA,
    MEAN_FORGET_MEANING,
    MEMORY_TIME_MEANING,
    MIN_STEP_CHANGE_H,
    STEP_CHANGE_RATIO,
    Persistence,
    is_default_init,
    measure_text,
    memory_cap_note,
    memory_text,
    persistence,
    suggested_fix,
)
from lstm_core.figures.downsample import MAX_POINTS_PER_LINE, points_per_line
from lstm_core.figures.states import (
    MAX_LINE_UNITS,
    default_units,
    run_persistence_figure,
    state_figure,
    state_heatmap,
)
from lstm_core.model.checks import NonFinite, first_nonfinite
from lstm_core.model.config import OPENING_PRESET, PRESETS
from lstm_core.model.source import TRAINED_MODELS
from ui.caches import VIEWS, byte_cached
from ui.cell_link import forget_cell_link
from ui.entry import require_app
from ui.export import data_downloads, reproduce_section
from ui.figure import show_figure
from ui.model_source import model_kind
from ui.pickers import LAYER_HELP
from ui.runs import cached_simulate, seeded_run_or_stop
from ui.settings import store_settings
from ui.share import stop_page
from ui.source_pages import explorer_body
from ui.window import window_control

require_app()


@byte_cached(VIEWS)
def cached_persistence(config: RunConfig, layer: int, batch: int) -> Persistence:
    """`metrics.persistence` of one layer and batch item of the cached run."""
    result = cached_simulate(config)
    h, c = result.h[layer, batch], result.c[layer, batch]  # (T, H)
    return persistence(h, c, result.gates["f"][layer, batch])


@byte_cached(VIEWS)
def cached_first_nonfinite(config: RunConfig) -> NonFinite | None:
    """`checks.first_nonfinite` of the cached run: scanned once per config, not per rerun."""
    return first_nonfinite(cached_simulate(config))


st.title("LSTM State Explorer")
st.markdown(
    "An LSTM carries **two states**. The **cell state C_t** is the long-term memory: it changes "
    "only through the forget gate (what to keep) and the input gate (what to add). The "
    "**hidden state h_t = o_t ⊙ tanh(C_t)** is the output, recomputed every step. Below, both "
    "come from "
    + ("a seeded `nn.LSTM`" if model_kind() == "seeded" else "the `nn.LSTM` chosen as the Model")
    + ", and a hand-written cell with the very same weights is checked against it at every step."
)
with st.expander("The equations (PyTorch's gate order i, f, g, o)"):
    # Plain text, not st.latex: KaTeX is a large script the browser would fetch and run before
    # the first chart (benchmarks: page load). σ is the logistic sigmoid, ⊙ elementwise.
    st.markdown(
        "- i<sub>t</sub> = σ(W<sub>ii</sub> x<sub>t</sub> + b<sub>ii</sub> + "
        "W<sub>hi</sub> h<sub>t−1</sub> + b<sub>hi</sub>)\n"
        "- f<sub>t</sub> = σ(W<sub>if</sub> x<sub>t</sub> + b<sub>if</sub> + "
        "W<sub>hf</sub> h<sub>t−1</sub> + b<sub>hf</sub>)\n"
        "- g<sub>t</sub> = tanh(W<sub>ig</sub> x<sub>t</sub> + b<sub>ig</sub> + "
        "W<sub>hg</sub> h<sub>t−1</sub> + b<sub>hg</sub>)\n"
        "- o<sub>t</sub> = σ(W<sub>io</sub> x<sub>t</sub> + b<sub>io</sub> + "
        "W<sub>ho</sub> h<sub>t−1</sub> + b<sub>ho</sub>)\n"
        "- C<sub>t</sub> = f<sub>t</sub> ⊙ C<sub>t−1</sub> + i<sub>t</sub> ⊙ g<sub>t</sub>, "
        "h<sub>t</sub> = o<sub>t</sub> ⊙ tanh(C<sub>t</sub>)",
        unsafe_allow_html=True,
    )


if model_kind() not in TRAINED_MODELS:
    # The seeded model and a checkpoint have no labels (and a checkpoint may stop to ask for
    # its file): a trained model's label and unit leave the link first.
    forget_cell_link()
config, result = seeded_run_or_stop(explorer_body)
nonfinite = cached_first_nonfinite(config)
if nonfinite is not None:  # overflowed: report it rather than draw NaN as lines
    st.error(nonfinite.message(config.dtype))
    stop_page()

# Pickers only where there is something to pick: every widget is re-sent and re-rendered on
# each rerun (benchmarks: slider -> redrawn).
layer, batch = 0, 0
units = default_units(config.hidden_dim)
if config.num_layers > 1 or config.batch_size > 1 or config.hidden_dim > MAX_LINE_UNITS:
    picker_columns = st.columns(3)
    if config.num_layers > 1:
        layer = picker_columns[0].selectbox(
            "layer",
            range(config.num_layers),
            key="explorer_layer",
            help=LAYER_HELP,
        )
    if config.batch_size > 1:
        batch = picker_columns[1].selectbox(
            "batch item", range(config.batch_size), key="explorer_batch"
        )
    if config.hidden_dim > MAX_LINE_UNITS:
        units = picker_columns[2].multiselect(
            "units shown",
            range(config.hidden_dim),
            default=units[:8],
            max_selections=MAX_LINE_UNITS,
            key="explorer_units",
            help=f"{config.hidden_dim} units are too many lines to read: pick up to "
            f"{MAX_LINE_UNITS}. The heatmap below shows every unit.",
        )
        if not units:
            st.warning("Pick at least one unit to draw.")
            stop_page()

start, stop = window_control(config.seq_len)
whole_run = (start, stop) == (0, config.seq_len)
window = None if whole_run else (start, stop)
states_name = f"lstm_states_{config.view_label(layer, batch)}" + (
    "" if whole_run else f"_t{start}-{stop - 1}"
)
view = (config, layer, batch, tuple(units))
show_figure(state_figure, *view, window=window, name=states_name, key="explorer_states")

# The whole run below a window (or every unit, when there are more than lines can show): the
# context of the chart above, whose downloads it shares.
if not whole_run or config.hidden_dim > MAX_LINE_UNITS:
    if not whole_run:
        st.caption(
            f"The whole run; the shaded band is the window above (steps {start}-{stop - 1})."
        )
    overview_name = f"lstm_states_overview_{config.view_label(layer, batch)}"
    if config.hidden_dim > MAX_LINE_UNITS:
        show_figure(
            state_heatmap,
            config,
            layer,
            batch,
            name=overview_name,
            key="explorer_overview",
            downloads=False,
            shade=window,
        )
    else:
        show_figure(
            state_figure,
            *view,
            name=overview_name,
            key="explorer_overview",
            downloads=False,
            shade=window,
        )
if config.seq_len > MAX_POINTS_PER_LINE:
    full = stop - start <= points_per_line(len(units))
    st.caption(
        f"Long runs are drawn with at most ~{MAX_POINTS_PER_LINE} points per line (MinMaxLTTB "
        "downsampling keeps each line's shape, its minimum and its maximum) and the overview "
        "averages time bins; the data downloads below hold every step."
        + (
            f" The window of {stop - start:,} steps is drawn at full resolution."
            if full
            else " Shorten the window to a few hundred steps to see every step."
        )
    )

measured = cached_persistence(config, layer, batch)
st.subheader("Does C persist while h fluctuates? Measured")
cap_note = memory_cap_note(config.seq_len, measured.memory_time_cap)
metric_columns = st.columns(2)
metric_columns[0].metric(
    "memory time C (steps)",
    memory_text(measured.memory_time_c, measured.memory_time_cap),
    help=f"{MEMORY_TIME_MEANING} {cap_note}",
)
metric_columns[1].metric(
    "memory time h (steps)",
    memory_text(measured.memory_time_h, measured.memory_time_cap),
    help=f"The same for h. {cap_note}",
)
secondary = st.columns(5)
secondary[0].metric(
    "change per step, C",
    measure_text(measured.step_change_c),
    help="Median over units of mean |C_{t+1} - C_t| / std(C). White noise gives 1.13. n/a: "
    "a run of fewer than 3 steps is too short to measure it.",
)
secondary[1].metric(
    "change per step, h", measure_text(measured.step_change_h), help="The same for h."
)
secondary[2].metric(
    "lag-1 autocorr. C",
    measure_text(measured.autocorr_c),
    help="Median over units of corr(C_t, C_{t+1}). It cannot tell a memory of 60 steps from "
    "one of 600 (both near 1): the memory time above can.",
)
secondary[3].metric("lag-1 autocorr. h", measure_text(measured.autocorr_h), help="The same for h.")
secondary[4].metric(
    "mean forget gate",
    f"{measured.mean_forget:.2f}",
    help=f"{MEAN_FORGET_MEANING} Half-life {HALF_LIFE_FORMULA} = "
    f"{measured.predicted_half_life_c:.1f} steps.",
)
st.caption(
    f"The claim holds when h moves at least {STEP_CHANGE_RATIO:g}× as much per step as C and "
    f"at least {MIN_STEP_CHANGE_H:g} of its own spread, and C remembers at least as long as h "
    "(h's memory time measured below the cap)."
)
fix = None
if measured.c_persists:
    st.success(measured.verdict)
else:
    st.warning(measured.verdict)
    fix = suggested_fix(measured.regime, config)
    if fix is None:
        st.caption(
            "No settings change within the caps is offered for this run: the sentence above "
            "says why it does not show the claim."
        )
    else:
        st.button(
            fix.label,
            key="explorer_apply_fix",
            on_click=store_settings,
            args=(fix.changes,),
            help="The sizes and the seed stay; the claim is measured again after the change.",
        )
if is_default_init(measured.mean_forget):
    st.info(
        "**Why nothing persists with PyTorch's default init:** every weight and bias is drawn "
        "U(-1/√H, 1/√H), so the forget gate's input is near 0 and f ≈ σ(0) = 0.5. C then "
        "halves every step, and on random input it is no slower than h. A raised forget bias "
        "(+1 to +5) or training on a memory task makes C the slow state."
    )
_opening = PRESETS[OPENING_PRESET]
# Said where it explains the screen: this run has the preset's init, or the fix offers it.
uses_opening_init = all(
    getattr(config, name) == getattr(_opening, name) for name in FIX_SETTINGS if name != "signal"
)
if uses_opening_init or (fix is not None and set(fix.changes) <= set(FIX_SETTINGS)):
    st.caption(
        f"Why the opening preset ({OPENING_PRESET}, input scale {_opening.input_scale:g}): "
        f"a forget bias of {_opening.forget_bias:+g} keeps the forget gate near 1, so C keeps "
        f"most of itself every step, and input weights drawn U(−{_opening.input_scale:g}/√I, "
        f"{_opening.input_scale:g}/√I) let the input move the gates at every hidden size, so h "
        "keeps fluctuating; with PyTorch's own U(−1/√H, 1/√H) a few inputs barely move "
        f"{LIMITS['hidden_dim'][1]} units and h turns as slow as C."
    )

# A toggle rather than an expander: a collapsed expander still draws its chart, and every
# slider move would redraw both (benchmarks: slider -> redrawn).
if st.toggle("Per unit: lag-1 autocorrelation of h and C", key="explorer_show_persistence"):
    show_figure(
        run_persistence_figure,
        config,
        layer,
        batch,
        name=f"lstm_persistence_{config.view_label(layer, batch)}",
        key="explorer_persistence",
    )

st.subheader("The hand-written cell equals nn.LSTM")
st.markdown(
    "The equations above, written out by hand with nn.LSTM's own weights, give the same h and "
    f"C as nn.LSTM at every step. The largest difference anywhere is "
    f"**h {result.max_abs_diff['h']:.3g}**, **C {result.max_abs_diff['c']:.3g}**: rounding "
    f"in the last digits of {config.dtype}, not a different computation."
)
with st.expander("How it is checked"):
    st.markdown(
        "- Over every layer, batch item, step and unit. At every step the hand-written cell "
        "reads nn.LSTM's h<sub>t−1</sub> (teacher-forced) and its own C<sub>t−1</sub>.\n"
        "- nn.LSTM returns C only for the last step, so its C<sub>t</sub> comes from calling "
        "nn.LSTM step by step, from nn.LSTM's h<sub>t−1</sub> and the cell's C<sub>t−1</sub>; "
        "against the whole-sequence call (h at every step, C at the last) that stepped run "
        f"differs by at most {result.stepped_vs_whole:.3g}.\n"
        "- The differences are rounding"
        + (
            ": nn.LSTM's default CPU kernel (oneDNN) approximates sigmoid and tanh."
            if config.dtype == "float32"
            else " (float64 runs on PyTorch's native kernel)."
        )
        + "\n- Why step by step: left to run free on its own h, any two implementations that "
        "differ in the last bit can part ways on long runs with a high forget bias.",
        unsafe_allow_html=True,  # the text above is the app's own: numbers and <sub> only
    )

st.subheader("Take it with you")
data_downloads(config, f"lstm_trajectories_{config.label()}", key="explorer_data")
reproduce_section(config, key="explorer_reproduce")

with st.expander("How to read these plots"):
    st.markdown(
        "- Each colour is one unit, the same in both panels.\n"
        "- **Left, h_t**: squashed into (-1, 1) and gated by o_t every step, it jumps with the "
        "input.\n"
        "- **Right, C_t**: with a forget gate near 1 it drifts slowly and can grow beyond ±1: "
        "old input is still in it.\n"
        "- Hover a point to see the update that produced it, with the numbers filled in.\n"
        "- Try the *PyTorch default* preset: C becomes as jumpy as h."
    )
