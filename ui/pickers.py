"""The view pickers of the "Inside the cell" pages: layer, batch item and units."""

from __future__ import annotations

import streamlit as st

from lstm_core import RunConfig
from lstm_core.figures.colors import UNIT_COLORS
from lstm_core.figures.gates import MAX_GATE_UNITS

# The layer pickers' help, on every page.
LAYER_HELP = "Layer k reads layer k-1's h."


def view_pickers(config: RunConfig, prefix: str, default_units: int) -> tuple[int, int, list[int]]:
    """Layer, batch item and units pickers (keys `<prefix>_layer|batch|units`)."""
    columns = st.columns([1, 1, 3])
    layer = columns[0].selectbox(
        "layer",
        range(config.num_layers),
        key=f"{prefix}_layer",
        help=LAYER_HELP,
    )
    batch = columns[1].selectbox(
        "batch item",
        range(config.batch_size),
        key=f"{prefix}_batch",
        help="Which of the B independent sequences to show.",
    )
    key = f"{prefix}_units"
    chosen = st.session_state.get(key)
    if chosen is not None and any(u >= config.hidden_dim for u in chosen):
        # The sidebar shrank hidden_dim: drop units that no longer exist before the widget.
        st.session_state[key] = [u for u in chosen if u < config.hidden_dim]
    units = columns[2].multiselect(
        "units",
        range(config.hidden_dim),
        default=list(range(min(config.hidden_dim, default_units))),
        key=key,
        max_selections=MAX_GATE_UNITS,
        help=f"Up to {MAX_GATE_UNITS} units, each in its own colour (units 0 to "
        f"{len(UNIT_COLORS) - 1} keep theirs on every page).",
    )
    return int(layer), int(batch), [int(u) for u in units]
