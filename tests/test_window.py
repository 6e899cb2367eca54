"""The Explorer's time window (ui.window, lstm_core.model.config.clamp_window): full resolution
inside it, the whole run marking it, the link carrying it, and no new LSTM run when it moves."""

from __future__ import annotations

import pytest
from conftest import APP, APPTEST_TIMEOUT, chart_specs, decode
from streamlit.testing.v1 import AppTest

import ui.runs
from lstm_core import RunConfig, simulate
from lstm_core.figures.states import mark_window, state_figure, state_heatmap
from lstm_core.model.config import VIEW_DEFAULTS, clamp_window


@pytest.mark.parametrize(
    ("start", "length", "steps", "window"),
    [
        (0, 10_000, 100, (0, 100)),  # the default: the whole run, whatever its length
        (50, 20, 100, (50, 70)),
        (95, 20, 100, (80, 100)),  # moved back to end inside the run, length kept
        (7, 0, 100, (7, 8)),
        (-3, 5, 4, (0, 4)),
    ],
)
def test_the_window_is_fitted_to_the_run(
    start: int, length: int, steps: int, window: tuple[int, int]
) -> None:
    assert clamp_window(start, length, steps) == window


def test_the_window_figure_draws_every_step_of_the_window_only() -> None:
    result = simulate(RunConfig(hidden_dim=3, seq_len=3000))
    figure = state_figure(result, window=(1000, 1200))
    for trace in figure.data:
        assert list(trace.x) == list(range(1000, 1200))  # every step: full resolution
    assert tuple(figure.layout.xaxis.range) == (1000, 1199)
    # The hover's C_{t-1} at the window's first step is the run's step 999.
    assert figure.data[1].customdata[0][1] == pytest.approx(float(result.c[0, 0, 999, 0]))
    marked = mark_window(state_figure(result), 1000, 1200)
    assert {(s.xref, s.x0, s.x1) for s in marked.layout.shapes} == {
        ("x", 999.5, 1199.5),
        ("x2", 999.5, 1199.5),
    }
    assert {s.layer for s in marked.layout.shapes} == {"below"}  # behind the lines


def test_the_window_mark_shows_on_an_opaque_heatmap() -> None:
    result = simulate(RunConfig(hidden_dim=20, seq_len=3000))
    marked = mark_window(state_heatmap(result), 1000, 1200)
    assert len(marked.layout.shapes) == 2  # the h and the C panel
    for shape in marked.layout.shapes:
        assert shape.layer == "above" and shape.line.width > 0  # not hidden under the cells


def _app(**settings: object) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    for key, value in settings.items():
        at.session_state[key] = value
    return at


def test_the_explorer_zooms_into_a_window_and_marks_it_on_the_whole_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    at = _app(hidden_dim=4, seq_len=3000, window_start=1000, window_length=200).run()
    assert not at.exception
    window, overview = chart_specs(at)[:2]
    for trace in window["data"]:
        assert decode(trace["x"]).tolist() == list(range(1000, 1200))
    assert window["layout"]["xaxis"]["range"] == [1000, 1199]
    assert {(s["x0"], s["x1"]) for s in overview["layout"]["shapes"]} == {(999.5, 1199.5)}
    assert decode(overview["data"][0]["x"]).max() == 2999  # the overview is the whole run
    assert at.query_params["window_start"] == "1000"
    assert at.query_params["window_length"] == "200"
    # Moving the window redraws from the cached run: the LSTM does not run again.
    runs: list[RunConfig] = []
    monkeypatch.setattr(ui.runs, "simulate", lambda config: runs.append(config))
    at.slider(key="explorer_window_start").set_value(2500).run()
    assert not at.exception and runs == []
    assert at.session_state["window_start"] == 2500
    window, overview = chart_specs(at)[:2]
    assert decode(window["data"][0]["x"]).tolist() == list(range(2500, 2700))
    assert {(s["x0"], s["x1"]) for s in overview["layout"]["shapes"]} == {(2499.5, 2699.5)}
    # A window as long as the run is the whole run again: one figure, no band.
    at.number_input(key="explorer_window_length").set_value(3000).run()
    assert at.session_state["window_length"] == VIEW_DEFAULTS["window_length"]
    assert runs == []
    specs = chart_specs(at)
    assert "shapes" not in specs[0]["layout"] or not specs[0]["layout"]["shapes"]
    assert decode(specs[0]["data"][0]["x"]).max() == 2999


def test_a_window_beyond_a_shorter_run_is_fitted_and_many_units_mark_the_heatmap() -> None:
    at = _app(hidden_dim=40, seq_len=500, window_start=9000, window_length=100).run()
    assert not at.exception
    assert at.slider(key="explorer_window_start").value == 400  # the run's last 100 steps
    window, heatmap = chart_specs(at)[:2]
    assert decode(window["data"][0]["x"]).tolist() == list(range(400, 500))
    assert [t["type"] for t in heatmap["data"]] == ["heatmap", "heatmap"]
    assert {(s["x0"], s["x1"]) for s in heatmap["layout"]["shapes"]} == {(399.5, 499.5)}
