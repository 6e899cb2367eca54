"""Helpers for the browser tests: the server handle, error collection, waits, screenshots.

Kept out of conftest.py so test modules can import them (`from .support import ...`) without
clashing with tests/conftest.py, which is also a module named `conftest`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
from playwright.sync_api import ConsoleMessage, Error, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from lstm_core import RunConfig, simulate
from lstm_core.io.image import BROWSER_FLAGS

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
# The flags Chromium needs on these machines (no sandbox, no GPU, no phoning home).
CHROMIUM_FLAGS = list(BROWSER_FLAGS)
# A cold Streamlit start plus torch import is ~5 s here; shared CI machines are slower.
SERVER_START_TIMEOUT_S = 90
# How long any browser step may take (a page's first chart, a click, a download): a bound on a
# hang, never a speed check. Chromium's page loads are CPU-bound and slow down many times over
# when other work shares the cores (the suite's other worker, a CPU hog), far past a quiet
# machine's figure; every page and context of the browser tests uses it as its default.
CHART_TIMEOUT_MS = 180_000

# The h panel's lines of the page's first chart, as plotly.js drew them: (unit, steps, values).
DRAWN_H = """() => {
    const gd = document.querySelectorAll('.js-plotly-plot')[0];
    return gd._fullData
        .filter(t => (t.xaxis || 'x') === 'x')
        .map(t => [String(t.meta), Array.from(t.x, Number), Array.from(t.y, Number)]);
}"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class StreamlitServer:
    """A running `streamlit run app.py`: its base URL and its process."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    return False


@dataclass
class PageErrors:
    """Uncaught page exceptions and console errors seen by a page."""

    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> PageErrors:
        page.on("pageerror", self._on_page_error)
        page.on("console", self._on_console)
        return self

    def _on_page_error(self, error: Error) -> None:
        self.page_errors.append(f"{error.name}: {error.message}")

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def all(self) -> list[str]:
        return self.page_errors + self.console_errors


def wait_until_idle(page: Page, timeout_ms: int = CHART_TIMEOUT_MS) -> None:
    """Wait until Streamlit has finished the current script run.

    While a script runs, the app root carries `data-test-script-state="running"`; it settles
    to "notRunning" (a first load passes through "initial").
    """
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            return app && app.getAttribute('data-test-script-state') === 'notRunning';
        }""",
        timeout=timeout_ms,
    )


def open_app(page: Page, server: StreamlitServer, query: str = "") -> None:
    """Load the app (optionally with a query string) and wait for the first chart."""
    page.goto(f"{server.url}/{query}", wait_until="domcontentloaded")
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=CHART_TIMEOUT_MS)
    wait_until_idle(page)


def screenshot(page: Page, name: str) -> Path:
    """A full-page screenshot kept in test-artifacts/e2e/NAME.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def trace_y(page: Page, chart_index: int, trace_index: int) -> list[float]:
    """The decoded y values of one trace of the chart_index-th plotly chart on the page."""
    return page.evaluate(
        """([chart, trace]) => {
            const gd = document.querySelectorAll('.js-plotly-plot')[chart];
            return Array.from(gd._fullData[trace].y, Number);
        }""",
        [chart_index, trace_index],
    )


def choose_option(page: Page, label: str, option_name: str, within: str = "body") -> None:
    """Pick `option_name` in the selectbox labelled `label` (inside the `within` CSS selector)
    and wait for the rerun."""
    select = page.locator(within).locator('[data-testid="stSelectbox"]').filter(has_text=label)
    option = page.get_by_role("option", name=option_name, exact=True)
    # A rerun that lands while the list is open redraws the box closed: open it again.
    for _ in range(5):
        select.click()
        try:
            option.click(timeout=5_000)
            break
        except PlaywrightTimeoutError:
            wait_until_idle(page)
    else:
        raise AssertionError(f"could not choose {option_name!r} in {label!r}")
    wait_until_idle(page)


def choose_signal(page: Page, name: str) -> None:
    """Pick `name` in the sidebar's signal box and wait for the rerun."""
    choose_option(page, "signal", name, within='[data-testid="stSidebar"]')


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


def wait_for_url_query(page: Page, text: str) -> None:
    """Wait until the page's URL query holds `text`: the app writes its query while the run it
    starts goes on, so the URL can lag the first chart."""
    page.wait_for_function(
        "text => location.search.includes(text)", arg=text, timeout=CHART_TIMEOUT_MS
    )


def url_query(page: Page) -> dict[str, str]:
    """The page's URL query, the last value of each key."""
    return {key: values[-1] for key, values in parse_qs(urlparse(page.url).query).items()}
