"""lstm_core.model.config (RunConfig), property tests (hypothesis): whatever a user or a file
sends, RunConfig and replace give a valid config or a ConfigError, never another exception.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from conftest import FAST, assert_valid_config
from hypothesis import given
from hypothesis import strategies as st

from lstm_core.model.config import (
    DEFAULT_CONFIG,
    DTYPES,
    SIGNALS,
    ConfigError,
    RunConfig,
)

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
    assert_valid_config(config)


@FAST
@given(st.dictionaries(st.sampled_from(FIELDS[:-1]), ANY_VALUE, max_size=6))
def test_replace_on_a_valid_config_is_valid_or_a_config_error(changes: dict[str, Any]) -> None:
    try:
        config = DEFAULT_CONFIG.replace(**changes)
    except ConfigError:
        return
    assert_valid_config(config)
