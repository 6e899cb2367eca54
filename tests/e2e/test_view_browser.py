"""In a real browser: the time window in the link, the sidebar following an uploaded CSV, the
charts following a dark theme, and the playground without run settings."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from lstm_core import DEFAULT_CONFIG

from .support import (
    CHART_TIMEOUT_MS,
    PageErrors,
    StreamlitServer,
    open_app,
    screenshot,
    url_query,
    wait_until_idle,
)

pytestmark = pytest.mark.browser


def _trace_x(page: Page, chart: int, trace: int) -> list[float]:
    return page.evaluate(
        """([chart, trace]) => Array.from(
            document.querySelectorAll('.js-plotly-plot')[chart]._fullData[trace].x, Number)""",
        [chart, trace],
    )


def test_the_window_comes_from_the_link_and_goes_back_into_it(
    page: Page, page_errors: PageErrors, streamlit_server: StreamlitServer
) -> None:
    open_app(page, streamlit_server, "?seq_len=3000&window_start=1000&window_length=200")
    assert _trace_x(page, 0, 0) == list(range(1000, 1200))
    shapes = page.evaluate(
        "() => document.querySelectorAll('.js-plotly-plot')[1]._fullLayout.shapes"
        ".map(s => [s.x0, s.x1])"
    )
    assert shapes == [[999.5, 1199.5], [999.5, 1199.5]]
    slider = page.get_by_role("slider", name="window start (step)")
    slider.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "() => new URL(location.href).searchParams.get('window_start') === '1001'",
        timeout=CHART_TIMEOUT_MS,
    )
    wait_until_idle(page)
    assert _trace_x(page, 0, 0)[0] == 1001
    assert url_query(page)["window_length"] == "200"
    screenshot(page, "window_from_link")
    assert not page_errors.all(), page_errors.all()


def test_changing_the_trained_model_is_one_step_in_the_browser_history(
    page: Page, page_errors: PageErrors, streamlit_server: StreamlitServer
) -> None:
    open_app(page, streamlit_server, "?model=code&cell_label=column")
    before = page.evaluate("history.length")
    # The sidebar's model= and the Explorer's own cell_label / cell_unit change together.
    page.locator('[data-testid="stSidebar"]').get_by_text("Trained: brackets").click()
    page.wait_for_function(
        "() => new URL(location.href).searchParams.get('cell_label') === 'depth'",
        timeout=CHART_TIMEOUT_MS,
    )
    wait_until_idle(page)
    assert url_query(page)["model"] == "brackets"
    assert page.evaluate("history.length") == before + 1
    assert not page_errors.all(), page_errors.all()


def _backgrounds(page: Page) -> list[str]:
    """Every drawn chart's paper colour as plotly.js resolved it, without spaces."""
    return page.evaluate(
        "() => [...document.querySelectorAll('.js-plotly-plot')]"
        ".map(gd => gd._fullLayout.paper_bgcolor.replace(/ /g, '').toLowerCase())"
    )


@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_every_chart_follows_the_theme(
    browser: Browser,
    browser_context_args: dict[str, Any],
    streamlit_server: StreamlitServer,
    scheme: str,
) -> None:
    context = browser.new_context(**browser_context_args, color_scheme=scheme)
    try:
        page = context.new_page()
        errors = PageErrors().attach(page)
        open_app(page, streamlit_server, "?hidden_dim=20")
        app_background = page.evaluate(
            "() => getComputedStyle(document.querySelector('[data-testid=stApp]')).backgroundColor"
        )
        assert (app_background == "rgb(255, 255, 255)") == (scheme == "light")
        backgrounds = _backgrounds(page)
        assert len(backgrounds) >= 2  # the states and the heatmap overview
        assert set(backgrounds) == {"rgba(0,0,0,0)"}  # the page shows through
        font = page.evaluate(
            "() => document.querySelector('.js-plotly-plot')._fullLayout.font.color"
        )
        assert (font == "#f2f5fa") == (scheme == "dark")
        screenshot(page, f"theme_{scheme}_explorer")
        page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Gate inspector").click()
        page.wait_for_timeout(500)
        wait_until_idle(page)
        page.wait_for_function(
            "() => document.querySelectorAll('.js-plotly-plot').length >= 4",
            timeout=CHART_TIMEOUT_MS,
        )
        # Every page's charts are screen figures for the page's theme, as the Explorer's.
        assert set(_backgrounds(page)) == {"rgba(0,0,0,0)"}
        fonts = page.evaluate(
            "() => [...document.querySelectorAll('.js-plotly-plot')]"
            ".map(gd => gd._fullLayout.font.color)"
        )
        assert {font == "#f2f5fa" for font in fonts} == {scheme == "dark"}
        screenshot(page, f"theme_{scheme}_gates")
        assert not errors.all(), errors.all()
    finally:
        context.close()


def test_the_playground_and_the_text_view_hide_the_run_settings(
    page: Page, page_errors: PageErrors, streamlit_server: StreamlitServer
) -> None:
    open_app(page, streamlit_server)
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.get_by_role("slider", name="forget_bias").count() == 1
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Gate playground").click()
    page.get_by_text("run settings are hidden here").wait_for(timeout=CHART_TIMEOUT_MS)
    wait_until_idle(page)
    assert sidebar.get_by_role("slider", name="forget_bias").count() == 0
    assert sidebar.get_by_text("Run settings", exact=True).count() == 0
    # The text view runs its own trained model: the run settings do not apply there either.
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="What the cell learned").click()
    sidebar.get_by_text("the run settings do not apply").wait_for(timeout=CHART_TIMEOUT_MS)
    assert sidebar.get_by_role("slider", name="forget_bias").count() == 0
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Explorer").click()
    sidebar.get_by_role("slider", name="forget_bias").wait_for(timeout=CHART_TIMEOUT_MS)
    slider = sidebar.get_by_role("slider", name="forget_bias")
    assert float(slider.input_value()) == DEFAULT_CONFIG.forget_bias
    assert not page_errors.all(), page_errors.all()
