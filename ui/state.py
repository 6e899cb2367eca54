"""Shared UI state: the sidebar's keys, the RunConfig they make, and the page's theme.

app.py seeds every key with `st.session_state.setdefault`, and pages read them with
`st.session_state.get(KEY, default)`: AppTest runs a page without app.py around it after
`switch_page`, and a live server keeps these keys across pages.
"""

from __future__ import annotations

import streamlit as st

from lstm_core import DEFAULT_CONFIG, ConfigError, RunConfig
from lstm_core.model.config import SETTING_NAMES, VIEW_DEFAULTS
from lstm_core.model.simulate import result_nbytes
from ui.caches import RUNS

# Sidebar keys are the RunConfig field names (and the URL's query parameter names).
CONFIG_KEYS: tuple[str, ...] = SETTING_NAMES
# Holds the parsed CSV rows (a tuple of tuples) while signal == "csv".
INPUT_VALUES_KEY = "input_values"


def seed_defaults() -> None:
    """Give every sidebar key its default once per session, and keep it across pages."""
    for key in CONFIG_KEYS:
        # Re-saving a present key keeps it across a page switch: Streamlit otherwise drops the
        # sidebar's widget state then, and every control falls back to its minimum.
        st.session_state[key] = st.session_state.get(key, getattr(DEFAULT_CONFIG, key))
    for key, default in VIEW_DEFAULTS.items():  # the Explorer's time window (display only)
        st.session_state[key] = st.session_state.get(key, default)


def screen_theme() -> str:
    """The page's theme for screen figures: "dark" or "light" (also when the browser has not
    said, as under AppTest). Streamlit reads it from the app's background colour."""
    return "dark" if st.context.theme.type == "dark" else "light"


def current_config() -> RunConfig | None:
    """The RunConfig the sidebar describes, or None after showing why it is not valid."""
    values = {key: st.session_state.get(key, getattr(DEFAULT_CONFIG, key)) for key in CONFIG_KEYS}
    input_values = st.session_state.get(INPUT_VALUES_KEY)
    if values["signal"] == "csv":
        if input_values is None:
            st.info(
                f"This view reads its input from a CSV file ({int(values['seq_len']):,} steps × "
                f"{int(values['input_dim'])} features as last set). A link or settings file "
                "holds the settings but not the file's numbers: upload the CSV in the sidebar."
            )
            return None
        values["seq_len"] = len(input_values)
        values["input_dim"] = len(input_values[0])
    else:
        input_values = None
    for key in ("input_dim", "hidden_dim", "seq_len", "batch_size", "num_layers", "seed"):
        values[key] = int(values[key])
    for key in ("forget_bias", "chrono_t_max", "input_scale", "frequency"):
        values[key] = float(values[key])
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
