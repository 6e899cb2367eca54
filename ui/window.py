"""The Explorer's time-window control: which steps of a long run to draw at full resolution.

The window lives in st.session_state under the URL's names (`window_start`, `window_length`,
lstm_core.model.config.VIEW_DEFAULTS), so a link and the settings file carry it. The widgets have
keys of their own: their ranges follow the run, while the stored window may be wider (the
default, the longest run, means "the whole run" at every length). Display only: moving the
window never reruns the LSTM.
"""

from __future__ import annotations

import streamlit as st

from lstm_core.model.config import VIEW_DEFAULTS, clamp_window
from ui.settings import store_settings

START_KEY = "explorer_window_start"
LENGTH_KEY = "explorer_window_length"


def _store(steps: int) -> None:
    """on_change of both widgets: the window they show, under the URL's names."""
    length = int(st.session_state[LENGTH_KEY])
    start = int(st.session_state.get(START_KEY, 0))
    start, stop = clamp_window(start, length, steps)
    # A window as long as the run is "the whole run": it stays whole when the run grows.
    whole = stop - start == steps
    length = VIEW_DEFAULTS["window_length"] if whole else stop - start
    store_settings({"window_start": start, "window_length": length})


def window_control(steps: int) -> tuple[int, int]:
    """The window (start, stop) to draw, with its controls when the run has 2 steps or more."""
    start, stop = clamp_window(
        st.session_state.get("window_start", VIEW_DEFAULTS["window_start"]),
        st.session_state.get("window_length", VIEW_DEFAULTS["window_length"]),
        steps,
    )
    if steps < 2:
        return start, stop
    # The widgets show the window fitted to this run (set before they are made).
    st.session_state[LENGTH_KEY] = stop - start
    st.session_state[START_KEY] = start
    columns = st.columns([1, 3], vertical_alignment="bottom")
    columns[0].number_input(
        "window length (steps)",
        1,
        steps,
        step=max(1, min(100, steps // 10)),
        key=LENGTH_KEY,
        on_change=_store,
        args=(steps,),
        help=f"How many steps to draw, 1-{steps:,}; all {steps:,} is the whole run. A window "
        "of a few hundred steps is drawn at full resolution, every step a point.",
    )
    if stop - start < steps:
        columns[1].slider(
            "window start (step)",
            0,
            steps - (stop - start),
            key=START_KEY,
            on_change=_store,
            args=(steps,),
            help="The first step drawn. The whole run below marks where the window lies.",
        )
    else:
        columns[1].caption(
            "Showing the whole run. Set a shorter window length to zoom in; the window then "
            "slides along the run."
        )
    return start, stop
