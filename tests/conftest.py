"""Shared test helpers."""

from __future__ import annotations

import base64
import contextlib
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from streamlit.components.v2.component_manager import BidiComponentManager
from streamlit.runtime import Runtime
from streamlit.runtime.caching.storage.dummy_cache_storage import MemoryCacheStorageManager
from streamlit.runtime.dataframe_source_manager import DataframeSourceManager
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest, app_test
from streamlit.testing.v1.util import patch_config_options

from lstm_core import simulate
from lstm_core.model.config import (
    DTYPES,
    LIMITS,
    MAX_STATE_ELEMENTS,
    SIGNALS,
    RunConfig,
)

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
# A cold first run of a page takes ~2 s here; CI machines are shared and noisy.
APPTEST_TIMEOUT = 60


def warm_code_model_views() -> None:
    """Run the code model and rank its cells into the process cache before any page does, as
    a server's first visit does: the ranking reads all of its held-out source, longer than an
    AppTest run is given under load; each AppTest run then draws from the cache."""
    from lstm_core.model.source import ModelSource
    from ui.model_source import source_cells_or_stop, source_run_or_stop

    source_run_or_stop(ModelSource(kind="code"))
    source_cells_or_stop(ModelSource(kind="code"))


def chart_specs(at: Any) -> list[dict[str, Any]]:
    """The plotly figures an AppTest run drew, as JSON dicts."""
    return [json.loads(element.proto.spec) for element in at.get("plotly_chart")]


def decode(values: Any) -> np.ndarray:
    """A plotly array from a chart spec: a list, or {"dtype", "bdata"} base64."""
    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), values["dtype"])
    return np.asarray(values)


@contextlib.contextmanager
def shared_apptest_runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Let AppTests run in many threads at once, as sessions of one server do.

    AppTest.run swaps process-wide state in and out around every run: it installs a mock
    `Runtime._instance` and resets it to None, patches `config.get_option`, and resets
    `PagesManager.uses_pages_directory`. With runs in several threads, the first run to finish
    removes the Runtime from under the others ("Runtime hasn't been created!", then a script run
    that never records its outcome: KeyError on SCRIPT_RUN_WITHOUT_ERRORS), restores another
    run's patched get_option, or lets a starting run see uses_pages_directory set and run the
    pages/ directory instead of app.py. A live server has one of each for all its sessions;
    inside this block the AppTests share one of each too, set once here.
    """
    runtime = MagicMock(spec=Runtime)
    runtime.media_file_mgr = MediaFileManager(MemoryMediaFileStorage("/mock/media"))
    runtime.dataframe_source_mgr = DataframeSourceManager()
    runtime.cache_storage_manager = MemoryCacheStorageManager()
    components = BidiComponentManager()
    components.discover_and_register_components(start_file_watching=False)
    runtime.bidi_component_registry = components
    monkeypatch.setattr(Runtime, "instance", classmethod(lambda cls: runtime))
    monkeypatch.setattr(Runtime, "exists", classmethod(lambda cls: True))

    # Each run's own reset lands on this subclass; the class Streamlit reads keeps the value
    # that app.py's st.navigation sets (False: no pages/ directory mode).
    class PerRunPagesManager(PagesManager):
        pass

    monkeypatch.setattr(PagesManager, "uses_pages_directory", False)
    monkeypatch.setattr(app_test, "PagesManager", PerRunPagesManager)
    monkeypatch.setattr(app_test, "patch_config_options", lambda _: contextlib.nullcontext())
    with patch_config_options({"global.appTest": True}):
        yield


# Modest counts keep the whole file to a few seconds.
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_valid_config(config: RunConfig) -> None:
    for name, (low, high) in LIMITS.items():
        value = getattr(config, name)
        assert type(value) is int and low <= value <= high
    elements = config.num_layers * config.batch_size * config.seq_len * config.hidden_dim
    assert elements <= MAX_STATE_ELEMENTS
    assert config.signal in SIGNALS and config.dtype in DTYPES
    for name in ("forget_bias", "chrono_t_max", "frequency"):
        assert math.isfinite(getattr(config, name))
    if config.input_values is not None:
        assert len(config.input_values) == config.seq_len
        assert all(len(row) == config.input_dim for row in config.input_values)
    hash(config)  # caches key on it


def drawn_h(spec: dict) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """The h panel of a state figure spec: unit -> (steps drawn, values drawn)."""
    drawn = {}
    for trace in spec["data"]:
        if trace.get("xaxis", "x") == "x":
            drawn[int(trace["meta"])] = (decode(trace["x"]).astype(int), decode(trace["y"]))
    return drawn


def assert_drawn_equals_run(spec: dict, config: RunConfig) -> None:
    """Every drawn h value is the float32 of the lone run's value at that step, bit for bit."""
    h = simulate(config).h[0, 0].numpy()  # (T, H)
    drawn = drawn_h(spec)
    assert drawn, "no h traces drawn"
    for unit, (steps, values) in drawn.items():
        np.testing.assert_array_equal(values, h[steps, unit].astype(np.float32))


def open_page(page: str, **settings: object) -> AppTest:
    """Run `page` with sidebar values given through session_state (AppTest reruns only the page)."""
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    for key, value in settings.items():
        at.session_state[key] = value
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, at.exception
    return at
