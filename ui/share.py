"""Share a view: the sidebar settings in the URL (st.query_params) and as a JSON file.

app.py calls `apply_url_once()` before the sidebar widgets exist, `sync_url()` after them,
and `config_file_controls()` inside the sidebar. Parsing lives in `lstm_core.io.urlstate`.
"""

from __future__ import annotations

import json

import streamlit as st

from lstm_core.io.urlstate import (
    URL_DEFAULTS,
    URL_KEYS,
    config_from_json,
    config_from_query,
    query_from_values,
)
from ui.settings import store_settings

_APPLIED_KEY = "url_state_applied"  # set once the URL has been read this session
_UPLOAD_KEY = "config_upload"
_UPLOAD_MESSAGES_KEY = "config_upload_messages"  # (level, text) pairs from the last upload


def apply_url_once() -> None:
    """Load settings from the URL into session_state on a session's first run; warn on bad ones.

    Must run before the sidebar widgets are made (a widget's value cannot be set after).
    """
    if st.session_state.get(_APPLIED_KEY):
        return
    st.session_state[_APPLIED_KEY] = True
    values, warnings = config_from_query(st.query_params.to_dict())
    store_settings(values)
    for text in warnings:
        link_warning(text)


def sync_url(shown: bool = True) -> None:
    """Write every setting into the URL, so a copied link restores this view; or, when the
    page runs no LSTM (not `shown`), take them out, so its link holds only its own settings.

    With CSV input the link carries signal=csv and the CSV's shape, not its values: whoever
    opens it is asked to upload the file (see `ui.state.current_config`).
    """
    current = {key: st.session_state.get(key, URL_DEFAULTS[key]) for key in URL_KEYS}
    wanted = query_from_values(current) if shown else {}
    for key in URL_KEYS:
        if key in wanted and st.query_params.get(key) != wanted[key]:
            st.query_params[key] = wanted[key]
        elif key not in wanted and key in st.query_params:
            del st.query_params[key]


def load_uploaded_config() -> None:
    """on_change of the JSON uploader: runs before the script, so it may set widget values."""
    uploaded = st.session_state.get(_UPLOAD_KEY)
    if uploaded is None:
        return
    try:
        values, warnings = config_from_json(uploaded.getvalue())
    except ValueError as error:
        st.session_state[_UPLOAD_MESSAGES_KEY] = [
            ("error", f"{uploaded.name} cannot be loaded: {error}. Nothing was changed.")
        ]
        return
    store_settings(values)
    messages = [("success", f"Loaded {len(values)} settings from {uploaded.name}.")]
    messages += [("warning", f"{text}.") for text in warnings]
    st.session_state[_UPLOAD_MESSAGES_KEY] = messages


def config_file_controls() -> None:
    """Sidebar: download the settings as JSON, and load them back from such a file."""
    with st.expander("Share: link and settings file"):
        st.caption(
            "The address bar holds every setting: copy the link to share this view. "
            "Or save the settings as a file and load it later."
            + (
                " Neither holds a CSV's values: whoever opens them is asked for the same file."
                if st.session_state.get("signal") == "csv"
                else ""
            )
        )
        settings = {key: st.session_state.get(key, URL_DEFAULTS[key]) for key in URL_KEYS}
        st.download_button(
            "⬇ Settings as JSON",
            data=json.dumps(settings, indent=2) + "\n",
            file_name="lstm_explorer_settings.json",
            mime="application/json",
            key="config_download",
            help="Every sidebar setting; load it back below or pass the values as CLI flags.",
            on_click="ignore",
            width="stretch",
        )
        st.file_uploader(
            "Load settings (JSON)",
            type=["json"],
            key=_UPLOAD_KEY,
            on_change=load_uploaded_config,
            help="A file saved with the button above. Bad values keep their defaults.",
        )
        for level, text in st.session_state.get(_UPLOAD_MESSAGES_KEY, []):
            getattr(st, level)(text)


def link_warning(reason: str) -> None:
    """The one way a page says a link's value was not used: why, under a link icon."""
    st.warning(f"Link setting ignored: {reason}.", icon="🔗")


def _written_key(page: str) -> str:
    return f"page_link_written_{page}"


def page_link_changes(page: str, keys: tuple[str, ...]) -> dict[str, str]:
    """A page's own link settings (`keys`) that the URL holds and the page did not write there
    itself: all of them on the page's first run, later only what the user typed into the
    address bar or reached with the browser's Back and Forward."""
    written = st.session_state.get(_written_key(page), {})
    return {
        key: st.query_params[key]
        for key in keys
        if key in st.query_params and st.query_params[key] != written.get(key)
    }


def write_page_link(page: str, values: dict[str, str]) -> None:
    """Put a page's own settings in the URL, and remember them as written by the page."""
    for key, text in values.items():
        if st.query_params.get(key) != text:
            st.query_params[key] = text
    st.session_state[_written_key(page)] = dict(values)
