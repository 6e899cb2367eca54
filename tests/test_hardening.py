"""Hardening: non-finite runs reported, sizes above the caps refused, caches bounded in bytes, many
sessions at once with nobody's numbers mixed up, and memory flat over many reruns.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import gc
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from conftest import APP, APPTEST_TIMEOUT, ROOT, chart_specs, decode, shared_apptest_runtime
from streamlit.testing.v1 import AppTest

from lstm_core import LIMITS, RunConfig, simulate
from lstm_core.model.checks import first_nonfinite, is_finite
from lstm_core.model.settings import SETTING
from lstm_core.model.simulate import result_nbytes
from lstm_core.serving.cache import CACHE_BUDGET_BYTES
from ui.caches import LAB, RUNS, TRAINED, VIEWS

# --- non-finite runs --------------------------------------------------------------------


def _csv_config(value: float, dtype: str = "float32") -> RunConfig:
    rows = tuple((value, -value, 0.5) for _ in range(6))  # 6 steps x 3 features
    return RunConfig(signal="csv", input_dim=3, seq_len=6, input_values=rows, dtype=dtype)


def test_an_ordinary_run_is_finite() -> None:
    result = simulate(RunConfig(seq_len=30))
    assert first_nonfinite(result) is None
    assert is_finite(result)


def test_float32_overflow_of_the_input_is_reported_where_it_starts() -> None:
    # 1e300 is a finite Python float (RunConfig accepts it) but inf in float32.
    result = simulate(_csv_config(1e300))
    found = first_nonfinite(result)
    assert found is not None
    assert (found.tensor, found.index, found.value) == ("x", (0, 0, 0), math.inf)
    assert found.count == 12 and found.total == 18  # +inf and -inf columns, 6 steps each
    message = found.message("float32")
    assert "not finite" in message and "scale it down" in message
    # Inputs are float32 draws whatever the dtype (the dtype sets only the arithmetic).
    assert not is_finite(simulate(_csv_config(1e300, dtype="float64")))
    # Large but representable input saturates the gates: bounded states, nothing to report.
    saturated = simulate(_csv_config(1e30))
    assert is_finite(saturated)
    assert saturated.h.abs().max() <= 1


def test_a_nan_state_is_found_at_its_index() -> None:
    result = simulate(RunConfig(seq_len=20, hidden_dim=4, num_layers=2))
    c = result.c.clone()  # (L, B, T, H)
    c[1, 0, 7, 2] = math.nan
    c[1, 0, 9, 3] = -math.inf
    found = first_nonfinite(dataclasses.replace(result, c=c))
    assert found is not None
    assert (found.tensor, found.index, found.count) == ("c", (1, 0, 7, 2), 2)
    assert math.isnan(found.value)


def _explorer(**state: object) -> AppTest:
    """The Explorer page alone (no sidebar widgets to clamp values), with session values."""
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.switch_page("pages/explorer.py")
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def test_explorer_reports_a_non_finite_run_instead_of_drawing_it() -> None:
    config = _csv_config(1e300)
    at = _explorer(signal="csv", input_values=config.input_values)
    assert not at.exception
    assert len(at.error) == 1 and "not finite" in at.error[0].value
    assert "input x holds inf" in at.error[0].value
    assert not at.get("plotly_chart")  # nothing drawn
    # The session goes on: back to a sane signal, the chart is drawn again.
    at.session_state["signal"] = "randn"
    at.session_state["input_values"] = None
    at.run()
    assert not at.exception and not at.error
    assert at.get("plotly_chart")


# --- sizes and values above the caps ----------------------------------------------------

TOO_BIG = [(name, high + 1) for name, (_, high) in LIMITS.items()] + [
    ("input_dim", 0),
    ("seed", SETTING["seed"].high + 1),
    ("seed", -1),
    ("forget_bias", SETTING["forget_bias"].high + 0.5),
    ("forget_bias", math.nan),
    ("frequency", 0.75),
    ("chrono_t_max", 1.5),
    ("dtype", "float16"),
    ("signal", "white noise"),
]


@pytest.mark.parametrize(("key", "value"), TOO_BIG)
def test_a_value_beyond_the_caps_gives_one_clear_error(key: str, value: object) -> None:
    at = _explorer(**{key: value})
    assert not at.exception
    assert len(at.error) == 1
    assert at.error[0].value.startswith("These settings cannot run:")
    assert key in at.error[0].value
    assert not at.get("plotly_chart")


# --- caches are bounded ------------------------------------------------------------------


def _streamlit_caches(path: Path) -> list[tuple[str, int, bool]]:
    """(function, line, takes parameters) for every st.cache_data / st.cache_resource use."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if ast.unparse(target).split(".")[-1] in ("cache_data", "cache_resource"):
                arguments = node.args
                takes = bool(arguments.posonlyargs or arguments.args or arguments.kwonlyargs)
                found.append((f"{path.relative_to(ROOT)}:{node.name}", node.lineno, takes))
    return found


def test_every_process_wide_cache_is_bounded_in_bytes() -> None:
    files = [ROOT / "app.py", *sorted((ROOT / "ui").rglob("*.py"))]
    files += sorted((ROOT / "pages").rglob("*.py"))
    # Streamlit's caches bound entries, not bytes: only parameterless singletons may use them
    # (one entry each); everything kept per argument goes into a byte-bounded cache.
    per_argument = [
        f"{where} (line {line})"
        for path in files
        for where, line, takes in _streamlit_caches(path)
        if takes
    ]
    assert not per_argument, f"per-argument Streamlit caches (count-bounded): {per_argument}"
    caches = [RUNS, VIEWS, LAB, TRAINED]
    assert sum(cache.budget for cache in caches) <= CACHE_BUDGET_BYTES
    assert all(cache.budget > 0 for cache in caches)


def test_a_run_larger_than_the_run_budget_is_refused_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = RunConfig(seq_len=200, hidden_dim=64)
    monkeypatch.setattr(RUNS, "budget", result_nbytes(config) - 1)
    at = _explorer(seq_len=200, hidden_dim=64)
    assert not at.exception
    assert len(at.error) == 1
    assert at.error[0].value.startswith("These settings cannot run here: the run needs")
    assert "Lower the steps, units, batch or layers" in at.error[0].value
    assert not at.get("plotly_chart")
    monkeypatch.setattr(RUNS, "budget", 2 * result_nbytes(config))  # room for it: drawn
    at = _explorer(seq_len=200, hidden_dim=64)
    assert not at.exception and not at.error
    assert at.get("plotly_chart")


# --- many sessions at once ---------------------------------------------------------------


def _drawn_h(spec: dict) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """The h panel of a state figure spec: unit -> (steps drawn, values drawn)."""
    drawn = {}
    for trace in spec["data"]:
        if trace.get("xaxis", "x") == "x":
            drawn[int(trace["meta"])] = (decode(trace["x"]).astype(int), decode(trace["y"]))
    return drawn


def _assert_drawn_equals_run(spec: dict, config: RunConfig) -> None:
    """Every drawn h value is the float32 of the lone run's value at that step, bit for bit."""
    h = simulate(config).h[0, 0].numpy()  # (T, H)
    drawn = _drawn_h(spec)
    assert drawn, "no h traces drawn"
    for unit, (steps, values) in drawn.items():
        np.testing.assert_array_equal(values, h[steps, unit].astype(np.float32))


SESSIONS = 20


def test_twenty_sessions_at_once_each_get_the_numbers_of_a_lone_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # CPython 3.11 builds ASTs with a recursion counter that is not thread-safe: compiling in
    # many threads at once can fail with "SystemError: AST constructor recursion depth mismatch"
    # (python/cpython#106905, fixed in 3.13). A live server compiles each script once, under its
    # ScriptCache lock; here every AppTest has a cache of its own, so compile() alone is
    # serialised. The sessions' runs (and their LSTMs) still run at the same time. The garbage
    # collector is off meanwhile: a collection inside compile() can finalize an asyncio task
    # that logs a traceback, which compiles again (ast.parse for the caret lines) in the same
    # thread, nested: a deadlock on this lock once, the same SystemError with a re-entrant one.
    compile_lock = threading.Lock()
    real_compile = builtins.compile

    def compile_one_at_a_time(*args: Any, **kwargs: Any) -> Any:
        with compile_lock:
            collecting = gc.isenabled()
            gc.disable()
            try:
                return real_compile(*args, **kwargs)
            finally:
                if collecting:
                    gc.enable()

    monkeypatch.setattr(builtins, "compile", compile_one_at_a_time)
    seeds = [1000 + 17 * k for k in range(SESSIONS)]

    def session(seed: int) -> dict:
        at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
        at.session_state["seed"] = seed
        at.session_state["seq_len"] = 60
        at.run()
        assert not at.exception, at.exception
        assert at.session_state["seed"] == seed
        return chart_specs(at)[0]

    with shared_apptest_runtime(monkeypatch), ThreadPoolExecutor(max_workers=SESSIONS) as pool:
        specs = list(pool.map(session, seeds))
    for seed, spec in zip(seeds, specs, strict=True):
        _assert_drawn_equals_run(spec, RunConfig(seed=seed, seq_len=60))
    # Different seeds really drew different numbers (no session saw another's run).
    first_values = {_drawn_h(spec)[0][1].tobytes() for spec in specs}
    assert len(first_values) == SESSIONS


# --- memory over many reruns -------------------------------------------------------------


def _rss_mb() -> float:
    """This process's resident memory in MB (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


RERUNS = 200
# One run here (T=400, H=64: x, h, C, the twin, four gates) holds ~1 MB of tensors and draws
# ~0.2 MB of chart JSON. Leaking one run per rerun would add ~200 MB over 200 reruns; the
# caches, given CACHE_MB each here, hold far less. 80 MB leaves room for allocator noise and
# still catches a leak of half a run per rerun.
MAX_GROWTH_MB = 80.0
CACHE_MB = 8  # per cache: a few runs, many views; full after the warm-up


@pytest.mark.slow  # 200 reruns (about 20-40 s on 2 cores): asked for by the hardening issue
def test_memory_stays_flat_over_200_reruns_with_new_seeds(monkeypatch: pytest.MonkeyPatch) -> None:
    for cache in (RUNS, VIEWS):
        monkeypatch.setattr(cache, "budget", CACHE_MB * 2**20)
        cache.clear()
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.session_state["seq_len"] = 400
    at.session_state["hidden_dim"] = 64
    at.run()
    # Warm up past every cache's budget: the caches are full and the allocator's arenas have
    # grown before measuring.
    for seed in range(1, 60):
        at.session_state["seed"] = seed
        at.run()
    gc.collect()
    before = _rss_mb()
    for seed in range(10_000, 10_000 + RERUNS):
        at.session_state["seed"] = seed
        at.run()
        assert not at.exception
    gc.collect()
    after = _rss_mb()
    print(f"RSS over {RERUNS} reruns: {before:.0f} MB -> {after:.0f} MB ({after - before:+.1f})")
    _assert_drawn_equals_run(
        chart_specs(at)[0], RunConfig(seed=10_000 + RERUNS - 1, seq_len=400, hidden_dim=64)
    )
    assert after - before < MAX_GROWTH_MB
    assert torch.get_num_threads() >= 1  # torch still usable after the load
