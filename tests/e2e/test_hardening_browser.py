"""Hardening in a real browser: the toolbar's PNG, a link's settings restored bit for bit,
garbage in the link, a CSV upload (good, bad, overflowing) with XSRF protection on, and
browser sessions at once, each drawing exactly the numbers of a lone run.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from playwright.sync_api import BrowserContext, Page

from lstm_core import RunConfig, simulate

from .support import (
    CHART_TIMEOUT_MS,
    DRAWN_H,
    PageErrors,
    StreamlitServer,
    choose_signal,
    open_app,
    screenshot,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

NAV_LINKS = '[data-testid="stSidebarNav"] a[data-testid="stSidebarNavLink"]'


def assert_page_draws_run(page: Page, config: RunConfig) -> None:
    """The h panel's lines are the lone run's float32 values at the drawn steps, bit for bit."""
    h = simulate(config).h[0, 0].numpy()  # (T, H)
    drawn = [(int(meta), steps, values) for meta, steps, values in page.evaluate(DRAWN_H)]
    assert {unit for unit, _, _ in drawn} == set(range(min(config.hidden_dim, 8)))
    for unit, steps, values in drawn:
        expected = h[np.asarray(steps, dtype=int), unit].astype(np.float32)
        # JS numbers are float64; a float32 value survives the round trip exactly.
        np.testing.assert_array_equal(np.asarray(values, dtype=np.float64), expected)


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


def _upload(page: Page, name: str, data: bytes, label: str = "input CSV") -> None:
    uploader = page.locator('[data-testid="stFileUploader"]').filter(has_text=label)
    uploader.locator('input[type="file"]').set_input_files(
        files=[{"name": name, "mimeType": "application/octet-stream", "buffer": data}]
    )
    page.wait_for_timeout(300)  # the upload request, then a rerun
    wait_until_idle(page)


def test_csv_uploads_work_and_bad_files_get_clear_errors(
    page: Page, streamlit_server: StreamlitServer, page_errors: PageErrors
) -> None:
    open_app(page, streamlit_server)
    choose_signal(page, "csv")
    page.locator('[data-testid="stFileUploader"]').filter(has_text="input CSV").wait_for(
        timeout=CHART_TIMEOUT_MS
    )
    sidebar = page.locator('[data-testid="stSidebar"]')
    main = page.locator('[data-testid="stMain"]')
    # A good file passes XSRF protection and drives the run: 12 steps x 2 features.
    rows = [(0.1 * t, (-1) ** t) for t in range(12)]
    good = "a,b\n" + "".join(f"{a},{b}\n" for a, b in rows)
    _upload(page, "good.csv", good.encode())
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=CHART_TIMEOUT_MS)
    assert "12 steps × 2 features" in sidebar.inner_text()
    values = tuple(tuple(float(v) for v in row) for row in rows)
    config = RunConfig(signal="csv", input_dim=2, seq_len=12, input_values=values)
    assert_page_draws_run(page, config)
    # Bad files: each gets one clear error naming the file and the problem; no crash.
    bad_files = {
        "empty.csv": (b"", "no rows of numbers"),
        "words.csv": (b"1,2\n3,abc\n", "'abc' is not a number"),
        "nan.csv": (b"1,2\nnan,3\n", "not a finite number"),
        "ragged.csv": (b"1,2\n3\n", "row 2 has 1 values but row 1 has 2"),
        "wide.csv": (b",".join([b"1"] * 65), "the limit is 64"),
        "junk.csv": (bytes(range(256)), "binary data"),
        "big.csv": (b"0.5\n" * 2_000_001, "the limit is 8,000,000"),
    }
    for name, (data, reason) in bad_files.items():
        _upload(page, name, data)
        alert = sidebar.locator('[data-testid="stAlert"]').filter(has_text=f"{name}: ")
        alert.wait_for(timeout=CHART_TIMEOUT_MS)  # the upload, then a rerun
        assert reason in alert.inner_text(), (name, alert.inner_text())
        assert not page.locator('[data-testid="stException"]').count()
    screenshot(page, "hardening_csv_bad_file")
    # Values that overflow float32: reported on the page, not drawn as garbage.
    _upload(page, "huge.csv", b"1e300,-1e300\n2,3\n")
    page.get_by_text("This run is not finite").wait_for(timeout=CHART_TIMEOUT_MS)
    assert main.locator('[data-testid="stPlotlyChart"]').count() == 0
    screenshot(page, "hardening_csv_not_finite")
    assert not page_errors.all(), page_errors.all()


def test_a_malicious_weights_file_is_refused_without_running(
    page: Page, streamlit_server: StreamlitServer, page_errors: PageErrors, tmp_path: Path
) -> None:
    marker = tmp_path / "payload-ran"
    buffer = io.BytesIO()
    torch.save({"readout.weight": _Payload(marker)}, buffer)  # unpickling it opens `marker`
    open_app(page, streamlit_server)
    page.locator(NAV_LINKS).filter(has_text="Memory lab").click()
    page.get_by_text("Load a trained LSTM (safetensors)").click(timeout=CHART_TIMEOUT_MS)
    _upload(page, "evil.safetensors", buffer.getvalue(), label="weights file")
    error = page.locator('[data-testid="stAlert"]').filter(has_text="Cannot load evil.safetensors")
    error.wait_for(timeout=CHART_TIMEOUT_MS)
    assert "not a safetensors weights file" in error.inner_text()
    screenshot(page, "hardening_weights_pickle")
    assert not marker.exists()
    assert not page.locator('[data-testid="stException"]').count()
    assert not page_errors.all(), page_errors.all()


class _Payload:
    """Unpickling this calls open(marker, "w"): the file appearing would mean code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


# Browser sessions at once, each its own websocket session on one server, loading together.
# Five real browsers prove that the websocket sessions of a live server keep their numbers
# apart; twenty sessions at once are tests/test_hardening.py's AppTest threads, which cost a
# fraction of a Chromium page each (every page here parses Streamlit's and plotly's bundles).
SESSIONS = 5


def test_browser_sessions_at_once_draw_their_own_numbers(
    context: BrowserContext, new_context, streamlit_server: StreamlitServer
) -> None:
    # Small runs: the point is sessions side by side on one server, not their size.
    seeds = [500 + 31 * k for k in range(SESSIONS)]
    contexts = [context] + [new_context() for _ in range(SESSIONS - 1)]
    pages = [c.new_page() for c in contexts]
    # Start every load before waiting for any, so the server runs the sessions together.
    for page, seed in zip(pages, seeds, strict=True):
        page.goto(
            f"{streamlit_server.url}/?seed={seed}&seq_len=12&hidden_dim=3", wait_until="commit"
        )
    drawn_first_values = set()
    for page, seed in zip(pages, seeds, strict=True):
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=CHART_TIMEOUT_MS)
        wait_until_idle(page, timeout_ms=CHART_TIMEOUT_MS)
        assert_page_draws_run(page, RunConfig(seed=seed, seq_len=12, hidden_dim=3))
        drawn_first_values.add(str(page.evaluate(DRAWN_H)[0][2]))
        if page is not pages[-1]:
            page.close()  # frees the CPU for the pages still loading
    # Different seeds really drew different numbers (no page showed another session's run).
    assert len(drawn_first_values) == SESSIONS
    screenshot(pages[-1], "hardening_session_last")
