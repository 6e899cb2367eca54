"""Browser tests: a live `streamlit run app.py` on 127.0.0.1 driven by Debian's Chromium.

pytest-playwright supplies `page`, `context` and `browser`; this file points it at the system
Chromium (Playwright's own browser download is never used) and starts one Streamlit server
for the whole session (per pytest-xdist worker) on a free port. Screenshots go to
test-artifacts/e2e/ (gitignored). A missing Chromium is a failure, never a skip:
`scripts/setup.sh` installs it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page

from .support import (
    ARTIFACTS,
    CHART_TIMEOUT_MS,
    CHROMIUM,
    CHROMIUM_FLAGS,
    ROOT,
    SERVER_START_TIMEOUT_S,
    PageErrors,
    StreamlitServer,
    free_port,
    wait_healthy,
)


@pytest.fixture(scope="session")
def streamlit_server() -> Iterator[StreamlitServer]:
    """One server for the whole session, on a free port, stopped (by its own PID) at the end."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    # One server per pytest-xdist worker: each its own log.
    log_path = ARTIFACTS / f"streamlit-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.log"
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
        if not wait_healthy(server.url, process, SERVER_START_TIMEOUT_S):
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
    """Debian's Chromium with the app's browser flags, never Playwright's downloaded browser."""
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


@pytest.fixture
def context(context: BrowserContext) -> BrowserContext:
    """pytest-playwright's context, whose steps wait up to CHART_TIMEOUT_MS (not Playwright's
    30 s default, which a loaded machine exceeds for a plain click after a rerun)."""
    context.set_default_timeout(CHART_TIMEOUT_MS)
    return context


@pytest.fixture
def new_context(new_context: Callable[..., BrowserContext]) -> Callable[..., BrowserContext]:
    """pytest-playwright's context factory, each context with the same default timeout."""

    def make(**kwargs: Any) -> BrowserContext:
        created = new_context(**kwargs)
        created.set_default_timeout(CHART_TIMEOUT_MS)
        return created

    return make


@pytest.fixture
def page_errors(page: Page) -> PageErrors:
    return PageErrors().attach(page)
