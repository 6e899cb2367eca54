"""Every page in a real browser: it loads with no page error, shows its title and its charts;
a slider move redraws the chart.

Pages are found by following the sidebar navigation links, so new pages are covered without
editing this file.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from lstm_core import DEFAULT_CONFIG

from .support import (
    CHART_TIMEOUT_MS,
    PageErrors,
    StreamlitServer,
    open_app,
    screenshot,
    trace_y,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

NAV_LINKS = '[data-testid="stSidebarNav"] a[data-testid="stSidebarNavLink"]'


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "page"


def _check_current_page(page: Page, label: str) -> list[str]:
    """Problems on the page now shown: no title, an exception box, or a chart left undrawn."""
    problems = []
    main = page.locator('[data-testid="stMain"]')
    try:
        main.locator("h1").first.wait_for(timeout=CHART_TIMEOUT_MS)
    except PlaywrightTimeoutError:
        problems.append(f"{label}: no title (h1)")
    exceptions = main.locator('[data-testid="stException"]')
    if exceptions.count():
        problems.append(f"{label}: exception shown: {exceptions.first.inner_text()[:300]}")
    # Every visible chart container must come to hold a drawn plotly graph: laid out, with
    # traces or (a diagram) shapes / annotations. Plotly draws after the script run ends, so
    # each gets time to appear.
    charts = main.locator('[data-testid="stPlotlyChart"]')
    for index in range(charts.count()):
        chart = charts.nth(index)
        if not chart.is_visible():
            continue  # inside a closed expander or another tab: drawn when opened
        try:
            chart.element_handle().wait_for_selector(
                ".js-plotly-plot .main-svg", timeout=CHART_TIMEOUT_MS
            )
            chart.evaluate(
                """(box) => new Promise((resolve, reject) => {
                    const drawn = () => [...box.querySelectorAll('.js-plotly-plot')].some(
                        gd => gd._fullLayout && ((gd._fullData || []).length > 0
                            || (gd._fullLayout.shapes || []).length > 0
                            || (gd._fullLayout.annotations || []).length > 0));
                    const started = Date.now();
                    const poll = () => drawn() ? resolve(true)
                        : Date.now() - started > 30000 ? reject(new Error('not drawn'))
                        : setTimeout(poll, 100);
                    poll();
                })"""
            )
        except (PlaywrightError, PlaywrightTimeoutError):
            problems.append(f"{label}: chart {index} not drawn")
    return problems


def test_every_page_loads_without_errors(
    page: Page, page_errors: PageErrors, streamlit_server: StreamlitServer
) -> None:
    open_app(page, streamlit_server)
    links = page.locator(NAV_LINKS)
    labels = [" ".join(links.nth(i).inner_text().split()) for i in range(links.count())]
    problems = _check_current_page(page, "start page")
    screenshot(page, "page_start")
    visited = []
    for index, label in enumerate(labels):
        link = page.locator(NAV_LINKS).nth(index)
        path = urlparse(link.get_attribute("href") or "").path
        link.click()
        page.wait_for_url(lambda url, path=path: urlparse(url).path == path)
        # The old page's elements linger until the new run replaces them: let it finish.
        page.wait_for_timeout(500)
        wait_until_idle(page)
        problems += _check_current_page(page, label)
        screenshot(page, f"page_{_slug(label)}")
        visited.append(label)
    # The shared sidebar keeps its settings across page switches (it once fell back to each
    # widget's minimum: forget_bias -10, one step), also through pages that hide it.
    page.locator(NAV_LINKS).nth(0).click()
    slider = page.get_by_role("slider", name="forget_bias")
    slider.wait_for(timeout=CHART_TIMEOUT_MS)
    assert float(slider.input_value()) == DEFAULT_CONFIG.forget_bias
    assert not problems, problems
    assert not page_errors.all(), page_errors.all()
    # With one page Streamlit draws no navigation; with several, each was visited.
    assert visited == labels


def test_a_slider_move_redraws_the_chart(
    page: Page, page_errors: PageErrors, streamlit_server: StreamlitServer
) -> None:
    open_app(page, streamlit_server)
    before = trace_y(page, 0, 1)
    slider = page.get_by_role("slider", name="forget_bias")
    value_before = float(slider.input_value())
    slider.focus()
    page.keyboard.press("ArrowLeft")  # one step: forget_bias 5.0 -> 4.5
    assert float(slider.input_value()) == value_before - 0.5
    page.wait_for_function(
        """([before]) => {
            const gd = document.querySelectorAll('.js-plotly-plot')[0];
            // Not drawn yet while the page redraws: keep waiting (a throw ends the wait).
            if (!gd?._fullData?.[1]) return false;
            const y = Array.from(gd._fullData[1].y, Number);
            return y.length === before.length && y.some((v, k) => v !== before[k]);
        }""",
        arg=[before],
        timeout=CHART_TIMEOUT_MS,
    )
    wait_until_idle(page)
    after = trace_y(page, 0, 1)
    assert len(after) == len(before) and after != before
    screenshot(page, "slider_moved")
    assert not page_errors.all(), page_errors.all()
