"""The text view in a real browser: both strips drawn, typing new text redraws them, and a row
picked in the cell finder's table shows its unit."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from lstm_core.learned import cell_table, held_out_text, load_text_model, run_text

from .support import (
    CHART_TIMEOUT_MS,
    NAV_LINKS,
    PageErrors,
    StreamlitServer,
    open_app,
    screenshot,
    url_query,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

# Each strip's characters, as plotly.js holds them (row-major, empty cells left out).
DRAWN_CHARACTERS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(gd =>
    gd._fullData[0].text.flat().filter(c => c !== ''))"""


def open_text_view(page: Page, server: StreamlitServer) -> None:
    open_app(page, server)
    page.locator(NAV_LINKS).filter(has_text="What the cell learned").click()
    page.wait_for_timeout(500)
    page.wait_for_function(
        "() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 2",
        timeout=CHART_TIMEOUT_MS * 3,
    )
    wait_until_idle(page)


def strip_characters(page: Page) -> list[list[str]]:
    return page.evaluate(DRAWN_CHARACTERS)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_strips_are_drawn_and_follow_typed_text(
    browser: Browser,
    browser_context_args: dict[str, Any],
    streamlit_server: StreamlitServer,
    scheme: str,
) -> None:
    context = browser.new_context(**browser_context_args, color_scheme=scheme)
    try:
        page = context.new_page()
        errors = PageErrors().attach(page)
        open_text_view(page, streamlit_server)
        first = strip_characters(page)
        assert len(first) == 2 and first[0] == first[1] and len(first[0]) > 100
        screenshot(page, f"text_view_{scheme}")
        typed = 'total = sum([(a, "b")[0] for a in range(3)])\n'
        area = page.get_by_role("textbox", name="Text (type or paste Python")
        area.fill(typed)
        area.press("Control+Enter")
        page.wait_for_function(
            f"() => (({DRAWN_CHARACTERS})()[0] || []).length === {len(typed)}",
            timeout=CHART_TIMEOUT_MS,
        )
        wait_until_idle(page)
        second = strip_characters(page)
        assert second[0] == second[1]
        assert "".join(second[0]) == typed.replace("\n", "↵")
        screenshot(page, f"text_view_typed_{scheme}")
        assert not errors.all(), errors.all()
    finally:
        context.close()


# Streamlit's table draws its header and each row this many pixels high (its default).
TABLE_ROW_PX = 35


def test_a_row_picked_in_the_cell_table_shows_its_unit(
    page: Page, page_errors: PageErrors, streamlit_server: StreamlitServer
) -> None:
    model, metadata = load_text_model("code")
    rows = cell_table(run_text(model, held_out_text(int(metadata["seed"])).text))
    index, row = next(
        (k, row) for k, row in enumerate(rows) if row.label == "column" and row.rank == 2
    )
    opening = max((row for row in rows if row.rank == 1), key=lambda row: abs(row.r_c))
    open_text_view(page, streamlit_server)
    table = page.locator('[data-testid="stDataFrame"]')
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    assert box is not None
    # The row's selection box, in the narrow column left of the label.
    page.mouse.click(box["x"] + 15, box["y"] + TABLE_ROW_PX * (index + 1.5))
    page.wait_for_function(
        f"""() => (document.querySelector('.js-plotly-plot')?._fullLayout?.title?.text || '')
            .startsWith('unit {row.unit} ')""",
        timeout=CHART_TIMEOUT_MS,
    )
    wait_until_idle(page)
    assert url_query(page) == {"cell_label": "column", "cell_unit": str(row.unit)}
    screenshot(page, "text_view_row_picked")
    # One step back is the view before the pick: the link changed label and unit in one go.
    page.go_back()
    page.wait_for_function(
        f"""() => (document.querySelector('.js-plotly-plot')?._fullLayout?.title?.text || '')
            .startsWith('unit {opening.unit} ')""",
        timeout=CHART_TIMEOUT_MS,
    )
    wait_until_idle(page)
    assert url_query(page) == {"cell_label": opening.label, "cell_unit": str(opening.unit)}
