"""pages/explorer.py (AppTest): a non-finite run reported; values beyond the caps and runs beyond
the budget refused in one sentence; every export offered.
"""

from __future__ import annotations

import math

import pytest
from conftest import APP, APPTEST_TIMEOUT
from streamlit.testing.v1 import AppTest

from lstm_core import DEFAULT_CONFIG, LIMITS, RunConfig
from lstm_core.io.reproduce import reproduce_script
from lstm_core.model.settings import SETTING
from lstm_core.model.simulate import result_nbytes
from ui.caches import RUNS


def _explorer(**state: object) -> AppTest:
    """The Explorer page alone (no sidebar widgets to clamp values), with session values."""
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.switch_page("pages/explorer.py")
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def test_explorer_reports_a_non_finite_run_instead_of_drawing_it() -> None:
    rows = tuple((1e300, -1e300, 0.5) for _ in range(6))  # overflows float32
    at = _explorer(signal="csv", input_dim=3, seq_len=6, input_values=rows)
    assert not at.exception
    assert len(at.error) == 1 and "not finite" in at.error[0].value
    assert "input x holds inf" in at.error[0].value
    assert not at.get("plotly_chart")  # nothing drawn
    # The session goes on: back to a sane signal, the chart is drawn again.
    at.session_state["signal"] = "randn"
    at.session_state["input_values"] = None
    at.run()
    assert not at.exception and not at.error
    assert at.get("plotly_chart")


TOO_BIG = [(name, high + 1) for name, (_, high) in LIMITS.items()] + [
    ("input_dim", 0),
    ("seed", SETTING["seed"].high + 1),
    ("seed", -1),
    ("forget_bias", SETTING["forget_bias"].high + 0.5),
    ("forget_bias", math.nan),
    ("frequency", 0.75),
    ("chrono_t_max", 1.5),
    ("dtype", "float16"),
    ("signal", "white noise"),
]


@pytest.mark.parametrize(("key", "value"), TOO_BIG)
def test_a_value_beyond_the_caps_gives_one_clear_error(key: str, value: object) -> None:
    at = _explorer(**{key: value})
    assert not at.exception
    assert len(at.error) == 1
    assert at.error[0].value.startswith("These settings cannot run:")
    assert key in at.error[0].value
    assert not at.get("plotly_chart")


def test_a_run_larger_than_the_run_budget_is_refused_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = RunConfig(seq_len=200, hidden_dim=64)
    monkeypatch.setattr(RUNS, "budget", result_nbytes(config) - 1)
    at = _explorer(seq_len=200, hidden_dim=64)
    assert not at.exception
    assert len(at.error) == 1
    assert at.error[0].value.startswith("These settings cannot run here: the run needs")
    assert "Lower the steps, units, batch or layers" in at.error[0].value
    assert not at.get("plotly_chart")
    monkeypatch.setattr(RUNS, "budget", 2 * result_nbytes(config))  # room for it: drawn
    at = _explorer(seq_len=200, hidden_dim=64)
    assert not at.exception and not at.error
    assert at.get("plotly_chart")


def test_explorer_offers_every_export() -> None:
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT).run()
    assert not at.exception
    assert not at.code  # the script is shown on request (it loads a heavy highlighter)
    at.toggle(key="explorer_reproduce_show_script").set_value(True).run()
    labels = {button.proto.label for button in at.get("download_button")}
    assert {"PNG 1×", "PNG 2×", "PNG 4×", "SVG", "PDF"} <= labels
    assert {"⬇ Data as CSV", "⬇ Data as Parquet", "⬇ Download the script"} <= labels
    scripts = [code.value for code in at.code if code.value.startswith('"""Rebuild')]
    assert scripts == [reproduce_script(DEFAULT_CONFIG).rstrip("\n")]  # st.code drops the last \n
    specs = [el.proto for el in at.get("plotly_chart")]
    assert any("lstm_states_I4_H8_T100_seed0" in spec.config for spec in specs)


def test_explorer_without_a_browser_explains_and_keeps_going(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT).run()
    assert not at.exception
    at.toggle(key="explorer_show_persistence").set_value(True).run()
    assert not at.exception
    hints = [info.value for info in at.info if "apt-get install -y chromium" in info.value]
    assert len(hints) == 2  # one per figure with downloads
    labels = {button.proto.label for button in at.get("download_button")}
    assert "PNG 2×" not in labels and "⬇ Data as Parquet" in labels
    assert len(at.get("plotly_chart")) >= 1


def test_a_run_of_one_step_shows_its_point_and_says_n_a_for_what_it_cannot_measure() -> None:
    from conftest import chart_specs

    at = _explorer(seq_len=1, hidden_dim=2, input_dim=1)
    assert not at.exception
    metrics = {metric.label: metric.value for metric in at.metric}
    for label in ("change per step, C", "change per step, h", "lag-1 autocorr. C"):
        assert metrics[label] == "n/a"
    states = chart_specs(at)[0]
    # One step is one point: drawn as a marker, since a line through one point shows nothing.
    assert {trace["mode"] for trace in states["data"]} == {"lines+markers"}


def _says_why_the_opening_preset(at: AppTest) -> bool:
    return any(caption.value.startswith("Why the opening preset") for caption in at.caption)


def test_why_the_opening_preset_is_said_where_it_explains_the_screen() -> None:
    assert _says_why_the_opening_preset(_explorer(seq_len=100))  # the preset's own init
    # Another init, and the fix offered is a longer run: the preset explains nothing here.
    other = _explorer(seq_len=10, forget_bias=3.0)
    assert other.button(key="explorer_apply_fix").label.startswith("Run ")
    assert not _says_why_the_opening_preset(other)
