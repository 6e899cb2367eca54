"""Shared UI state: the RunConfig the sidebar's settings make, and the page's theme.

app.py seeds every setting's key (ui.settings.seed_defaults), and pages read them with
`st.session_state.get(KEY, default)`: AppTest runs a page without app.py around it after
`switch_page`, and a live server keeps these keys across pages.
"""

from __future__ import annotations

import streamlit as st

from lstm_core import ConfigError, RunConfig
from lstm_core.model.settings import RUN_SETTINGS
from lstm_core.model.simulate import result_nbytes
from ui.caches import RUNS

# Holds the parsed CSV rows (a tuple of tuples) while signal == "csv".
INPUT_VALUES_KEY = "input_values"


SCREEN_THEME_KEY = "_screen_theme"  # this run's theme for screen figures, set by app.py


def _reported_theme() -> str:
    """The theme Streamlit reports, read from the app's background colour ("light" also when
    the browser has not said, as under AppTest)."""
    return "dark" if st.context.theme.type == "dark" else "light"


def decide_screen_theme() -> None:
    """Fix this run's theme for screen figures (app.py, once per run, before any page).

    On a session's first run Streamlit reports the browser's colour scheme even when the
    server sets the theme (`--theme.base dark`, or `base` in config.toml), and a run draws
    every chart once: that run follows the server's setting. Later runs follow the report,
    which then also tracks a theme chosen in the app's settings menu. A theme the user chose
    in that menu on an earlier visit is not known on the first run: until the next rerun the
    charts follow the server's setting.
    """
    configured = st.get_option("theme.base")
    first_run = SCREEN_THEME_KEY not in st.session_state
    if first_run and configured in ("light", "dark"):
        st.session_state[SCREEN_THEME_KEY] = configured
    else:
        st.session_state[SCREEN_THEME_KEY] = _reported_theme()


def screen_theme() -> str:
    """The page's theme for screen figures: "dark" or "light" (decide_screen_theme's, or the
    reported one when a page runs without app.py, as under AppTest's switch_page)."""
    return st.session_state.get(SCREEN_THEME_KEY) or _reported_theme()


def current_config() -> RunConfig | None:
    """The RunConfig the sidebar describes, or None after showing why it is not valid."""
    # Each setting as its own type (a widget or a test may hand over 5 for 5.0).
    values = {
        setting.name: setting.cast(st.session_state.get(setting.name, setting.default))
        for setting in RUN_SETTINGS
    }
    input_values = st.session_state.get(INPUT_VALUES_KEY)
    if values["signal"] == "csv":
        if input_values is None:
            st.info(
                f"This view reads its input from a CSV file ({values['seq_len']:,} steps × "
                f"{values['input_dim']} features as last set). A link or settings file "
                "holds the settings but not the file's numbers: upload the CSV in the sidebar."
            )
            return None
        values["seq_len"] = len(input_values)
        values["input_dim"] = len(input_values[0])
    else:
        input_values = None
    try:
        config = RunConfig(**values, input_values=input_values)
    except ConfigError as error:
        st.error(f"These settings cannot run: {error}.")
        return None
    needed = result_nbytes(config)
    if needed > RUNS.budget:
        st.error(
            f"These settings cannot run here: the run needs {needed / 1e9:.2f} GB of memory, "
            f"more than this server keeps for a run ({RUNS.budget / 1e9:.2f} GB). "
            "Lower the steps, units, batch or layers."
        )
        return None
    return config
