"""Share a view: the sidebar settings in the URL (st.query_params) and as a JSON file.

app.py calls `apply_url_once()` before the sidebar widgets exist, `sync_url()` after them,
`config_file_controls()` inside the sidebar, and `publish_link()` before the page runs, except
on a page with settings of its own: that page writes the sidebar's changes with its own, by
`write_page_link()`. Everything that changes the URL queues its change with `change_link()`;
`publish_link()` writes the queued changes in one update, because the browser keeps a history
entry for every update, and Back should step from one view to the one before, not through
half-written links. Nothing a run sends after st.stop() reaches the browser, so a page stops
with `stop_page()`, which writes what is queued first.
Parsing lives in `lstm_core.io.urlstate`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import NoReturn

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
_LINK_CHANGES_KEY = "link_changes"  # this run's URL changes, written by publish_link()


def change_link(changes: Mapping[str, str | None]) -> None:
    """Queue URL changes for this run's `publish_link()`: a value sets its key, None removes it."""
    st.session_state.setdefault(_LINK_CHANGES_KEY, {}).update(changes)


def publish_link() -> None:
    """Write the run's queued URL changes in one update (none when the URL already holds them)."""
    changes: dict[str, str | None] = st.session_state.pop(_LINK_CHANGES_KEY, {})
    current = st.query_params.to_dict()
    wanted = {key: value for key, value in current.items() if changes.get(key, value) is not None}
    wanted.update({key: value for key, value in changes.items() if value is not None})
    if wanted != current:
        st.query_params.from_dict(wanted)


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
    change_link({key: wanted.get(key) for key in URL_KEYS})


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
    """Put a page's own settings in the URL with the run's other changes, in one update, and
    remember them as written by the page."""
    change_link(values)
    publish_link()
    st.session_state[_written_key(page)] = dict(values)


def stop_page() -> NoReturn:
    """st.stop(), after writing the run's URL changes (nothing sent after st.stop() arrives)."""
    publish_link()
    st.stop()
    raise AssertionError("st.stop() returned")  # it raises; this line is never reached


def no_room_and_stop(error: Exception) -> NoReturn:
    """Say the server's memory for runs is taken just now (`error`: the BudgetError), and stop."""
    st.error(
        f"The server has no room for this run right now ({error}). Other sessions' large "
        "runs are using the memory kept for runs: try again shortly, or lower the size."
    )
    stop_page()
