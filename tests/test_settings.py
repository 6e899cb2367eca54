"""lstm_core.model.settings: the settings schema: every interface derived from it agrees with it,
field by field."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
from conftest import APP, APPTEST_TIMEOUT, ROOT
from streamlit.testing.v1 import AppTest

from lstm_core.cli.common import CliError, config_from_args, flag
from lstm_core.cli.main import build_parser
from lstm_core.io.urlstate import config_from_query, query_from_values
from lstm_core.model.config import DEFAULT_CONFIG, PRESETS, SETTING_NAMES, ConfigError, RunConfig
from lstm_core.model.settings import LINK_SETTINGS, RUN_SETTINGS, SETTING, SETTINGS, Setting

NUMERIC = [s for s in SETTINGS if s.kind != "choice"]
CHOICE = [s for s in SETTINGS if s.kind == "choice"]


def _inside(setting: Setting) -> list[Any]:
    """Allowed values other than the default: the ends of the range, or the other choices."""
    if setting.kind == "choice":
        values = list(setting.choices)
    elif setting.kind == "int":
        values = [setting.low, setting.high, (setting.low + setting.high) // 2]
    else:
        values = [setting.low, setting.high, (setting.low + setting.high) / 2]
    return [value for value in values if value != setting.default]


def _outside(setting: Setting) -> list[Any]:
    """Values just beyond the range, or a value that is not a choice."""
    if setting.kind == "choice":
        return ["not-a-choice"]
    margin = 1 if setting.kind == "int" else 0.5
    return [setting.low - margin, setting.high + margin]


def _cli(name: str, value: Any) -> RunConfig:
    """The RunConfig that `run --name value` builds."""
    return config_from_args(build_parser().parse_args(["run", flag(name), str(value)]))


def test_run_config_fields_are_the_run_settings_with_the_schema_defaults() -> None:
    fields = [f for f in dataclasses.fields(RunConfig) if f.name != "input_values"]
    assert [f.name for f in fields] == [s.name for s in RUN_SETTINGS] == list(SETTING_NAMES)
    assert {f.name: f.default for f in fields} == {s.name: s.default for s in RUN_SETTINGS}


@pytest.mark.parametrize("setting", LINK_SETTINGS, ids=lambda s: s.name)
def test_every_setting_round_trips_url_to_values_to_url(setting: Setting) -> None:
    for value in _inside(setting):
        query = query_from_values({setting.name: value})
        values, warnings = config_from_query(query)
        assert warnings == [] and values == {setting.name: value}
        assert type(values[setting.name]) is type(setting.default)
        assert query_from_values(values) == query


@pytest.mark.parametrize("setting", RUN_SETTINGS, ids=lambda s: s.name)
def test_allowed_values_pass_runconfig_the_url_and_the_cli_alike(setting: Setting) -> None:
    # signal=csv needs the file's rows (lstm_core.io.csv_input), so it is not a value alone.
    for value in [v for v in _inside(setting) if v != "csv"]:
        expected = DEFAULT_CONFIG.replace(**{setting.name: value})
        assert _cli(setting.name, value) == expected
        values, _ = config_from_query({setting.name: str(value)})
        assert DEFAULT_CONFIG.replace(**values) == expected


@pytest.mark.parametrize("setting", RUN_SETTINGS, ids=lambda s: s.name)
def test_every_range_is_enforced_by_runconfig_the_url_and_the_cli(setting: Setting) -> None:
    for value in _outside(setting):
        with pytest.raises(ConfigError, match=setting.name):
            DEFAULT_CONFIG.replace(**{setting.name: value})
        values, warnings = config_from_query({setting.name: str(value)})
        assert values == {}
        assert len(warnings) == 1 and warnings[0].startswith(f"{setting.name}: ")
        with pytest.raises(CliError):
            _cli(setting.name, value)


@pytest.mark.parametrize(
    "setting", [s for s in SETTINGS if s.group == "view"], ids=lambda s: s.name
)
def test_every_view_range_is_enforced_by_the_url(setting: Setting) -> None:
    for value in _outside(setting):
        values, warnings = config_from_query({setting.name: str(value)})
        assert values == {} and len(warnings) == 1 and warnings[0].startswith(setting.name)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_are_valid_configs_the_url_and_the_cli_carry(name: str) -> None:
    preset = PRESETS[name]
    assert preset == RunConfig(**preset.to_dict())
    values, warnings = config_from_query(query_from_values(preset.to_dict()))
    assert warnings == [] and DEFAULT_CONFIG.replace(**values) == preset
    assert config_from_args(build_parser().parse_args(["run", "--preset", name])) == preset


def test_the_sidebar_draws_every_widget_from_the_schema() -> None:
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.session_state["signal"] = "sine"  # the frequency slider shows only for a sine
    at.run()
    assert not at.exception
    by_kind = {"slider": at.slider, "number": at.number_input, "radio": at.radio}
    by_kind["select"] = at.selectbox
    drawn = [s for s in SETTINGS if s.widget is not None]
    assert {s.name for s in SETTINGS if s.widget is None} == {
        "chrono_t_max",
        "window_start",
        "window_length",
    }
    for setting in drawn:
        widget = by_kind[setting.widget](key=setting.name)
        assert widget.label == setting.label
        assert widget.value == setting.cast(at.session_state[setting.name])
        if setting.kind == "choice":
            assert tuple(widget.options) == setting.choices
        else:
            assert (widget.min, widget.max) == setting.range
        assert (widget.help or "") == setting.text(setting.help)


def test_the_readme_names_every_run_flag() -> None:
    scripting = (ROOT / "README.md").read_text().split("## Scripting", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"--[a-z][a-z-]*", scripting))
    assert [s.name for s in RUN_SETTINGS if flag(s.name) not in named] == []


def test_settings_that_follow_an_uploaded_csv_are_disabled_and_say_so() -> None:
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.session_state["signal"] = "csv"
    at.session_state["input_values"] = ((1.0, 2.0), (3.0, 4.0), (5.0, 6.0))
    at.run()
    assert not at.exception
    widgets = {"input_dim": at.slider(key="input_dim"), "seq_len": at.number_input(key="seq_len")}
    widgets["hidden_dim"] = at.number_input(key="hidden_dim")
    for name, widget in widgets.items():
        follows = SETTING[name].follows_csv
        assert widget.disabled is follows
        assert widget.help.endswith("Follows the uploaded CSV.") is follows
