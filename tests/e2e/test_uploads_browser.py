"""Uploads in a real browser: a CSV (good, bad, overflowing) sets the sidebar and the link, with
XSRF protection on; a malicious weights file is refused without running."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import torch
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from safetensors.torch import save

from lstm_core import RunConfig

from .support import (
    CHART_TIMEOUT_MS,
    NAV_LINKS,
    PageErrors,
    StreamlitServer,
    assert_page_draws_run,
    choose_signal,
    open_app,
    screenshot,
    url_query,
    wait_until_idle,
)

pytestmark = pytest.mark.browser


def _upload(page: Page, name: str, data: bytes, label: str = "input CSV") -> None:
    # Only into an idle app: a file chosen while the last upload's rerun still runs (its
    # sidebar message is drawn before its charts) was seen to be lost under load.
    wait_until_idle(page)
    uploader = page.locator('[data-testid="stFileUploader"]').filter(has_text=label)
    uploader.locator('input[type="file"]').set_input_files(
        files=[{"name": name, "mimeType": "application/octet-stream", "buffer": data}]
    )
    page.wait_for_timeout(300)  # the upload request, then a rerun
    wait_until_idle(page)


class _Payload:
    """Unpickling this calls open(marker, "w"): the file appearing would mean code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


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


def test_a_csv_upload_sets_the_sidebar_and_the_link(
    page: Page, page_errors: PageErrors, streamlit_server: StreamlitServer
) -> None:
    open_app(page, streamlit_server)
    choose_signal(page, "csv")
    uploader = page.locator('[data-testid="stFileUploader"]').filter(has_text="input CSV")
    uploader.locator('input[type="file"]').set_input_files(
        files=[{"name": "three.csv", "mimeType": "text/csv", "buffer": b"a,b\n1,2\n3,4\n5,6\n"}]
    )
    page.wait_for_function(
        "() => new URL(location.href).searchParams.get('seq_len') === '3'",
        timeout=CHART_TIMEOUT_MS,
    )
    wait_until_idle(page)
    query = url_query(page)
    assert (query["signal"], query["input_dim"], query["seq_len"]) == ("csv", "2", "3")
    sidebar = page.locator('[data-testid="stSidebar"]')
    input_dim = sidebar.locator('[data-testid="stSlider"]').filter(has_text="input_dim")
    assert input_dim.locator('[data-testid="stSliderThumbValue"]').inner_text() == "2"
    assert sidebar.get_by_role("spinbutton", name="seq_len (T)").input_value() == "3"
    screenshot(page, "csv_sidebar")
    # A page without the uploader (the Gate playground) and back: the rows are still the run's.
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Gate playground").click()
    page.get_by_text("run settings are hidden here").wait_for(timeout=CHART_TIMEOUT_MS)
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Explorer").click()
    sidebar.get_by_text("three.csv: 3 steps × 2 features").wait_for(timeout=CHART_TIMEOUT_MS)
    wait_until_idle(page)
    assert page.get_by_text("upload the CSV in the sidebar").count() == 0
    assert page.locator('[data-testid="stPlotlyChart"]').count() > 0
    # The link opens on the CSV's settings and asks for the file it cannot carry.
    page.goto(page.url, wait_until="domcontentloaded")
    page.get_by_text("holds the settings but not the file's numbers").wait_for(
        timeout=CHART_TIMEOUT_MS
    )
    assert not page_errors.all(), page_errors.all()


# The units the Explorer's "units shown" picker holds, as its tags read.
UNITS_SHOWN = """() => [...document.querySelectorAll('[data-testid="stMultiSelect"]')]
    .filter(box => box.innerText.startsWith('units shown'))
    .flatMap(box => [...box.querySelectorAll('.react-aria-ComboBox [data-tag]')])
    .map(tag => tag.getAttribute('aria-label'))"""

# The names of the line traces the first chart draws (one per unit and panel).
# While a rerun replaces the chart there may be no plot, or one not drawn yet: no lines then,
# so that a wait on them goes on waiting instead of failing.
DRAWN_LINES = """() => (document.querySelector('.js-plotly-plot')?._fullData ?? [])
    .filter(trace => trace.mode === 'lines').map(trace => trace.name)"""


def _state_dict_bytes(lstm: torch.nn.LSTM, suffix: str) -> bytes:
    if suffix == ".pt":
        buffer = io.BytesIO()
        torch.save(lstm.state_dict(), buffer)
        return buffer.getvalue()
    return save(lstm.state_dict())


def test_each_uploaded_checkpoint_opens_on_its_default_units(
    page: Page, streamlit_server: StreamlitServer, page_errors: PageErrors
) -> None:
    """Uploading one checkpoint after another, of the same size or not, draws each with its
    default units: the units picker neither empties nor keeps the last file's pick."""
    small, other = torch.nn.LSTM(3, 16, batch_first=True), torch.nn.LSTM(3, 16, batch_first=True)
    wider = torch.nn.LSTM(3, 24, batch_first=True)
    defaults = [str(unit) for unit in range(8)]
    open_app(page, streamlit_server)
    page.locator('[data-testid="stSidebar"]').get_by_text("Your checkpoint").click()
    wait_until_idle(page)
    for name, lstm in (
        ("lstm.safetensors", small),
        ("lstm.pt", small),  # the same weights in other bytes: another file
        ("other.safetensors", other),
        ("wider.pt", wider),
    ):
        _upload(page, name, _state_dict_bytes(lstm, Path(name).suffix), label="Checkpoint")
        # Until the new file's run is drawn the page still shows the last pick (no unit 0).
        try:
            page.wait_for_function(f"() => ({UNITS_SHOWN})()[0] === '0'", timeout=60_000)
        except PlaywrightTimeoutError:
            raise AssertionError((name, page.evaluate(UNITS_SHOWN))) from None
        wait_until_idle(page)
        assert page.evaluate(UNITS_SHOWN) == defaults, name
        assert not page.get_by_text("Pick at least one unit").count(), name
        # Both panels, h and C, draw the eight default units.
        drawn = page.evaluate(DRAWN_LINES)
        assert sorted(drawn) == sorted(f"unit {unit}" for unit in range(8) for _ in "hC"), name
        # A pick of the user's own, which the next file must not inherit.
        picker = page.locator('[data-testid="stMultiSelect"]').filter(has_text="units shown")
        picker.get_by_role("button", name="Remove 0").first.click()
        # Its rerun is over once the chart draws seven units: the next file goes in after it,
        # not while the page is being rebuilt.
        page.wait_for_function(f"() => ({DRAWN_LINES})().length === 14", timeout=CHART_TIMEOUT_MS)
        wait_until_idle(page)
        assert page.evaluate(UNITS_SHOWN)[0] == "1"
    assert not page_errors.all(), page_errors.all()
