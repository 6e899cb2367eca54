"""app.py (AppTest): the app and every page render with no exception; controls change the figure."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import APP, APPTEST_TIMEOUT, chart_specs, decode
from streamlit.testing.v1 import AppTest

from lstm_core.model.config import OPENING_PRESET
from lstm_core.serving.cache import BudgetError


def run_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    return at.run()


def test_explorer_opens_on_a_persisting_configuration() -> None:
    at = run_app()
    assert not at.exception
    assert not at.error
    assert at.success and at.success[0].value.startswith("C persists")
    metrics = {m.label: m.value for m in at.metric}
    # memory time is the primary figure: C at the cap of a 100-step run, h measured below it
    assert metrics["memory time C (steps)"] == "≥ 10"
    assert float(metrics["memory time h (steps)"]) < 10
    assert float(metrics["change per step, h"]) >= 2 * float(metrics["change per step, C"])
    assert "lag-1 autocorr. C" in metrics  # kept as a secondary figure
    assert not at.info  # the default-init note shows only at a forget gate near 0.5
    specs = chart_specs(at)
    states = specs[0]
    # 8 units, each drawn in the h panel and the C panel
    assert len(states["data"]) == 16
    assert {trace["name"] for trace in states["data"]} == {f"unit {u}" for u in range(8)}


def test_pytorch_default_preset_says_nothing_persists() -> None:
    at = run_app()
    at.button(key="preset_PyTorch default").click().run()
    assert not at.exception
    assert at.session_state["forget_bias"] == 0.0
    assert any("does NOT show C persisting" in w.value for w in at.warning)
    assert any("Why nothing persists" in i.value for i in at.info)
    # one click to the opening preset's init at this size, and the claim holds
    at.button(key="explorer_apply_fix").click().run()
    assert not at.exception
    assert at.session_state["forget_bias"] == 5.0 and at.session_state["input_scale"] == 2.0
    assert at.success and at.success[0].value.startswith("C persists")
    assert not at.info


def test_canonical_preset_sets_the_brief_sizes() -> None:
    at = run_app()
    # The buttons' help reads each starting point's settings.
    assert "nn.LSTM(3, 2): seed 0, input 3, hidden 2, 4 steps" in (
        at.button(key="preset_Canonical example").help
    )
    assert "σ(5) = 0.99" in at.button(key=f"preset_{OPENING_PRESET}").help
    at.button(key="preset_Canonical example").click().run()
    assert not at.exception
    # forget bias 0, yet its measured mean forget gate is far from 0.5: no default-init note
    assert not any("Why nothing persists" in i.value for i in at.info)
    assert any("too short" in w.value for w in at.warning)
    specs = chart_specs(at)
    assert len(specs[0]["data"]) == 4  # 2 units x 2 panels
    assert len(decode(specs[0]["data"][0]["y"])) == 4


def test_changing_a_sidebar_control_changes_the_figure() -> None:
    at = run_app()
    before = decode(chart_specs(at)[0]["data"][1]["y"]).copy()
    at.slider(key="forget_bias").set_value(0.0).run()
    assert not at.exception
    after = decode(chart_specs(at)[0]["data"][1]["y"])
    assert before.shape == after.shape and not np.allclose(before, after)
    # AppTest reruns only the page after an interaction, so the next sidebar
    # value goes in through session_state, as the widget would put it.
    at.session_state["seq_len"] = 40
    at.run()
    assert len(decode(chart_specs(at)[0]["data"][0]["y"])) == 40


def test_bad_settings_give_a_clear_error_and_the_app_goes_on() -> None:
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.session_state["hidden_dim"] = 512
    at.session_state["seq_len"] = 10_000
    at.session_state["batch_size"] = 8
    at.run()
    assert not at.exception
    assert at.error and "above the cap" in at.error[0].value


def test_many_units_get_a_picker() -> None:
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.session_state["hidden_dim"] = 40
    at.run()
    assert not at.exception
    picker = at.multiselect(key="explorer_units")
    assert len(picker.value) == 8
    picker.set_value([3, 39]).run()
    assert {t["name"] for t in chart_specs(at)[0]["data"]} == {"unit 3", "unit 39"}


def test_a_run_the_server_has_no_room_for_says_so_and_the_page_stops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ui.runs

    def full(config: object) -> None:
        raise BudgetError("other runs hold 3.0 GB of 3.0 GB")

    monkeypatch.setattr(ui.runs, "cached_simulate", full)
    at = run_app()
    assert not at.exception
    assert [error.value for error in at.error] == [
        "The server has no room for this run right now (other runs hold 3.0 GB of 3.0 GB). "
        "Other sessions' large runs are using the memory kept for runs: try again shortly, or "
        "lower the size."
    ]
    assert not at.get("plotly_chart")
