"""Step-through: one time step of a real run, every product of the update written out."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lstm_core.figures.updates import cell_flow_figure
from lstm_core.model.cell import CellUpdate, step_update
from ui.entry import require_app
from ui.equations import update_latex
from ui.figure import show_figure
from ui.pickers import view_pickers
from ui.runs import seeded_run_or_stop
from ui.share import stop_page
from ui.source_cell_pages import step_body

require_app()

STEP_KEY = "step_t"
PLAYING_KEY = "step_playing"
# Seconds between frames while playing: long enough to read a number change.
PLAY_INTERVAL = 0.8
# The page opens on t = 1, the first step whose C_{t-1} is not the zero start state: both
# halves of the update (keep f ⊙ C_{t-1}, write i ⊙ g) have numbers in them.
OPENING_STEP = 1

st.title("Step through the update")
st.markdown(
    "Pick a time step t and see the update that produced C_t and h_t, with the numbers of "
    "this very run filled in: $C_t = f_t \\odot C_{t-1} + i_t \\odot g_t$ and "
    "$h_t = o_t \\odot \\tanh(C_t)$. ⊙ multiplies unit by unit."
)

config, result = seeded_run_or_stop(step_body)
layer, batch, units = view_pickers(config, "step", default_units=3)
if not units:
    st.warning("Pick at least one unit to write out.")
    stop_page()
last = config.seq_len - 1
# Keep t inside the run when the sidebar shortens it (before the slider is drawn).
st.session_state[STEP_KEY] = min(int(st.session_state.get(STEP_KEY, OPENING_STEP)), last)
st.session_state.setdefault(PLAYING_KEY, False)


def shift_step(delta: int) -> None:
    st.session_state[STEP_KEY] = max(0, min(last, int(st.session_state[STEP_KEY]) + delta))


def toggle_play() -> None:
    playing = not st.session_state[PLAYING_KEY]
    if playing and st.session_state[STEP_KEY] >= last:
        st.session_state[STEP_KEY] = 0  # play again from the start
    st.session_state[PLAYING_KEY] = playing


playing = bool(st.session_state[PLAYING_KEY])
st.button(
    "⏸ Stop" if playing else "▶ Play",
    key="step_play",
    on_click=toggle_play,
    disabled=last == 0,
    help=f"Advance one step every {PLAY_INTERVAL:g} s until the last step or Stop.",
)


def formula_rows(breakdown: CellUpdate) -> pd.DataFrame:
    return pd.DataFrame(
        breakdown.table() | {"nn.LSTM C_t": breakdown.c_lstm, "nn.LSTM h_t": breakdown.h_lstm}
    )


def step_view() -> None:
    """The time control and step t written out; reruns alone (and on a timer while playing)."""
    if st.session_state[PLAYING_KEY]:
        if st.session_state[STEP_KEY] < last:
            st.session_state[STEP_KEY] += 1
        else:
            st.session_state[PLAYING_KEY] = False
            st.rerun()  # the whole page, so the timer goes away and the button says Play
    control = st.columns([1.4, 7, 1.2], vertical_alignment="bottom")
    control[0].button(
        "◀ Previous", key="step_prev", on_click=shift_step, args=(-1,), disabled=last == 0
    )
    if last > 0:
        control[1].slider(
            "time step t",
            0,
            last,
            key=STEP_KEY,
            help="Drag, or use Previous / Next; arrow keys move one step once it has focus.",
        )
    else:
        control[1].markdown("This run has a single step, t = 0.")
    control[2].button("Next ▶", key="step_next", on_click=shift_step, args=(1,), disabled=last == 0)
    t = int(st.session_state[STEP_KEY])
    breakdown = step_update(result, layer, batch, t, units)
    st.subheader(f"Step t = {t} (of 0 to {last}) · layer {layer}, batch item {batch}")
    if t == 0:
        st.caption("At t = 0 the cell starts from zero: $C_{-1} = 0$, $h_{-1} = 0$.")
    for n, unit in enumerate(breakdown.units):
        st.markdown(f"**unit {unit}**")
        for line in update_latex(breakdown, n):
            st.latex(line)
    st.markdown("Every number of this step, and nn.LSTM's own C_t and h_t beside them:")
    st.dataframe(
        formula_rows(breakdown),
        key="step_table",
        hide_index=True,
        column_config={"unit": st.column_config.NumberColumn(format="%d")},
    )
    st.caption(
        f"max |written out − nn.LSTM| at this step: {breakdown.reference_gap():.3g} "
        f"({config.dtype}). The gates "
        "come from the hand-written cell, which uses nn.LSTM's weights."
    )
    flow_unit = st.selectbox(
        "unit in the diagram",
        breakdown.units,
        key="step_flow_unit",
        help="The diagram shows one unit's numbers at step t.",
    )
    show_figure(
        cell_flow_figure,
        breakdown,
        int(flow_unit),
        source_key=(config, layer, batch, t, breakdown.units),
        themed=True,
        name=f"cell_flow_{config.label()}_l{layer}_b{batch}_t{t}_u{flow_unit}",
        key="step_flow",
    )


st.fragment(step_view, run_every=PLAY_INTERVAL if playing else None)()
