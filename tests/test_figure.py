"""ui/figure.py: every page shows its figures one way: screen-ready for the page's theme, kept
in the view cache, named for the toolbar, with a download menu."""

from __future__ import annotations

import ast
import json

import pytest
from conftest import APP, APPTEST_TIMEOUT, ROOT, chart_specs
from streamlit.testing.v1 import AppTest

from ui.caches import VIEWS

# Each page at a size that draws all of its figures, and how many of them have downloads.
PAGES: dict[str, tuple[dict[str, object], int]] = {
    "explorer": ({"seq_len": 60, "hidden_dim": 20}, 1),  # the overview has none
    "gates": ({"seq_len": 40, "hidden_dim": 6}, 4),
    "step": ({"seq_len": 30}, 1),
    "playground": ({}, 2),
    "memory": ({"seq_len": 40, "hidden_dim": 8}, 3),
}


def open_page(page: str, settings: dict[str, object]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    for key, value in settings.items():
        at.session_state[key] = value
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("page", PAGES)
def test_every_chart_is_a_screen_figure_with_a_file_name_and_downloads(page: str) -> None:
    settings, with_downloads = PAGES[page]
    at = open_page(page, settings)
    charts = at.get("plotly_chart")
    assert charts
    for chart in charts:
        spec = json.loads(chart.proto.spec)
        assert spec["layout"]["template"] is None  # the theme's values are in the layout
        assert spec["layout"]["datarevision"]
        assert spec["layout"]["paper_bgcolor"] == "rgba(0,0,0,0)"
        assert chart.proto.theme == ""  # theme=None: Streamlit merges no theme in
        config = json.loads(chart.proto.config)
        assert config["toImageButtonOptions"]["filename"]
    menus = [b for b in at.get("download_button") if b.proto.label == "PNG 2×"]  # one a menu
    assert len(menus) == with_downloads


def test_a_rerun_serves_the_cached_screen_figures() -> None:
    at = open_page("gates", {"seq_len": 40, "hidden_dim": 6})
    first = chart_specs(at)
    entries = len(VIEWS)
    at.run()
    assert chart_specs(at) == first
    assert len(VIEWS) == entries  # nothing built again


def test_the_dark_theme_draws_light_text_on_the_page_background(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ui.figure

    light = open_page("gates", {"seq_len": 40, "hidden_dim": 6})
    monkeypatch.setattr(ui.figure, "screen_theme", lambda: "dark")
    dark = open_page("gates", {"seq_len": 40, "hidden_dim": 6})
    light_font = chart_specs(light)[0]["layout"]["font"]["color"]
    dark_font = chart_specs(dark)[0]["layout"]["font"]["color"]
    assert light_font != dark_font
    assert chart_specs(dark)[0]["data"] == chart_specs(light)[0]["data"]


DRAWING = ("plotly_chart", "figure_downloads")


def test_pages_show_figures_only_through_show_figure() -> None:
    """No page draws a chart itself: each would miss a piece of the figure path."""
    files = [ROOT / "app.py", *sorted((ROOT / "pages").rglob("*.py"))]
    files += [path for path in sorted((ROOT / "ui").rglob("*.py")) if path.name != "figure.py"]
    direct = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in files
        for node in ast.walk(ast.parse(path.read_text()))
        if (isinstance(node, ast.Attribute) and node.attr in DRAWING)
        or (isinstance(node, ast.Name) and node.id in DRAWING)
    ]
    assert not direct, f"charts drawn outside ui/figure.py: {direct}"


def _theme_script() -> None:
    import streamlit as st

    from ui.state import decide_screen_theme, screen_theme

    decide_screen_theme()
    st.text(screen_theme())


@pytest.mark.parametrize(
    ("server", "browser", "first", "later"),
    [
        ("dark", "light", "dark", "light"),  # `--theme.base dark`, a browser in light mode
        ("light", "dark", "light", "dark"),
        (None, "dark", "dark", "dark"),  # no theme set: the browser's report from the start
        (None, None, "light", "light"),  # nothing reported (AppTest's default)
    ],
)
def test_a_theme_the_server_sets_colours_the_first_run_then_the_reported_one_rules(
    server: str | None, browser: str | None, first: str, later: str
) -> None:
    """Streamlit's first report in a session is the browser's colour scheme, not the theme
    the server sets; from the second run on the report is right (it follows the settings menu)."""
    from streamlit import config

    previous = config.get_option("theme.base")
    config.set_option("theme.base", server)
    try:
        at = AppTest.from_function(_theme_script, default_timeout=APPTEST_TIMEOUT)
        if browser is not None:
            at.context["theme"] = browser
        assert at.run().text[0].value == first
        assert at.run().text[0].value == later
    finally:
        config.set_option("theme.base", previous)


def test_a_dark_server_theme_draws_the_first_page_load_dark() -> None:
    from streamlit import config

    from lstm_core.figures.screen import screen_template_layout

    previous = config.get_option("theme.base")
    config.set_option("theme.base", "dark")
    try:
        at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
        at.context["theme"] = "light"
        at.session_state["seq_len"] = 30
        at.session_state["hidden_dim"] = 4
        font = chart_specs(at.run())[0]["layout"]["font"]["color"]
    finally:
        config.set_option("theme.base", previous)
    assert font == screen_template_layout("dark")["font"]["color"]
