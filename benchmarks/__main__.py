"""`python -m benchmarks [--quick] [--no-browser]`: every goal of issue 6 in one table."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

import torch

from benchmarks import apptest, browser, core
from lstm_core import DEFAULT_CONFIG
from lstm_core.model.config import MAX_STATE_ELEMENTS

MB = 1e6


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cores": f"{os.cpu_count()} ({len(os.sched_getaffinity(0))} usable)",
        "CPU": model,
        "torch threads": str(torch.get_num_threads()),
        "versions": f"Python {platform.python_version()}, torch {torch.__version__}",
    }


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


_LOAD_AT_START: list[float] = [0.0]  # 1-minute load average when the last measurement began


def _timed(name: str, work: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    _LOAD_AT_START[0] = os.getloadavg()[0]
    print(f"… {name} (load {_load()})", file=sys.stderr, flush=True)
    try:
        return work()
    except Exception as error:  # one broken measurement must not hide the others
        print(f"  {name} failed: {error!r}", file=sys.stderr)
        return error
    finally:
        print(f"  {name}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats (noisier)")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium timings")
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    load_before = _load()

    rows: list[tuple[str, str, str, bool | None, float]] = []  # goal, measured, target, pass, load

    def add(goal: str, value: Any, show: Callable[[Any], str], target: str, ok: Any) -> None:
        load = _LOAD_AT_START[0]
        if isinstance(value, Exception):
            text = f"error: {type(value).__name__}: {value}"[:90]
            rows.append((goal, text, target, False, load))
        else:
            rows.append((goal, show(value), target, ok(value) if callable(ok) else ok, load))

    charts = _timed("chart data per page (AppTest)", apptest.chart_bytes)
    if isinstance(charts, Exception):
        add("chart data per page", charts, str, "≤ 2 MB", False)
    else:
        for size, pages in charts.items():
            numbers = {page: b for page, b in pages.items() if isinstance(b, int)}
            worst = max(numbers, key=numbers.get)
            errors = [f"{page}: {b}" for page, b in pages.items() if not isinstance(b, int)]
            text = f"{numbers[worst] / MB:.2f} MB (max: {worst.removeprefix('pages/')})"
            add(
                f"chart data per page, {size}",
                text + (f"; {'; '.join(errors)}" if errors else ""),
                str,
                "≤ 2 MB",
                numbers[worst] <= 2 * MB and not errors,
            )
    reruns = _timed("rerun script time (AppTest)", lambda: apptest.rerun_times(repeats + 2))
    add(
        "unchanged config, rerun at 5000 × 256 (script)",
        reruns,
        lambda r: f"{r['unchanged'] * 1e3:.0f} ms",
        "≤ 50 ms",
        lambda r: r["unchanged"] <= 0.05,
    )
    add(
        "display-only change (other units): LSTM reruns",
        reruns,
        lambda r: (
            f"{r['simulate_calls']} (script {r['units_changed'] * 1e3:.0f} ms new view, "
            f"{r['units_revisited'] * 1e3:.0f} ms seen view)"
        ),
        "0",
        lambda r: r["simulate_calls"] == 0,
    )
    if not args.no_browser:
        timings = _timed(
            "browser (Playwright + Chromium)", lambda: browser.browser_timings(repeats)
        )
        for key, goal, limit in (
            ("slider_default", "slider → chart redrawn, default size (100 × 8)", 0.3),
            ("slider_5000x256", "slider → chart redrawn, 5000 × 256", 1.0),
            ("page_load_warm", "warm page load → first chart drawn (browser cache warm)", 2.0),
        ):
            add(
                goal,
                timings,
                lambda t, key=key: f"{t[key]:.2f} s",
                f"≤ {limit:g} s",
                lambda t, key=key, limit=limit: t[key] <= limit,
            )
        add(
            "page load → first chart, new browser profile (cold browser cache)",
            timings,
            lambda t: f"{t['page_load_new_profile']:.2f} s",
            "(no goal)",
            None,
        )
        add(
            "server peak RSS after drawing the largest size (float64)",
            timings,
            lambda t: f"{t['server_peak_rss_gb']:.2f} GB",
            "≤ 2 GB",
            lambda t: t["server_peak_rss_gb"] <= 2,
        )
    ratio = _timed("simulate vs one nn.LSTM forward", lambda: core.simulate_ratio(repeats - 2))
    add(
        "simulate ÷ one whole-sequence nn.LSTM forward (64 → 512, 10,000 steps)",
        ratio,
        lambda r: (
            f"{r['ratio']:.2f}× ({r['simulate']:.2f} s ÷ {r['forward']:.2f} s, "
            f"{r['threads']} threads; {r['ratio_native']:.2f}× the native kernel's "
            f"{r['forward_native']:.2f} s)"
        ),
        "≤ 3×",
        lambda r: r["ratio"] <= 3,
    )
    for dtype in ("float32", "float64"):
        peak = _timed(f"peak memory {dtype}", lambda dtype=dtype: core.peak_memory_gb(dtype))
        add(
            f"peak RSS, largest run (10,000 × 512, {dtype}) + its figures",
            peak,
            lambda gb: f"{gb:.2f} GB",
            "≤ 2 GB",
            lambda gb: gb <= 2,
        )
    png_default = _timed(
        "PNG export default", lambda: core.png_export_seconds(DEFAULT_CONFIG, 16, repeats)
    )
    add(
        "PNG export warm, default size",
        png_default,
        lambda s: f"{s:.2f} s",
        "≤ 0.5 s",
        lambda s: s <= 0.5,
    )
    png_largest = _timed(
        "PNG export largest", lambda: core.png_export_seconds(core.LARGEST, 16, repeats)
    )
    add(
        "PNG export warm, largest (16 lines of 10,000 steps)",
        png_largest,
        lambda s: f"{s:.2f} s",
        "≤ 2 s",
        lambda s: s <= 2,
    )

    cores = len(os.sched_getaffinity(0))
    print("| goal | measured | target | result | load (1 min) at start |")
    print("| --- | --- | --- | --- | --- |")
    for goal, measured, target, ok, load in rows:
        busy = " (busy machine: timing unreliable)" if load > cores else ""
        result = "–" if ok is None else "pass" if ok else "FAIL"
        print(f"| {goal} | {measured} | {target} | {result} | {load:.1f}{busy} |")
    print()
    for key, value in machine().items():
        print(f"- {key}: {value}")
    print(f"- caps: layers × batch × steps × hidden ≤ {MAX_STATE_ELEMENTS:,}")
    print(f"- load average (1/5/15 min) before: {load_before}; after: {_load()}")


if __name__ == "__main__":
    main()
