"""Screen figures (lstm_core.figures.screen): the same picture as the builders', in a form plotly.js
draws once per chart."""

from __future__ import annotations

import json
from collections.abc import Iterator

import kaleido
import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from streamlit.testing.v1 import AppTest

from lstm_core import RunConfig, SimulationResult, simulate
from lstm_core.figures.screen import (
    PLAIN_LIST_MAX_VALUES,
    SharedList,
    layout_with_template,
    screen_figure,
    screen_template_layout,
)
from lstm_core.figures.states import persistence_figure, state_figure, state_heatmap
from lstm_core.io.image import EXPORT_TEMPLATE
from tests.conftest import APP, APPTEST_TIMEOUT, chart_specs, decode

SCREEN_TEMPLATE_LAYOUT = screen_template_layout("light")

TEMPLATE_LAYOUT = pio.templates[EXPORT_TEMPLATE].layout.to_plotly_json()


def test_template_values_fill_in_where_the_layout_sets_none() -> None:
    layout = {
        "xaxis": {"title": {"text": "t"}, "gridcolor": "red"},
        "xaxis2": {},
        "yaxis": {},
        "annotations": [{"text": "a"}, {"text": "b", "arrowcolor": "blue"}],
        "font": {"size": 11},
        "template": {"layout": {"font": {"size": 99}}},
    }
    template = {
        "xaxis": {"gridcolor": "grey", "title": {"standoff": 15}},
        "yaxis": {"zeroline": False},
        "annotationdefaults": {"arrowcolor": "black"},
        "font": {"size": 12, "color": "navy"},
        "polar": {"bgcolor": "white"},
        "hovermode": "closest",
    }
    out = layout_with_template(layout, template)
    # An axis line only where the layout itself asked for one (as plotly.js decides).
    assert out["xaxis"] == {
        "title": {"text": "t", "standoff": 15},
        "gridcolor": "red",
        "showline": False,
    }
    assert out["xaxis2"] == {"gridcolor": "grey", "title": {"standoff": 15}, "showline": False}
    assert out["yaxis"] == {"zeroline": False, "showline": False}
    assert [a.get("arrowcolor") for a in out["annotations"]] == ["black", "blue"]
    assert out["font"] == {"size": 11, "color": "navy"}
    assert out["hovermode"] == "closest"
    assert "polar" not in out and "template" not in out  # no polar subplot; no template
    assert layout["xaxis2"] == {} and "template" in layout  # the input is left as it was
    # An axis only a trace names gets the template too, as in plotly.js.
    with_y2 = layout_with_template({"xaxis": {}}, template, axes=["xaxis", "yaxis2"])
    assert with_y2["yaxis2"] == {"zeroline": False, "showline": False}


@pytest.fixture(scope="module")
def default_run() -> SimulationResult:
    return simulate(RunConfig())


def test_small_figures_go_out_as_plain_lists_with_the_same_numbers(
    default_run: SimulationResult,
) -> None:
    figure = state_figure(default_run, 0, 0, list(range(8)))
    screen = screen_figure(figure, TEMPLATE_LAYOUT)
    spec = json.loads(pio.to_json(screen, validate=False))
    assert spec["layout"]["template"] is None  # not Streamlit's default template either
    for built, sent in zip(figure.data, spec["data"], strict=True):
        assert isinstance(sent["y"], list) and isinstance(sent["customdata"][0], list)
        np.testing.assert_array_equal(np.asarray(sent["x"]), np.asarray(built.x))
        for name in ("y", "customdata"):  # the float32 values exactly, as float64
            np.testing.assert_array_equal(
                np.asarray(sent[name]), np.asarray(built[name]).astype(np.float64)
            )
    assert spec["layout"]["xaxis2"]["gridcolor"] == TEMPLATE_LAYOUT["xaxis"]["gridcolor"]


def test_figures_past_the_list_limit_stay_typed_arrays() -> None:
    def sent_y(values: int) -> object:
        steps = values // 2  # x and y
        y = np.linspace(-1, 1, steps, dtype=np.float32)
        figure = go.Figure(go.Scatter(x=np.arange(steps, dtype=np.int32), y=y))
        spec = json.loads(pio.to_json(screen_figure(figure, TEMPLATE_LAYOUT), validate=False))
        np.testing.assert_array_equal(decode(spec["data"][0]["y"]), y)
        return spec["data"][0]["y"]

    assert isinstance(sent_y(PLAIN_LIST_MAX_VALUES), list)
    assert set(sent_y(PLAIN_LIST_MAX_VALUES + 2)) == {"dtype", "bdata"}


def test_datarevision_changes_exactly_when_the_data_does(default_run: SimulationResult) -> None:
    def revision(result: SimulationResult, units: list[int]) -> str:
        return screen_figure(state_figure(result, 0, 0, units), TEMPLATE_LAYOUT).layout.datarevision

    assert revision(default_run, [0, 1]) == revision(default_run, [0, 1])
    assert revision(default_run, [0, 1]) != revision(default_run, [0, 2])
    other = simulate(RunConfig(forget_bias=2.5))
    assert revision(default_run, [0, 1]) != revision(other, [0, 1])


@pytest.fixture
def one_kaleido_browser() -> Iterator[None]:
    """One kaleido browser for every full_figure_for_development call of a test (without it,
    each call starts and closes a Chromium of its own); closed again afterwards."""
    kaleido.start_sync_server(silence_warnings=True)
    try:
        yield
    finally:
        kaleido.stop_sync_server(silence_warnings=True)


@pytest.mark.usefixtures("one_kaleido_browser")
def test_plotly_js_resolves_the_screen_layout_as_it_resolves_the_template(
    default_run: SimulationResult,
) -> None:
    """plotly.js's full layout (every default applied, computed by kaleido's browser) of a
    builder's figure drawn with the template, and of its screen figure, are the same."""

    def full_layout(figure: go.Figure) -> dict[str, object]:
        if figure.to_dict()["layout"].get("template") is None:  # kaleido needs an object
            figure = go.Figure(figure)
            figure.layout.template = go.layout.Template()  # empty: adds nothing
        layout = figure.full_figure_for_development(warn=False).layout.to_plotly_json()
        for key in ("template", "datarevision"):
            layout.pop(key, None)
        return json.loads(json.dumps(layout))

    for figure in (
        state_figure(default_run, 0, 0, [0, 1, 2]),
        state_heatmap(simulate(RunConfig(hidden_dim=20, seq_len=50))),
        persistence_figure(np.linspace(-1, 1, 8), np.linspace(0, 1, 8)),
    ):
        screen = screen_figure(figure, SCREEN_TEMPLATE_LAYOUT)
        # The screen's data on both sides (its floats are rounded: autoranges follow them).
        templated = go.Figure(
            {"data": screen.to_dict()["data"], "layout": figure.to_dict()["layout"]}
        ).update_layout(template={"layout": SCREEN_TEMPLATE_LAYOUT})
        assert full_layout(screen) == full_layout(templated)


def test_explorer_charts_carry_no_template_and_a_datarevision() -> None:
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT).run()
    assert not at.exception
    lines = chart_specs(at)[0]
    assert lines["layout"]["template"] is None
    assert isinstance(lines["layout"]["datarevision"], str) and lines["layout"]["datarevision"]
    assert isinstance(lines["data"][0]["y"], list)  # the default view: plain lists
    at.run()  # the same view again: the same revision, so plotly.js redraws nothing
    assert chart_specs(at)[0]["layout"]["datarevision"] == lines["layout"]["datarevision"]


def test_a_screen_figures_shared_lists_cannot_be_changed(default_run: SimulationResult) -> None:
    screen = screen_figure(state_figure(default_run, 0, 0, [0, 1]), TEMPLATE_LAYOUT)
    y = screen.data[0].y
    copied = screen.to_dict()["data"][0]["y"]
    assert isinstance(copied, SharedList) and copied is screen.to_dict()["data"][0]["y"]
    before = list(copied)
    for change in (
        lambda: copied.__setitem__(0, 99.0),
        lambda: copied.__delitem__(0),
        lambda: copied.append(1.0),
        lambda: copied.extend([1.0]),
        lambda: copied.insert(0, 1.0),
        lambda: copied.pop(),
        lambda: copied.remove(before[0]),
        lambda: copied.clear(),
        lambda: copied.sort(),
        lambda: copied.reverse(),
    ):
        with pytest.raises(TypeError, match="never change them"):
            change()
    with pytest.raises(TypeError, match="never change them"):
        copied += [1.0]
    rows = screen.to_dict()["data"][0]["customdata"]
    with pytest.raises(TypeError, match="never change them"):
        rows[0][0] = 99.0
    assert list(copied) == before and list(y) == before
    assert json.loads(pio.to_json(screen, validate=False))["data"][0]["y"] == before
