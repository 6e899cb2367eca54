"""Shared UI state: the RunConfig the sidebar's settings make, and cached core calls.

app.py seeds every setting's key (ui.settings.seed_defaults), and pages read them with
`st.session_state.get(KEY, default)`: AppTest runs a page without app.py around it after
`switch_page`, and a live server keeps these keys across pages.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from lstm_core import ConfigError, RunConfig, SimulationResult, simulate
from lstm_core.analysis.metrics import Persistence, lag1_autocorrelation, persistence
from lstm_core.figures.screen import screen_figure, screen_template_layout
from lstm_core.figures.states import persistence_figure, state_figure, state_heatmap
from lstm_core.model.checks import NonFinite, first_nonfinite
from lstm_core.model.settings import RUN_SETTINGS
from lstm_core.model.simulate import result_nbytes
from lstm_core.serving.cache import BudgetError
from ui.caches import RUNS, VIEWS, byte_cached

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


# Runs and views are kept in byte-bounded caches (ui/caches.py) shared by every session: one
# object handed to every rerun and session, never pickled or copied, which is safe because a
# SimulationResult is frozen and its tensors are never written after `simulate` returns
# (figures and metrics only read them). A run's bytes are reserved before it is computed; an
# evicted run is simply recomputed.
@byte_cached(
    RUNS, spinner="Running nn.LSTM and the hand-written cell…", expected_bytes=result_nbytes
)
def cached_simulate(config: RunConfig) -> SimulationResult:
    """`lstm_core.model.simulate`, cached per config (equal configs give identical results)."""
    return simulate(config)


def run_or_stop(config: RunConfig) -> SimulationResult:
    """The cached run for a page; when the server has no room for it now, say so and stop."""
    try:
        return cached_simulate(config)
    except BudgetError as error:
        st.error(
            f"The server has no room for this run right now ({error}). Other sessions' large "
            "runs are using the memory kept for runs: try again shortly, or lower the size."
        )
        st.stop()
        raise  # st.stop() ends the script; this line is never reached


# The Explorer's charts carry their template's layout values for the page's theme
# (lstm_core.figures.screen.screen_template_layout; the per-trace-type defaults would enlarge each
# chart) and go out with st.plotly_chart(theme=None): Streamlit's theme would be merged into
# the figure in the browser at every redraw, a measurable part of a slider move.


# The screen-ready views below (lstm_core.figures.screen: drawn once per chart by plotly.js, arrays
# encoded once) are small (downsampled lines, binned heatmaps) and built once per view. Kept as
# objects, not pickled: a go.Figure taken out of st.cache_data is unpickled through plotly's
# validating constructor on every rerun. Callers only read these figures (st.plotly_chart and
# the exports copy them), never change them.
@byte_cached(VIEWS)
def cached_state_figure(
    config: RunConfig,
    layer: int,
    batch: int,
    units: tuple[int, ...],
    theme: str,
    window: tuple[int, int] | None = None,
) -> go.Figure:
    """`figures.state_figure` of the cached run, per view, window and theme. Read-only."""
    return screen_figure(
        state_figure(cached_simulate(config), layer, batch, units, window=window),
        screen_template_layout(theme),
    )


@byte_cached(VIEWS)
def cached_state_heatmap(config: RunConfig, layer: int, batch: int, theme: str) -> go.Figure:
    """`figures.state_heatmap` of the cached run: every unit, time binned. Read-only."""
    return screen_figure(
        state_heatmap(cached_simulate(config), layer, batch), screen_template_layout(theme)
    )


@byte_cached(VIEWS)
def cached_persistence(config: RunConfig, layer: int, batch: int) -> Persistence:
    """`metrics.persistence` of one layer and batch item of the cached run."""
    result = cached_simulate(config)
    h, c = result.h[layer, batch], result.c[layer, batch]  # (T, H)
    return persistence(h, c, result.gates["f"][layer, batch])


@byte_cached(VIEWS)
def cached_persistence_figure(
    config: RunConfig, layer: int, batch: int, theme: str = "light"
) -> go.Figure:
    """Per-unit lag-1 autocorrelation bars of the cached run; built only when asked for."""
    return screen_figure(persistence_bars(config, layer, batch), screen_template_layout(theme))


def persistence_bars(config: RunConfig, layer: int, batch: int) -> go.Figure:
    """`figures.persistence_figure` of the cached run as built (the export's source)."""
    result = cached_simulate(config)
    h, c = result.h[layer, batch], result.c[layer, batch]  # (T, H)
    return persistence_figure(
        lag1_autocorrelation(h).double().numpy(), lag1_autocorrelation(c).double().numpy()
    )


@byte_cached(VIEWS)
def cached_first_nonfinite(config: RunConfig) -> NonFinite | None:
    """`checks.first_nonfinite` of the cached run: scanned once per config, not per rerun."""
    return first_nonfinite(cached_simulate(config))
