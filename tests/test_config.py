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
from lstm_core.model.settings import RUN_SETTINGS

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


def test_a_file_name_tag_names_every_setting_that_is_not_its_default() -> None:
    assert DEFAULT_CONFIG.label() == "I4_H8_T100_seed0"
    changed = DEFAULT_CONFIG.replace(
        num_layers=2, forget_bias=0.0, input_scale=0.5, signal="sine", frequency=0.1
    )
    assert changed.label() == "I4_H8_T100_seed0_L2_fb0_scale0.5_sine_f0.1"
    # The frequency only matters to the sine; the batch and the precision are named too.
    assert DEFAULT_CONFIG.replace(frequency=0.1, batch_size=3, dtype="float64").label() == (
        "I4_H8_T100_seed0_B3_float64"
    )
    # Two configs that differ in any setting get different tags (the seed included).
    configs = [DEFAULT_CONFIG.replace(chrono_t_max=50.0), DEFAULT_CONFIG.replace(seed=1)]
    assert len({config.label() for config in [DEFAULT_CONFIG, *configs]}) == 3


def test_every_setting_changed_alone_changes_the_file_name_tag() -> None:
    for setting in RUN_SETTINGS:
        if setting.kind == "choice":
            values = [value for value in setting.choices if value not in ("csv", setting.default)]
        else:
            values = [value for value in setting.range if value != setting.default]
        config = DEFAULT_CONFIG.replace(signal="sine") if setting.name == "frequency" else None
        base = config or DEFAULT_CONFIG
        assert base.replace(**{setting.name: values[0]}).label() != base.label(), setting.name


def test_settings_that_differ_past_six_digits_get_different_tags() -> None:
    near = DEFAULT_CONFIG.replace(forget_bias=1.5000001)
    assert near.label() != DEFAULT_CONFIG.replace(forget_bias=1.5).label()
    assert near.label() == "I4_H8_T100_seed0_fb1.5000001"


def test_a_figures_name_tells_its_layer_and_batch_item_when_there_are_several() -> None:
    assert DEFAULT_CONFIG.view_label(0, 0) == "I4_H8_T100_seed0"
    shapes = DEFAULT_CONFIG.replace(num_layers=2, batch_size=2)
    assert shapes.view_label(1, 0) == "I4_H8_T100_seed0_B2_L2_l1_b0"
    assert shapes.view_label(0, 1) != shapes.view_label(0, 0)
