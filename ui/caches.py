"""The server's process-wide caches, each a byte-bounded LRU (`lstm_core.serving.cache`), and the
decorator that puts a function's results in one of them."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import streamlit as st

from lstm_core.serving.cache import ByteLRU, shared_cache

# Module globals live as long as the server process, shared by every session.
RUNS: ByteLRU[Any, Any] = shared_cache("runs")  # SimulationResults
VIEWS: ByteLRU[Any, Any] = shared_cache("views")  # screen figures and per-view summaries
LAB: ByteLRU[Any, Any] = shared_cache("lab")  # memory-lab results, trained-model traces, CSVs
TRAINED: ByteLRU[Any, Any] = shared_cache("trained")  # TrainSpec -> TrainingResult

P = ParamSpec("P")
R = TypeVar("R")


def byte_cached(
    cache: ByteLRU[Any, Any],
    spinner: str | None = None,
    expected_bytes: Callable[..., int] | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Cache a function's results in `cache`, keyed by its name and (hashable) arguments.

    The name includes the function's file, so a page script (run as `__main__`, defined anew
    at every rerun) may cache its own functions too. `spinner` is shown while a result is
    computed; `expected_bytes(*args)`, if given, is reserved before (see
    ByteLRU.get_or_compute). Callers only read the results.
    """

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        code = getattr(function, "__code__", None)
        where = (function.__module__, code.co_filename if code is not None else "")

        @functools.wraps(function)
        def cached(*args: P.args, **kwargs: P.kwargs) -> R:
            key = (where, function.__qualname__, args, tuple(sorted(kwargs.items())))

            def compute() -> R:
                if spinner is None:
                    return function(*args, **kwargs)
                with st.spinner(spinner):
                    return function(*args, **kwargs)

            expected = expected_bytes(*args, **kwargs) if expected_bytes is not None else 0
            return cache.get_or_compute(key, compute, expected)

        return cached

    return decorate
