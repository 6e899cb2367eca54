"""Headless Chromium against a live `streamlit run app.py`: page load and slider → redraw.

The server runs on a free port of 127.0.0.1 for the benchmark only and is stopped by its PID.
Timings: from the key press (or navigation) until the first chart's drawn data
(`gd._fullData`) has changed and the browser has painted two more frames.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from lstm_core.io.image import BROWSER_FLAGS

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = list(BROWSER_FLAGS)
CHART_TIMEOUT_MS = 120_000
# A fingerprint of the first chart's drawn data: traces, points and a sum of the last trace.
FINGERPRINT_JS = """() => {
  const gd = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
  if (!gd || !gd._fullData || !gd._fullData.length) return null;
  const y = gd._fullData[gd._fullData.length - 1].y;
  if (!y || !y.length) return null;
  let sum = 0;
  for (let i = 0; i < y.length; i++) sum += Number(y[i]);
  return gd._fullData.length + ':' + y.length + ':' + sum;
}"""
PAINTED_JS = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def streamlit_server() -> Iterator[tuple[str, int]]:
    """(base URL, PID) of a fresh server; stopped on exit."""
    port = _free_port()
    log = open(f"/tmp/benchmarks_streamlit_{port}.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", "app.py",
            "--server.headless", "true",
            "--server.port", str(port),
            "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start; see {log.name}")
            time.sleep(0.5)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _fingerprint(page: Page) -> str | None:
    return page.evaluate(FINGERPRINT_JS)


def _load(page: Page, url: str) -> float:
    """Seconds from navigation until the first chart is drawn."""
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_function(f"({FINGERPRINT_JS})() !== null", timeout=CHART_TIMEOUT_MS)
    page.evaluate(PAINTED_JS)
    return time.perf_counter() - start


def _slider_moves(page: Page, moves: int) -> list[float]:
    """Seconds from each forget_bias key press (one step down, a new config each time) until
    the chart shows the new run."""
    slider = page.get_by_role("slider", name="forget_bias")
    times = []
    for _ in range(moves):
        page.wait_for_timeout(500)  # let the previous rerun settle
        before = _fingerprint(page)
        slider.focus()
        start = time.perf_counter()
        page.keyboard.press("ArrowLeft")
        page.wait_for_function(
            f"(before) => {{ const now = ({FINGERPRINT_JS})(); return now !== null && "
            "now !== before; }",
            arg=before,
            timeout=CHART_TIMEOUT_MS,
        )
        page.evaluate(PAINTED_JS)
        times.append(time.perf_counter() - start)
    return times


def _peak_rss_gb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e9
    raise RuntimeError("no VmHWM")


def browser_timings(repeats: int = 5) -> dict[str, float]:
    """Medians: warm page load, slider → redraw at the default size and at 5000 × 256, and the
    server's peak RSS after drawing the largest allowed size."""
    out: dict[str, float] = {}
    with (
        streamlit_server() as (url, pid),
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            _load(context.new_page(), url)  # cold: imports, first run
            context.close()
            # Warm: the server has run the page before and the browser has its scripts cached
            # (a returning visitor, a reload). Also timed: a new browser profile, which fetches
            # and compiles Streamlit's and plotly's scripts (~6 MB) first.
            warm, new_profile = [], []
            for _ in range(3):
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                page = context.new_page()
                new_profile.append(_load(page, url))
                warm.append(_load(page, url))
                context.close()
            out["page_load_warm"] = statistics.median(warm)
            out["page_load_new_profile"] = statistics.median(new_profile)

            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            _load(page, url)
            out["slider_default"] = statistics.median(_slider_moves(page, repeats))
            context.close()

            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            out["load_5000x256"] = _load(page, f"{url}/?seq_len=5000&hidden_dim=256")
            out["slider_5000x256"] = statistics.median(_slider_moves(page, repeats))
            context.close()

            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            largest = f"{url}/?seq_len=10000&hidden_dim=512&input_dim=64&dtype=float64"
            out["load_largest_cold"] = _load(page, largest)
            out["server_peak_rss_gb"] = _peak_rss_gb(pid)
            context.close()
        finally:
            browser.close()
    return out


if __name__ == "__main__":
    print(browser_timings(int(sys.argv[1]) if len(sys.argv) > 1 else 5))
