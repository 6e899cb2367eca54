"""Shared UI state: the sidebar's keys, the RunConfig they make, and cached core calls.

app.py seeds every key with `st.session_state.setdefault`, and pages read them with
`st.session_state.get(KEY, default)`: AppTest runs a page without app.py around it after
`switch_page`, and a live server keeps these keys across pages.
"""

from __future__ import annotations

import streamlit as st

from lstm_core import DEFAULT_CONFIG, ConfigError, RunConfig, SimulationResult, simulate

# Sidebar keys are the RunConfig field names (and the URL's query parameter names).
CONFIG_KEYS: tuple[str, ...] = (
    "input_dim",
    "hidden_dim",
    "seq_len",
    "batch_size",
    "num_layers",
    "seed",
    "forget_bias",
    "chrono_t_max",
    "signal",
    "frequency",
    "dtype",
)
# Holds the parsed CSV rows (a tuple of tuples) while signal == "csv".
INPUT_VALUES_KEY = "input_values"


def seed_defaults() -> None:
    """Give every sidebar key its default once per session, and keep it across pages."""
    for key in CONFIG_KEYS:
        # Re-saving a present key keeps it across a page switch: Streamlit otherwise drops the
        # sidebar's widget state then, and every control falls back to its minimum.
        st.session_state[key] = st.session_state.get(key, getattr(DEFAULT_CONFIG, key))


def current_config() -> RunConfig | None:
    """The RunConfig the sidebar describes, or None after showing why it is not valid."""
    values = {key: st.session_state.get(key, getattr(DEFAULT_CONFIG, key)) for key in CONFIG_KEYS}
    input_values = st.session_state.get(INPUT_VALUES_KEY)
    if values["signal"] == "csv":
        if input_values is None:
            st.info("Upload a CSV file in the sidebar to use your own input.")
            return None
        values["seq_len"] = len(input_values)
        values["input_dim"] = len(input_values[0])
    else:
        input_values = None
    for key in ("input_dim", "hidden_dim", "seq_len", "batch_size", "num_layers", "seed"):
        values[key] = int(values[key])
    for key in ("forget_bias", "chrono_t_max", "frequency"):
        values[key] = float(values[key])
    try:
        return RunConfig(**values, input_values=input_values)
    except ConfigError as error:
        st.error(f"These settings cannot run: {error}.")
        return None


@st.cache_data(max_entries=16, ttl=3600, show_spinner="Running nn.LSTM and the hand-written cell…")
def cached_simulate(config: RunConfig) -> SimulationResult:
    """`lstm_core.simulate`, cached per config (equal configs give identical results)."""
    return simulate(config)
