"""The text view in a real browser: both strips drawn, typing new text redraws them, and a row
picked in the cell finder's table shows its unit."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from lstm_core.learned import cell_table, held_out_text, load_text_model, text_states, unit_name
from lstm_core.learned.labels import KARPATHY_LABELS

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
        type_text(page, typed)
        second = strip_characters(page)
        assert second[0] == second[1]
        assert "".join(second[0]) == typed.replace("\n", "↵")
        screenshot(page, f"text_view_typed_{scheme}")
        assert not errors.all(), errors.all()
    finally:
        context.close()


def c_strip_title_is(page: Page, title: str) -> None:
    """Wait until the C strip's title starts with `title`."""
    page.wait_for_function(
        """title => (document.querySelector('.js-plotly-plot')?._fullLayout?.title?.text || '')
            .startsWith(title)""",
        arg=title,
        timeout=CHART_TIMEOUT_MS,
    )
    wait_until_idle(page)


def type_text(page: Page, typed: str) -> None:
    """Type `typed` into the text box and wait until both strips draw its characters."""
    area = page.get_by_role("textbox", name="Text (type or paste Python")
    area.fill(typed)
    area.press("Control+Enter")
    page.wait_for_function(
        f"() => (({DRAWN_CHARACTERS})()[0] || []).length === {len(typed)}",
        timeout=CHART_TIMEOUT_MS,
    )
    wait_until_idle(page)


def click_row(page: Page, index: int, rows: int, x: float) -> None:
    """Click row `index` of the cell finder's table (of `rows` rows), `x` pixels from its left."""
    table = page.locator('[data-testid="stDataFrame"]')
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    assert box is not None
    # The table shows every row under its header, all of one height.
    y = box["y"] + box["height"] / (rows + 1) * (index + 1.5)
    assert 0 < y < page.viewport_size["height"], "the row is outside the window"
    page.mouse.click(box["x"] + x, y)


def test_a_row_clicked_in_the_cell_table_shows_its_unit(
    page: Page, page_errors: PageErrors, streamlit_server: StreamlitServer
) -> None:
    model, metadata = load_text_model("code")
    rows = cell_table(text_states(model, held_out_text(int(metadata["seed"])).text))
    index, row = next(
        (k, row) for k, row in enumerate(rows) if row.label == "column" and row.rank == 2
    )
    opening = max(
        (row for row in rows if row.rank == 1 and row.label in KARPATHY_LABELS),
        key=lambda row: abs(row.r_c),
    )
    open_text_view(page, streamlit_server)
    # Its box, in the narrow column left of the label.
    click_row(page, index, len(rows), 15)
    c_strip_title_is(page, f"{unit_name(row.unit, model.config)}: C<sub>t</sub>")
    assert url_query(page) == {"cell_label": "column", "cell_unit": str(row.unit)}
    screenshot(page, "text_view_row_picked")
    # One step back is the view before the pick: the link changed label and unit in one go.
    page.go_back()
    c_strip_title_is(page, f"{unit_name(opening.unit, model.config)}: C<sub>t</sub>")
    assert url_query(page) == {"cell_label": opening.label, "cell_unit": str(opening.unit)}
    # The view moved on from the pick, so one click on that row, on its label this time,
    # shows it again.
    click_row(page, index, len(rows), 150)
    c_strip_title_is(page, f"{unit_name(row.unit, model.config)}: C<sub>t</sub>")
    assert url_query(page) == {"cell_label": "column", "cell_unit": str(row.unit)}
    # A row's box ticked, then a cell of another row clicked: the latest click is the view.
    ticked, clicked = (
        next(k for k, other in enumerate(rows) if other.label == label and other.rank == rank)
        for label, rank in (("bracket_depth", 1), ("in_string", 2))
    )
    click_row(page, ticked, len(rows), 15)
    c_strip_title_is(page, f"{unit_name(rows[ticked].unit, model.config)}: C<sub>t</sub>")
    click_row(page, clicked, len(rows), 150)
    c_strip_title_is(page, f"{unit_name(rows[clicked].unit, model.config)}: C<sub>t</sub>")
    assert url_query(page) == {"cell_label": "in_string", "cell_unit": str(rows[clicked].unit)}
    # Both stay picked in the table; a rerun that picks nothing new leaves the view alone.
    type_text(page, "x = [1]\n")
    c_strip_title_is(page, f"{unit_name(rows[clicked].unit, model.config)}: C<sub>t</sub>")
    assert url_query(page) == {"cell_label": "in_string", "cell_unit": str(rows[clicked].unit)}
