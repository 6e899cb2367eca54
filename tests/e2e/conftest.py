"""Browser tests: a live `streamlit run app.py` on 127.0.0.1 driven by Debian's Chromium.

pytest-playwright supplies `page`, `context` and `browser`; this file points it at the system
Chromium (Playwright's own browser download is never used) and starts one Streamlit server
for the whole session on a free port. Screenshots go to test-artifacts/e2e/ (gitignored).
A missing Chromium is a failure, never a skip: `scripts/setup.sh` installs it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Error, Page

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
# STACK.md: the flags Chromium needs on these machines (no sandbox, no GPU, no phoning home).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A cold Streamlit start plus torch import is ~5 s here; shared CI machines are slower.
SERVER_START_TIMEOUT_S = 90
# Page load to first chart was 2.2 s on a quiet machine (STACK.md); leave room for a busy one.
CHART_TIMEOUT_MS = 60_000


def _free_port() -> int:
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


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout_s: float) -> bool:
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


@pytest.fixture(scope="session")
def streamlit_server() -> Iterator[StreamlitServer]:
    """One server for the whole session, on a free port, stopped (by its own PID) at the end."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    log_path = ARTIFACTS / "streamlit.log"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
    ]
    with log_path.open("wb") as log:
        # Popen runs the interpreter itself (no shell), so process.pid is Streamlit's own PID.
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    server = StreamlitServer(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    try:
        if not _wait_healthy(server.url, process, SERVER_START_TIMEOUT_S):
            pytest.fail(f"streamlit did not become healthy on port {port}:\n{server.log_tail()}")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium with STACK.md's flags, never Playwright's downloaded browser."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run `bash scripts/setup.sh --dev` "
            "(apt-get install chromium) or set CHROMIUM_PATH. Browser tests never skip."
        )
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": CHROMIUM_FLAGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_context_args,
        "accept_downloads": True,
        "viewport": {"width": 1400, "height": 900},
    }


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


@pytest.fixture
def page_errors(page: Page) -> PageErrors:
    return PageErrors().attach(page)


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
