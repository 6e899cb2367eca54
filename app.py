"""LSTM State Explorer: entry point. Page config, the shared sidebar, and the page navigation.

Run with `streamlit run app.py`.
"""

from __future__ import annotations

import streamlit as st

from lstm_core import LIMITS
from lstm_core.model.config import MAX_STATE_ELEMENTS, OPENING_PRESET
from ui.entry import freeze_startup_objects
from ui.settings import load_preset, seed_defaults, setting_widget
from ui.share import apply_url_once, config_file_controls, sync_url
from ui.sidebar_memory import (
    csv_in_use,
    csv_upload_control,
    forget_bias_moved,
    forget_init_control,
)

freeze_startup_objects()  # after the imports: torch, plotly, pandas
st.set_page_config(page_title="LSTM State Explorer", page_icon="🧠", layout="wide")
seed_defaults()
apply_url_once()  # a shared link's settings, before the widgets exist


def sidebar(run_settings: bool) -> None:
    """The run settings and the share controls; on a page that uses no run, a note instead."""
    with st.sidebar:
        if not run_settings:
            st.caption(
                "The Gate playground sets its gates by hand: it runs no LSTM, so the run "
                "settings are hidden here. The other pages keep them as you left them."
            )
            return
        st.header("Run settings")
        st.caption("One click to a starting point:")
        for name in (OPENING_PRESET, "PyTorch default", "Canonical example"):
            st.button(
                name,
                key=f"preset_{name}",
                on_click=load_preset,
                args=(name,),
                use_container_width=True,
                help={
                    OPENING_PRESET: "Forget gate ≈ 0.98: C keeps most of itself; input scale "
                    "2 keeps h fluctuating at every size.",
                    "PyTorch default": "PyTorch's own init: forget gate ≈ 0.5, C halves each step.",
                    "Canonical example": (
                        "The seeded PyTorch snippet: manual_seed(0), randn(1, 4, 3), "
                        "nn.LSTM(3, 2): seed 0, input 3, hidden 2, 4 steps."
                    ),
                }[name],
            )
        # Widgets in sidebar order; each one's kind, label, range, step and help are the
        # settings schema's (lstm_core.model.settings).
        from_csv = csv_in_use()
        for name in ("input_dim", "hidden_dim", "seq_len"):
            setting_widget(name, from_csv=from_csv)
        with st.expander("More: batch, layers, seed, precision"):
            for name in ("batch_size", "num_layers", "seed", "dtype"):
                setting_widget(name)
        forget_init_control()
        setting_widget("forget_bias", on_change=forget_bias_moved)
        setting_widget("input_scale")
        setting_widget("signal")
        csv_upload_control()
        if st.session_state.get("signal") == "sine":
            setting_widget("frequency")
        st.caption(
            f"Caps: input ≤ {LIMITS['input_dim'][1]}, hidden ≤ {LIMITS['hidden_dim'][1]}, "
            f"steps ≤ {LIMITS['seq_len'][1]:,}, layers × batch × steps × hidden ≤ "
            f"{MAX_STATE_ELEMENTS:,}."
        )
        config_file_controls()


playground = st.Page("pages/playground.py", title="Gate playground", icon=":material/tune:")
navigation = st.navigation(
    {
        "States": [
            st.Page(
                "pages/explorer.py",
                title="Explorer: h_t and C_t",
                icon=":material/show_chart:",
                default=True,
            ),
        ],
        "Inside the cell": [
            st.Page("pages/gates.py", title="Gate inspector", icon=":material/traffic:"),
            st.Page("pages/step.py", title="Step through", icon=":material/play_circle:"),
            playground,
            st.Page("pages/shapes.py", title="Tensor shapes", icon=":material/straighten:"),
        ],
        "Memory": [
            st.Page("pages/memory.py", title="Memory lab", icon=":material/science:"),
            st.Page("pages/text.py", title="What the cell learned", icon=":material/code:"),
        ],
    }
)
sidebar(run_settings=navigation.url_path != playground.url_path)
sync_url()
navigation.run()
