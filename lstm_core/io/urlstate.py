"""Run settings in a URL's query string, and in a JSON file: parse, validate, write back.

Names, types and ranges are the settings schema's (lstm_core.model.settings): the run's
settings (the CLI flags with underscores), then the view's time window (window_start,
window_length). A garbage or out-of-range value is dropped
(the default stays) with one warning that says which and why; nothing here raises on user input.

A link or settings file cannot carry a CSV's values: it carries signal=csv and the CSV's shape
(input_dim, seq_len), and whoever opens it is asked to upload the file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from lstm_core.model.config import DEFAULT_CONFIG, SETTING_NAMES, ConfigError, RunConfig
from lstm_core.model.settings import DEFAULTS, LINK_SETTINGS, SETTING

# The URL's parameters: the link's settings from the schema (the run's, then the view's).
URL_KEYS: tuple[str, ...] = tuple(setting.name for setting in LINK_SETTINGS)
# Each URL key's value when the link does not set it.
URL_DEFAULTS: dict[str, Any] = {key: DEFAULTS[key] for key in URL_KEYS}
_SIZE_KEYS = ("num_layers", "batch_size", "seq_len", "hidden_dim")


def _parse_one(key: str, text: str) -> Any:
    """One value from its text, checked alone; raises ValueError with a short reason.

    The schema checks its type and range; a run setting must then also pass RunConfig's own
    rules with every other setting at its default (e.g. chrono_t_max is 0 or above 2).
    """
    value = SETTING[key].parse(text)
    if key in SETTING_NAMES and not (key == "signal" and value == "csv"):
        try:
            DEFAULT_CONFIG.replace(**{key: value})
        except ConfigError as error:
            raise ValueError(str(error).removeprefix(f"{key} ")) from None
    return value


def config_from_query(params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Valid settings found in `params` (query string or JSON), and one warning per bad value.

    Unknown names are ignored. A value may be a string (URL) or a number (JSON); a list (a
    repeated URL parameter) uses its last entry. When the values pass one by one but not
    together (too many states in all), the sizes fall back to the defaults with a warning.
    The window is checked against the largest run only: the page fits it to the run.
    """
    values: dict[str, Any] = {}
    warnings: list[str] = []
    for key in URL_KEYS:
        if key not in params:
            continue
        raw = params[key]
        if isinstance(raw, list | tuple):
            raw = raw[-1] if raw else ""
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            warnings.append(f"{key}: {raw!r} is not a value; kept the default")
            continue
        try:
            values[key] = _parse_one(key, str(raw))
        except ValueError as reason:
            default = URL_DEFAULTS[key]
            warnings.append(f"{key}: {reason}; kept the default {default!r}")
    run_values = {key: value for key, value in values.items() if key in SETTING_NAMES}
    if run_values.get("signal") == "csv":
        run_values["signal"] = DEFAULT_CONFIG.signal  # the CSV's rows come later, by upload
    try:
        DEFAULT_CONFIG.replace(**run_values)
    except ConfigError as error:
        for key in _SIZE_KEYS:
            values.pop(key, None)
        warnings.append(f"{error}; kept the default sizes")
    return values, warnings


def query_from_values(values: Mapping[str, Any]) -> dict[str, str]:
    """The query string for settings (every URL key present in `values`), as text."""
    return {key: SETTING[key].to_text(values[key]) for key in URL_KEYS if key in values}


def config_json(config: RunConfig) -> str:
    """The settings of `config` as an indented JSON document (CSV values included if any)."""
    data = config.to_dict()
    if config.input_values is not None:
        data["input_values"] = [list(row) for row in config.input_values]
    return json.dumps(data, indent=2) + "\n"


def config_from_json(text: str | bytes) -> tuple[dict[str, Any], list[str]]:
    """Settings from a JSON document (as written by `config_json`).

    Raises ValueError with a readable message when the text is not a JSON object; bad values
    inside a good object give warnings, as in `config_from_query`.
    """
    try:
        data = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object {{...}}, got {type(data).__name__}")
    values, warnings = config_from_query(data)
    unknown = sorted(set(data) - set(URL_KEYS) - {"input_values"})
    if unknown:
        warnings.append(f"ignored unknown settings: {', '.join(unknown)}")
    if "input_values" in data:
        warnings.append("CSV input is not restored from JSON; upload the CSV file again")
    return values, warnings


def choice_from_link(key: str, text: str, choices: Sequence[str]) -> str:
    """A page's link value that must be one of `choices`; ValueError naming them otherwise."""
    if text not in choices:
        named = f"one of {', '.join(choices)}" if len(choices) > 1 else f"{choices[0]} (the one)"
        raise ValueError(f"{key}: {text!r} is not {named}")
    return text


def index_from_link(key: str, text: str, count: int) -> int:
    """A page's link value that must be an index 0..count-1 written in ASCII digits."""
    # isdecimal alone admits other scripts' digits, and int() refuses over 4,300 digits.
    if not (text.isascii() and text.isdecimal() and len(text) <= 9) or int(text) >= count:
        raise ValueError(f"{key}: {text!r} is not a number from 0 to {count - 1}")
    return int(text)
