"""LSTM State Explorer: entry point. Page config, the shared sidebar, and the page navigation.

Run with `streamlit run app.py`.
"""

from __future__ import annotations

import streamlit as st

from lstm_core import LIMITS, PRESETS, SIGNALS
from lstm_core.model.config import (
    FORGET_BIAS_RANGE,
    INPUT_SCALE_RANGE,
    MAX_STATE_ELEMENTS,
    OPENING_PRESET,
)
from lstm_core.model.signals import SIGNAL_HELP
from ui.entry import freeze_startup_objects
from ui.share import apply_url_once, config_file_controls, sync_url
from ui.sidebar_memory import (
    csv_in_use,
    csv_upload_control,
    forget_bias_moved,
    forget_init_control,
)
from ui.state import CONFIG_KEYS, seed_defaults

freeze_startup_objects()  # after the imports: torch, plotly, pandas
st.set_page_config(page_title="LSTM State Explorer", page_icon="🧠", layout="wide")
seed_defaults()
apply_url_once()  # a shared link's settings, before the widgets exist


def _apply_preset(name: str) -> None:
    """Load a preset into the sidebar (runs as a button callback, before the widgets exist)."""
    preset = PRESETS[name]
    for key in CONFIG_KEYS:
        st.session_state[key] = getattr(preset, key)


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
                on_click=_apply_preset,
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
        from_csv = csv_in_use()
        follows = " Follows the uploaded CSV." if from_csv else ""
        low, high = LIMITS["input_dim"]
        st.slider(
            "input_dim (I)",
            low,
            high,
            key="input_dim",
            disabled=from_csv,
            help="Features per time step." + follows,
        )
        low, high = LIMITS["hidden_dim"]
        st.number_input(
            "hidden_dim (H)",
            low,
            high,
            step=1,
            key="hidden_dim",
            help=f"Units per layer: the size of h_t and C_t ({low}-{high}).",
        )
        low, high = LIMITS["seq_len"]
        st.number_input(
            "seq_len (T)",
            low,
            high,
            step=10,
            key="seq_len",
            disabled=from_csv,
            help=f"Time steps ({low}-{high})." + follows,
        )
        with st.expander("More: batch, layers, seed, precision"):
            low, high = LIMITS["batch_size"]
            st.slider("batch_size (B)", low, high, key="batch_size")
            low, high = LIMITS["num_layers"]
            st.slider(
                "num_layers (L)", low, high, key="num_layers", help="Layer k reads layer k-1's h."
            )
            st.number_input(
                "seed",
                0,
                2**31 - 1,
                step=1,
                key="seed",
                help="Seeds a private generator: the input noise first, then every weight.",
            )
            st.radio("dtype", ("float32", "float64"), key="dtype", horizontal=True)
        forget_init_control()
        st.slider(
            "forget_bias",
            FORGET_BIAS_RANGE[0],
            FORGET_BIAS_RANGE[1],
            step=0.5,
            key="forget_bias",
            on_change=forget_bias_moved,
            help=(
                "Added to the forget gate's bias. 0 = PyTorch's default (f ≈ 0.5); "
                "+1 = Keras / Jozefowicz et al. 2015; +3 makes C a slow, persistent state."
            ),
        )
        st.number_input(
            "input_scale",
            INPUT_SCALE_RANGE[0],
            INPUT_SCALE_RANGE[1],
            step=0.5,
            key="input_scale",
            help=(
                "How strongly the input drives the gates. s > 0: layer 0's input weights are "
                "drawn U(−s/√I, s/√I) (PyTorch's draw × s·√(H/I)), the same drive at every "
                "hidden size. 0 = PyTorch's own U(−1/√H, 1/√H): at large H a few inputs barely "
                "move the units, and h turns as slow as C."
            ),
        )
        st.selectbox(
            "signal",
            SIGNALS,
            key="signal",
            help="\n".join(f"- **{name}**: {text}" for name, text in SIGNAL_HELP.items()),
        )
        csv_upload_control()
        if st.session_state.get("signal") == "sine":
            st.slider("frequency (cycles per step)", 0.0, 0.5, step=0.005, key="frequency")
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
