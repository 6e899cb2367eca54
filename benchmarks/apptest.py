"""In-process Streamlit figures (AppTest): chart data per page and script time per rerun."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from streamlit.runtime.scriptrunner import script_runner
from streamlit.runtime.scriptrunner.script_cache import ScriptCache
from streamlit.testing.v1 import AppTest, local_script_runner

import ui.runs
from lstm_core import RunConfig
from lstm_core.figures.states import MAX_LINE_UNITS
from tests.conftest import APP

PAGES: tuple[str, ...] = (
    "pages/explorer.py",
    "pages/gates.py",
    "pages/step.py",
    "pages/playground.py",
    "pages/shapes.py",
    "pages/memory.py",
)
# Sizes whose chart data is measured on every page: the default, the mid size, the
# most units drawn as lines without the overview, and the largest the caps allow.
SIZES: dict[str, dict[str, int]] = {
    "default (100 × 8)": {},
    "5000 × 256": {"seq_len": 5000, "hidden_dim": 256},
    "10,000 × 16": {"seq_len": 10_000, "hidden_dim": 16},
    "10,000 × 512 (largest)": {"seq_len": 10_000, "hidden_dim": 512, "input_dim": 64},
}
TIMEOUT_S = 600


@contextmanager
def script_timer() -> Iterator[list[float]]:
    """Seconds of each script run (ScriptRunner._run_script: the page, its widgets, its
    charts' serialisation), as AppTest reruns it in its own thread.

    AppTest compiles app.py and the page afresh on every run (a new ScriptCache each time,
    ~20 ms here); a live server compiles them once. One shared ScriptCache makes this the
    server's script time.
    """
    times: list[float] = []
    original = script_runner.ScriptRunner._run_script
    shared_cache = ScriptCache()
    original_cache = local_script_runner.ScriptCache
    local_script_runner.ScriptCache = lambda: shared_cache  # type: ignore[assignment]

    def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            times.append(time.perf_counter() - start)

    script_runner.ScriptRunner._run_script = timed  # type: ignore[method-assign]
    try:
        yield times
    finally:
        script_runner.ScriptRunner._run_script = original  # type: ignore[method-assign]
        local_script_runner.ScriptCache = original_cache  # type: ignore[misc]


@contextmanager
def simulate_counter() -> Iterator[list[RunConfig]]:
    """Every config `ui.runs.cached_simulate` actually ran (cache misses)."""
    calls: list[RunConfig] = []
    original = ui.runs.simulate

    def counted(config: RunConfig, *args: Any, **kwargs: Any) -> Any:
        calls.append(config)
        return original(config, *args, **kwargs)

    ui.runs.simulate = counted
    try:
        yield calls
    finally:
        ui.runs.simulate = original


def _app(size: dict[str, int]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    for key, value in size.items():
        at.session_state[key] = value
    if size.get("hidden_dim", 8) > MAX_LINE_UNITS:
        at.session_state["explorer_units"] = list(range(MAX_LINE_UNITS))  # the most lines
    return at


def chart_bytes() -> dict[str, dict[str, int | str]]:
    """Per size, per page: bytes of plotly chart specs the page sends (or the error)."""
    out: dict[str, dict[str, int | str]] = {}
    for label, size in SIZES.items():
        out[label] = {}
        at = _app(size)
        at.run()
        for page in PAGES:
            if page != PAGES[0]:
                at.switch_page(page)
                at.run()
            if at.exception:
                out[label][page] = f"exception: {at.exception[0].value[:80]}"
                continue
            out[label][page] = sum(len(chart.proto.spec) for chart in at.get("plotly_chart"))
    return out


def rerun_times(repeats: int = 7) -> dict[str, float]:
    """Explorer at 5000 × 256: script seconds of an unchanged rerun and of a display-only
    change (other units shown), and how many runs of the LSTM those reruns caused."""
    at = _app({"seq_len": 5000, "hidden_dim": 256})
    at.run()  # computes the run and the first view
    at.run()
    with script_timer() as unchanged, simulate_counter() as calls:
        for _ in range(repeats):
            at.run()
    with script_timer() as changed, simulate_counter() as more_calls:
        for n in range(repeats):
            at.multiselect(key="explorer_units").set_value(list(range(n + 1, n + 9))).run()
    with script_timer() as revisited:
        for n in range(repeats):  # the same views again: served from the view cache
            at.multiselect(key="explorer_units").set_value(list(range(n + 1, n + 9))).run()
    return {
        "unchanged": statistics.median(unchanged),
        "units_changed": statistics.median(changed),
        "units_revisited": statistics.median(revisited),
        "simulate_calls": len(calls) + len(more_calls),
    }
