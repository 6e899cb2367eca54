"""LSTM State Explorer: entry point. Page config, the shared sidebar, and the page navigation.

Run with `streamlit run app.py`.
"""

from __future__ import annotations

import streamlit as st

from lstm_core import LIMITS, RunConfig
from lstm_core.analysis.gate_stats import forget_gate_of_bias
from lstm_core.model.config import MAX_STATE_ELEMENTS, OPENING_PRESET, PRESETS
from ui.entry import freeze_startup_objects
from ui.model_source import (
    apply_model_url_once,
    choose_learned_counter,
    decided_by_model,
    load_seeded_preset,
    model_kind,
    model_source_control,
    sync_model_url,
)
from ui.settings import seed_defaults, setting_widget
from ui.share import apply_url_once, config_file_controls, publish_link, sync_url
from ui.sidebar_memory import (
    csv_in_use,
    csv_upload_control,
    forget_bias_moved,
    forget_init_control,
)
from ui.state import decide_screen_theme

freeze_startup_objects()  # after the imports: torch, plotly, pandas
st.set_page_config(page_title="LSTM State Explorer", page_icon="🧠", layout="wide")
seed_defaults()
apply_url_once()  # a shared link's settings, before the widgets exist
apply_model_url_once()
decide_screen_theme()


def _preset_help() -> dict[str, str]:
    """Each starting point's button help, read from its RunConfig."""
    opening, default, snippet = (
        PRESETS[name] for name in (OPENING_PRESET, "PyTorch default", "Canonical example")
    )

    def gate(config: RunConfig) -> str:
        bias = config.forget_bias
        return f"forget gate ≈ σ({bias:g}) = {forget_gate_of_bias(bias):.2f}"

    return {
        OPENING_PRESET: f"{gate(opening)}: C keeps most of itself; input scale "
        f"{opening.input_scale:g} keeps h fluctuating at every size.",
        "PyTorch default": f"PyTorch's own init: {gate(default)}, C halves each step.",
        "Canonical example": (
            f"The seeded PyTorch snippet: manual_seed({snippet.seed}), randn("
            f"{snippet.batch_size}, {snippet.seq_len}, {snippet.input_dim}), "
            f"nn.LSTM({snippet.input_dim}, {snippet.hidden_dim}): seed {snippet.seed}, input "
            f"{snippet.input_dim}, hidden {snippet.hidden_dim}, {snippet.seq_len} steps."
        ),
    }


PRESET_HELP = _preset_help()


def sidebar(no_run_note: str | None) -> None:
    """The run settings and the share controls; on a page that uses no run, its note instead."""
    with st.sidebar:
        if no_run_note is not None:
            st.caption(no_run_note)
            return
        st.header("Run settings")
        model_source_control()
        st.caption("One click to a starting point:")
        for name in (OPENING_PRESET, "PyTorch default", "Canonical example"):
            st.button(
                name,
                key=f"preset_{name}",
                on_click=load_seeded_preset,
                args=(name,),
                use_container_width=True,
                help=PRESET_HELP[name],
            )
        st.button(
            "Learned counter (brackets)",
            key="preset_learned_counter",
            on_click=choose_learned_counter,
            use_container_width=True,
            help="The trained brackets model: its depth unit's C counts the open brackets "
            "and keeps the count, while its h shows a squashed, gated view of it.",
        )
        # Widgets in sidebar order; each one's kind, label, range, step and help are the
        # settings schema's (lstm_core.model.settings).
        from_csv = csv_in_use()
        kind = model_kind()
        decided = decided_by_model(kind)  # shown disabled
        for name in ("input_dim", "hidden_dim", "seq_len"):
            setting_widget(name, from_csv=from_csv, disabled=name in decided)
        with st.expander("More: batch, layers, seed, precision"):
            for name in ("batch_size", "num_layers", "seed", "dtype"):
                setting_widget(name, disabled=name in decided)
        if kind == "seeded":
            forget_init_control()
        setting_widget(
            "forget_bias", on_change=forget_bias_moved, disabled="forget_bias" in decided
        )
        setting_widget("input_scale", disabled="input_scale" in decided)
        setting_widget("signal", disabled="signal" in decided)
        if kind == "seeded":
            csv_upload_control()
        if st.session_state.get("signal") == "sine":
            setting_widget("frequency", disabled="frequency" in decided)
        st.caption(
            f"Caps: input ≤ {LIMITS['input_dim'][1]}, hidden ≤ {LIMITS['hidden_dim'][1]}, "
            f"steps ≤ {LIMITS['seq_len'][1]:,}, layers × batch × steps × hidden ≤ "
            f"{MAX_STATE_ELEMENTS:,}."
        )
        config_file_controls()


playground = st.Page("pages/playground.py", title="Gate playground", icon=":material/tune:")
text_view = st.Page("pages/text.py", title="What the cell learned", icon=":material/code:")
# Pages that use no run from the sidebar's settings: the sidebar says why they are hidden.
KEPT = "The other pages keep them as you left them."
NO_RUN_NOTES = {
    playground.url_path: "The Gate playground sets its gates by hand: it runs no LSTM, so the "
    f"run settings are hidden here. {KEPT}",
    text_view.url_path: "This page runs the trained text model picked on it, over the text "
    f"on it: the run settings do not apply, so they are hidden here. {KEPT}",
}
explorer = st.Page(
    "pages/explorer.py", title="Explorer: h_t and C_t", icon=":material/show_chart:", default=True
)
# Pages that put settings of their own in the link (a trained model's label and unit): the
# browser keeps a history entry for every update, so they write the whole link at once.
OWN_LINK_PAGES = {explorer.url_path, text_view.url_path}
navigation = st.navigation(
    {
        "States": [explorer],
        "Inside the cell": [
            st.Page("pages/gates.py", title="Gate inspector", icon=":material/traffic:"),
            st.Page("pages/step.py", title="Step through", icon=":material/play_circle:"),
            playground,
            st.Page("pages/shapes.py", title="Tensor shapes", icon=":material/straighten:"),
        ],
        "Memory": [
            st.Page("pages/memory.py", title="Memory lab", icon=":material/science:"),
            text_view,
        ],
    }
)
no_run_note = NO_RUN_NOTES.get(navigation.url_path)
sidebar(no_run_note)
sync_url(shown=no_run_note is None)  # the session keeps them for the other pages
sync_model_url(shown=no_run_note is None)
if navigation.url_path not in OWN_LINK_PAGES:
    publish_link()  # a page with a link of its own writes the sidebar's changes with its own
navigation.run()
