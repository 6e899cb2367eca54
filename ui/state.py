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


def screen_theme() -> str:
    """The page's theme for screen figures: "dark" or "light" (also when the browser has not
    said, as under AppTest). Streamlit reads it from the app's background colour."""
    return "dark" if st.context.theme.type == "dark" else "light"


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
