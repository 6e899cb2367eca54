"""lstm_core.io.urlstate: settings in the URL and in a JSON file: round trip, garbage values, and
the app applying them."""

from __future__ import annotations

import io
from typing import Any

import pytest
from conftest import FAST, assert_valid_config
from hypothesis import given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from lstm_core import DEFAULT_CONFIG, RunConfig
from lstm_core.io.urlstate import (
    URL_KEYS,
    choice_from_link,
    config_from_json,
    config_from_query,
    config_json,
    index_from_link,
    query_from_values,
)
from lstm_core.model.config import (
    DTYPES,
    SETTING_NAMES,
    SIGNALS,
)
from lstm_core.model.settings import VIEW_SETTINGS
from tests.conftest import APP, APPTEST_TIMEOUT

CUSTOM = RunConfig(
    input_dim=7,
    hidden_dim=33,
    seq_len=250,
    batch_size=3,
    num_layers=2,
    seed=123456,
    forget_bias=-1.25,
    chrono_t_max=0.0,
    signal="sine",
    frequency=0.0125,
    dtype="float64",
)


def test_round_trip_through_the_query_string() -> None:
    window = {"window_start": 200, "window_length": 300}
    query = query_from_values({**CUSTOM.to_dict(), **window})
    assert set(query) == set(URL_KEYS)
    assert all(isinstance(text, str) for text in query.values())
    values, warnings = config_from_query(query)
    assert warnings == []
    assert {key: values.pop(key) for key in window} == window
    assert RunConfig(**values) == CUSTOM


def test_the_window_is_a_view_setting_checked_against_the_longest_run() -> None:
    values, warnings = config_from_query({"window_start": "9999", "window_length": "1"})
    assert values == {"window_start": 9999, "window_length": 1} and warnings == []
    values, warnings = config_from_query({"window_start": "-1", "window_length": "0"})
    assert values == {}
    assert any("window_start: -1 is outside 0-9999" in text for text in warnings)
    assert any(
        "window_length: 0 is outside 1-10000; kept the default 10000" in text for text in warnings
    )


def test_a_link_says_a_csv_was_used_and_carries_its_shape() -> None:
    values, warnings = config_from_query({"signal": "csv", "input_dim": "2", "seq_len": "12"})
    assert values == {"signal": "csv", "input_dim": 2, "seq_len": 12} and warnings == []


def test_round_trip_with_chrono() -> None:
    config = RunConfig(chrono_t_max=37.5, seed=9)
    values, warnings = config_from_query(query_from_values(config.to_dict()))
    assert warnings == []
    assert DEFAULT_CONFIG.replace(**values) == config


def test_round_trip_through_json() -> None:
    values, warnings = config_from_json(config_json(CUSTOM))
    assert warnings == []
    assert RunConfig(**values) == CUSTOM


@pytest.mark.parametrize(
    ("key", "text", "reason"),
    [
        ("hidden_dim", "abc", "not a whole number"),
        ("hidden_dim", "0", "outside 1-512"),
        ("hidden_dim", "513", "outside 1-512"),
        ("seq_len", "1e3", "not a whole number"),
        ("seed", "-1", "outside"),
        ("forget_bias", "nan", "outside"),
        ("forget_bias", "11", "outside"),
        ("frequency", "0.7", "outside"),
        ("chrono_t_max", "1.5", "above 2"),
        ("signal", "chirp", "not one of"),
        ("dtype", "float16", "not one of"),
    ],
)
def test_garbage_falls_back_with_a_warning(key: str, text: str, reason: str) -> None:
    values, warnings = config_from_query({key: text, "seed": "5"} if key != "seed" else {key: text})
    assert key not in values
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{key}: ") and reason in warnings[0]
    assert "kept the default" in warnings[0]
    if key != "seed":
        assert values == {"seed": 5}


def test_values_fine_alone_but_too_big_together_keep_default_sizes() -> None:
    values, warnings = config_from_query(
        {"seq_len": "10000", "hidden_dim": "512", "batch_size": "8", "seed": "3"}
    )
    assert values == {"seed": 3}
    assert len(warnings) == 1 and "cap" in warnings[0]


def test_unknown_keys_ignored_and_lists_take_the_last() -> None:
    values, warnings = config_from_query({"utm_source": "x", "seed": ["1", "2"]})
    assert values == {"seed": 2}
    assert warnings == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (b"\xff\xfe\x00", "not valid JSON"),
    ],
)
def test_bad_json_is_a_clear_error(text: str | bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        config_from_json(text)


def test_json_values_of_the_wrong_kind_warn() -> None:
    values, warnings = config_from_json('{"hidden_dim": "x", "seed": 4, "colour": "red"}')
    assert values == {"seed": 4}
    assert any(w.startswith("hidden_dim:") for w in warnings)
    assert any("colour" in w for w in warnings)


def test_app_applies_the_url_and_keeps_it_in_sync() -> None:
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.query_params.update({"hidden_dim": "12", "seq_len": "40", "seed": "7", "dtype": "float64"})
    at.run()
    assert not at.exception
    assert at.session_state["hidden_dim"] == 12
    assert at.session_state["seq_len"] == 40
    assert at.session_state["seed"] == 7
    assert at.session_state["dtype"] == "float64"
    assert not [w for w in at.warning if "Link setting" in w.value]
    # Every setting is written back into the URL, untouched ones included.
    assert at.query_params["hidden_dim"] == "12"
    assert at.query_params["forget_bias"] == repr(DEFAULT_CONFIG.forget_bias)
    assert set(URL_KEYS) <= set(at.query_params)


def test_sidebar_values_reach_the_url() -> None:
    # (AppTest reruns only the page after the first run, so the change is made before it.)
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.session_state["seed"] = 8
    at.session_state["forget_bias"] = 1.5
    at.run()
    assert not at.exception
    assert at.query_params["seed"] == "8"
    assert at.query_params["forget_bias"] == "1.5"
    values, warnings = config_from_query(at.query_params)
    assert warnings == [] and values["seed"] == 8 and values["forget_bias"] == 1.5


def test_app_warns_on_garbage_in_the_url_and_still_draws() -> None:
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.query_params.update({"hidden_dim": "lots", "signal": "chirp", "seed": "3"})
    at.run()
    assert not at.exception
    link_warnings = [w.value for w in at.warning if "Link setting ignored" in w.value]
    assert len(link_warnings) == 2
    assert any("hidden_dim" in w for w in link_warnings)
    assert at.session_state["hidden_dim"] == DEFAULT_CONFIG.hidden_dim
    assert at.session_state["signal"] == DEFAULT_CONFIG.signal
    assert at.session_state["seed"] == 3
    assert len(at.get("plotly_chart")) >= 1
    assert at.query_params["hidden_dim"] == str(DEFAULT_CONFIG.hidden_dim)


def test_settings_file_upload_applies_values_and_reports_bad_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ui.share

    class Uploaded(io.BytesIO):
        name = "settings.json"

    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.run()
    assert [b for b in at.sidebar.get("download_button") if b.proto.label.endswith("JSON")]
    # AppTest cannot drive st.file_uploader: call its on_change callback with a stand-in file
    # and a plain dict standing in for st.session_state.
    state: dict = {"config_upload": Uploaded(config_json(CUSTOM).encode())}
    monkeypatch.setattr(ui.share.st, "session_state", state)
    ui.share.load_uploaded_config()
    assert state["hidden_dim"] == CUSTOM.hidden_dim and state["dtype"] == "float64"
    assert state["config_upload_messages"][0][0] == "success"
    state = {"config_upload": Uploaded(b"{oops")}
    monkeypatch.setattr(ui.share.st, "session_state", state)
    ui.share.load_uploaded_config()
    level, text = state["config_upload_messages"][0]
    assert level == "error" and "not valid JSON" in text and "Nothing was changed" in text
    assert "hidden_dim" not in state


QUERY_VALUES = st.one_of(
    st.text(max_size=12),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from([*SIGNALS, *DTYPES, "1e3", " 8 ", "0x10", "١٢", "3.0", "-0", "True"]),
    st.lists(st.text(max_size=6), max_size=3),
)


@FAST
@given(
    st.dictionaries(
        st.one_of(st.sampled_from(URL_KEYS), st.text(max_size=6)), QUERY_VALUES, max_size=8
    )
)
def test_url_reader_gives_a_valid_config_and_warnings(params: dict[str, Any]) -> None:
    values, warnings = config_from_query(params)
    assert set(values) <= set(URL_KEYS)
    assert all(isinstance(text, str) and text for text in warnings)
    run = {key: value for key, value in values.items() if key in SETTING_NAMES}
    if run.get("signal") == "csv":  # the rows come by upload: the sizes must fit any signal
        run["signal"] = DEFAULT_CONFIG.signal
    assert_valid_config(DEFAULT_CONFIG.replace(**run))
    for setting in VIEW_SETTINGS:
        assert setting.low <= values.get(setting.name, setting.low) <= setting.high
    # Every URL key given but not taken is explained by a warning naming it.
    for key in set(params) & set(URL_KEYS):
        if key not in values:
            assert any(key in text or "sizes" in text for text in warnings), (key, warnings)


def test_a_page_s_link_values_are_checked_with_a_reason() -> None:
    assert choice_from_link("cell_label", "column", ["in_string", "column"]) == "column"
    with pytest.raises(ValueError, match="cell_label: 'col' is not one of in_string, column"):
        choice_from_link("cell_label", "col", ["in_string", "column"])
    assert index_from_link("cell_unit", "007", 512) == 7
    assert index_from_link("cell_unit", "511", 512) == 511
    for bad in ("512", "-1", " 3", "3.0", "", "\u00b2", "\u0663", "9" * 5000):
        with pytest.raises(ValueError, match="is not a number from 0 to 511"):
            index_from_link("cell_unit", bad, 512)
