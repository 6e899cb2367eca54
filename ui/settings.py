"""The sidebar's settings in st.session_state: defaults, the one writer, presets, widgets.

Every setting is a key of st.session_state named as in the settings schema
(lstm_core.model.settings), which also gives each widget's kind, label, range, step and help.
Callbacks (presets, the link, the settings file, a suggested fix) write settings only through
`store_settings`; they run before the widgets exist, as Streamlit requires.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from lstm_core.model.config import PRESETS
from lstm_core.model.settings import RUN_SETTINGS, SETTING, SETTINGS, Setting

_FOLLOWS_CSV = " Follows the uploaded CSV."


def seed_defaults() -> None:
    """Give every setting (run and view) its default once per session, and keep it across pages."""
    for setting in SETTINGS:
        # Re-saving a present key keeps it across a page switch: Streamlit otherwise drops the
        # sidebar's widget state then, and every control falls back to its minimum.
        st.session_state[setting.name] = st.session_state.get(setting.name, setting.default)


def store_settings(values: Mapping[str, Any]) -> None:
    """Write settings (schema names) into st.session_state, each as its setting's type."""
    for name, value in values.items():
        st.session_state[name] = SETTING[name].cast(value)


def load_preset(name: str) -> None:
    """Load the preset `name` (lstm_core.model.config.PRESETS) into every run setting.

    A button callback: it runs before the widgets exist.
    """
    preset = PRESETS[name]
    store_settings({setting.name: getattr(preset, setting.name) for setting in RUN_SETTINGS})


def widget_help(setting: Setting, from_csv: bool = False) -> str | None:
    """The widget's help text, saying so when an uploaded CSV sets the value."""
    text = setting.text(setting.help) + (_FOLLOWS_CSV if from_csv and setting.follows_csv else "")
    return text or None


def setting_widget(
    name: str,
    *,
    from_csv: bool = False,
    on_change: Callable[[], None] | None = None,
    disabled: bool = False,
) -> None:
    """Draw the sidebar widget of setting `name`, keyed by its name, as the schema describes.

    `from_csv`: an uploaded CSV is in use, so a setting that follows it is disabled.
    `disabled`: the setting does not apply (a loaded model's file decides it).
    """
    setting = SETTING[name]
    common: dict[str, Any] = {
        "key": setting.name,
        "help": widget_help(setting, from_csv),
        "on_change": on_change,
        "disabled": disabled or (from_csv and setting.follows_csv),
    }
    if setting.widget == "slider":
        st.slider(setting.label, setting.low, setting.high, step=setting.step, **common)
    elif setting.widget == "number":
        st.number_input(setting.label, setting.low, setting.high, step=setting.step, **common)
    elif setting.widget == "radio":
        st.radio(setting.label, setting.choices, horizontal=True, **common)
    elif setting.widget == "select":
        st.selectbox(setting.label, setting.choices, **common)
    else:
        raise ValueError(f"setting {name} has no sidebar widget")
