"""Export and share in a real browser: downloads clicked in Chromium (buttons and the toolbar's
PNG); a link restores a view and its settings bit for bit; garbage in a link warns."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest
from PIL import Image
from playwright.sync_api import Page

from lstm_core import RunConfig

from .support import (
    CHART_TIMEOUT_MS,
    PageErrors,
    StreamlitServer,
    assert_page_draws_run,
    open_app,
    screenshot,
)

pytestmark = pytest.mark.browser


def _open_downloads(page: Page) -> None:
    page.get_by_role("button", name=re.compile("Download figure")).first.click()
    page.get_by_role("button", name="PNG 2×").wait_for(timeout=CHART_TIMEOUT_MS)


def test_png_and_svg_downloads_from_the_explorer(
    page: Page, streamlit_server: StreamlitServer, page_errors: PageErrors
) -> None:
    open_app(page, streamlit_server, "?hidden_dim=3&seq_len=40&seed=2")
    _open_downloads(page)
    screenshot(page, "export_popover")
    with page.expect_download(timeout=CHART_TIMEOUT_MS) as info:
        page.get_by_role("button", name="PNG 2×").click()
    download = info.value
    assert download.suggested_filename == "lstm_states_I4_H3_T40_seed2@2x.png"
    data = download.path().read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(data)).convert("RGB")
    assert image.size == (2200, 860)
    assert image.getpixel((3, 3)) == (255, 255, 255)  # white, not Streamlit's black template
    with page.expect_download(timeout=CHART_TIMEOUT_MS) as info:
        page.get_by_role("button", name="SVG", exact=True).click()
    assert info.value.suggested_filename == "lstm_states_I4_H3_T40_seed2.svg"
    assert info.value.path().read_bytes().startswith(b"<svg")
    assert page_errors.all() == []


def test_parquet_download_holds_every_state(
    page: Page, streamlit_server: StreamlitServer, page_errors: PageErrors
) -> None:
    open_app(page, streamlit_server, "?hidden_dim=2&seq_len=10&num_layers=2")
    button = page.get_by_role("button", name="⬇ Data as Parquet")
    button.scroll_into_view_if_needed()
    with page.expect_download(timeout=CHART_TIMEOUT_MS) as info:
        button.click()
    assert info.value.suggested_filename == "lstm_trajectories_I4_H2_T10_seed0_L2.parquet"
    frame = pd.read_parquet(info.value.path())
    assert list(frame.columns) == ["impl", "layer", "batch", "t", "unit", "state", "value"]
    assert len(frame) == 8 * 2 * 1 * 10 * 2
    assert set(frame["state"].astype(str)) == {"h", "c", "i", "f", "g", "o"}
    assert page_errors.all() == []


def test_a_link_restores_the_view_and_the_url_follows_the_sidebar(
    page: Page, streamlit_server: StreamlitServer, page_errors: PageErrors
) -> None:
    open_app(page, streamlit_server, "?hidden_dim=5&seed=9&forget_bias=1.5&seq_len=oops")
    main = page.locator('[data-testid="stMain"]')
    assert "seq_len" in main.locator('[data-testid="stAlert"]').first.inner_text()
    # Five units: five lines in each of the two panels.
    traces = page.evaluate("() => document.querySelector('.js-plotly-plot')._fullData.length")
    assert traces == 10
    page.wait_for_function("() => location.search.includes('dtype=')", timeout=CHART_TIMEOUT_MS)
    query = parse_qs(urlparse(page.url).query)
    assert query["hidden_dim"] == ["5"] and query["seed"] == ["9"]
    assert query["forget_bias"] == ["1.5"] and query["seq_len"] == ["100"]
    screenshot(page, "export_link_restored")
    assert page_errors.all() == []


def test_toolbar_png_download(
    page: Page, streamlit_server: StreamlitServer, page_errors: PageErrors
) -> None:
    open_app(page, streamlit_server, "?hidden_dim=3&seq_len=20&seed=4")
    chart = page.locator(".js-plotly-plot").first
    chart.hover()  # the modebar shows on hover
    button = chart.locator('.modebar-btn[data-title="Download plot as a PNG"]')
    with page.expect_download(timeout=CHART_TIMEOUT_MS) as info:
        button.click()
    download = info.value
    assert download.suggested_filename.endswith(".png")
    assert "H3_T20_seed4" in download.suggested_filename
    assert download.path().read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not page_errors.all(), page_errors.all()


def test_a_link_restores_its_settings_bit_for_bit(
    page: Page, streamlit_server: StreamlitServer, page_errors: PageErrors
) -> None:
    open_app(page, streamlit_server, "?seed=3&hidden_dim=5&seq_len=30&forget_bias=1.0")
    assert page.get_by_role("slider", name="forget_bias").input_value() == "1"
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.get_by_role("spinbutton", name="hidden_dim (H)").input_value() == "5"
    assert sidebar.get_by_role("spinbutton", name="seq_len (T)").input_value() == "30"
    assert_page_draws_run(page, RunConfig(seed=3, hidden_dim=5, seq_len=30, forget_bias=1.0))
    assert not page_errors.all(), page_errors.all()


def test_garbage_in_a_link_warns_and_the_app_goes_on(
    page: Page, streamlit_server: StreamlitServer, page_errors: PageErrors
) -> None:
    query = (
        "?hidden_dim=banana&seed=-4&seq_len=99999999&forget_bias=nan&dtype=float16"
        "&signal=%3Cscript%3Ealert(1)%3C%2Fscript%3E&input_dim=1e3&unknown=1&batch_size="
    )
    open_app(page, streamlit_server, query)
    alerts = page.locator('[data-testid="stAlert"]').all_inner_texts()
    text = "\n".join(alerts)
    for key in ("hidden_dim", "seed", "seq_len", "forget_bias", "dtype", "signal", "input_dim"):
        assert key in text, (key, text)
    screenshot(page, "hardening_url_garbage")
    assert_page_draws_run(page, RunConfig())  # every bad value fell back to the default
    assert not page_errors.all(), page_errors.all()
