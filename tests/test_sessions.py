"""Many sessions at once (ui.runs, ui.caches through the Explorer): each gets the numbers of a lone
run, nobody's mixed up."""

from __future__ import annotations

import builtins
import gc
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from conftest import (
    APP,
    APPTEST_TIMEOUT,
    assert_drawn_equals_run,
    chart_specs,
    drawn_h,
    shared_apptest_runtime,
)
from streamlit.testing.v1 import AppTest

from lstm_core import RunConfig

# --- many sessions at once ---------------------------------------------------------------


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
        assert_drawn_equals_run(spec, RunConfig(seed=seed, seq_len=60))
    # Different seeds really drew different numbers (no session saw another's run).
    first_values = {drawn_h(spec)[0][1].tobytes() for spec in specs}
    assert len(first_values) == SESSIONS
