"""Property tests (hypothesis): whatever a user, a file or a link sends, the parsers give a
valid config (or rows) or a clean error, never another exception.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstm_core.io.csv_input import parse_csv
from lstm_core.io.urlstate import URL_KEYS, config_from_query
from lstm_core.model.config import (
    DEFAULT_CONFIG,
    DTYPES,
    LIMITS,
    MAX_STATE_ELEMENTS,
    SETTING_NAMES,
    SIGNALS,
    ConfigError,
    RunConfig,
)
from lstm_core.model.settings import VIEW_SETTINGS

# Modest counts keep the whole file to a few seconds.
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FIELDS = tuple(field.name for field in dataclasses.fields(RunConfig))  # input_values last

# Anything a caller might pass: near-limit and far-off numbers, specials, wrong types.
ANY_VALUE = st.one_of(
    st.integers(min_value=-5, max_value=600),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=8),
    st.sampled_from([*SIGNALS, *DTYPES, "Float32", ""]),
    st.lists(st.integers(), max_size=3),
    st.tuples(st.tuples(st.floats(allow_nan=True))),
    st.binary(max_size=4),
)
INPUT_VALUES = st.one_of(
    st.none(),
    st.lists(
        st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=3).map(tuple),
        max_size=4,
    ).map(tuple),
    ANY_VALUE,
)


def _assert_valid(config: RunConfig) -> None:
    for name, (low, high) in LIMITS.items():
        value = getattr(config, name)
        assert type(value) is int and low <= value <= high
    elements = config.num_layers * config.batch_size * config.seq_len * config.hidden_dim
    assert elements <= MAX_STATE_ELEMENTS
    assert config.signal in SIGNALS and config.dtype in DTYPES
    for name in ("forget_bias", "chrono_t_max", "frequency"):
        assert math.isfinite(getattr(config, name))
    if config.input_values is not None:
        assert len(config.input_values) == config.seq_len
        assert all(len(row) == config.input_dim for row in config.input_values)
    hash(config)  # caches key on it


@FAST
@given(
    st.dictionaries(st.sampled_from(FIELDS[:-1]), ANY_VALUE, max_size=6),
    INPUT_VALUES,
    st.booleans(),
)
def test_run_config_is_valid_or_a_config_error(
    changes: dict[str, Any], input_values: Any, csv: bool
) -> None:
    kwargs = dict(changes)
    if csv:
        kwargs["signal"] = "csv"
        kwargs["input_values"] = input_values
    try:
        config = RunConfig(**kwargs)
    except ConfigError as error:
        assert str(error)  # says what is wrong
        return
    _assert_valid(config)


@FAST
@given(st.dictionaries(st.sampled_from(FIELDS[:-1]), ANY_VALUE, max_size=6))
def test_replace_on_a_valid_config_is_valid_or_a_config_error(changes: dict[str, Any]) -> None:
    try:
        config = DEFAULT_CONFIG.replace(**changes)
    except ConfigError:
        return
    _assert_valid(config)


# Bytes that look like CSV more often than random bytes do.
CSV_CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers().map(str),
    st.sampled_from(["", " ", "nan", "inf", "-inf", "1e400", "x", '"1"', "1,5", "\ufeff1"]),
    st.text(max_size=5),
)
CSV_TEXT = st.lists(
    st.lists(CSV_CELLS, min_size=0, max_size=4).map(",".join), min_size=0, max_size=8
).map("\n".join)


def _assert_rows(rows: Any) -> None:
    assert isinstance(rows, tuple) and 1 <= len(rows) <= LIMITS["seq_len"][1]
    width = len(rows[0])
    assert 1 <= width <= LIMITS["input_dim"][1]
    for row in rows:
        assert isinstance(row, tuple) and len(row) == width
        assert all(isinstance(v, float) and math.isfinite(v) for v in row)
    # What the reader accepts, a config accepts.
    RunConfig(signal="csv", input_dim=width, seq_len=len(rows), input_values=rows)


@FAST
@given(st.one_of(st.binary(max_size=200), CSV_TEXT.map(lambda t: t.encode("utf-8"))))
def test_csv_reader_gives_rows_or_a_value_error(data: bytes) -> None:
    try:
        rows = parse_csv(data)
    except ValueError as error:
        assert str(error)
        return
    _assert_rows(rows)


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
    _assert_valid(DEFAULT_CONFIG.replace(**run))
    for setting in VIEW_SETTINGS:
        assert setting.low <= values.get(setting.name, setting.low) <= setting.high
    # Every URL key given but not taken is explained by a warning naming it.
    for key in set(params) & set(URL_KEYS):
        if key not in values:
            assert any(key in text or "sizes" in text for text in warnings), (key, warnings)
