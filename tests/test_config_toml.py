"""`.streamlit/config.toml`: upload cap matching the app's caps, XSRF on, no usage stats, no
references to elements the browser may have dropped."""

from __future__ import annotations

import math
import tomllib

import pytest
from conftest import ROOT

from lstm_core.io.csv_input import MAX_CSV_BYTES
from lstm_core.io.weights import MAX_WEIGHTS_BYTES

CONFIG = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
MIB = 1024 * 1024  # Streamlit's maxUploadSize is in MiB


def test_upload_cap_matches_the_largest_file_the_app_accepts() -> None:
    cap_mb = CONFIG["server"]["maxUploadSize"]
    largest = max(MAX_WEIGHTS_BYTES, MAX_CSV_BYTES)
    # Big enough for every file the app accepts, and no more than one MB above it, so
    # anything larger is refused before it reaches the server's memory.
    assert cap_mb * MIB >= largest
    assert cap_mb == math.ceil(largest / 1_000_000)


def test_xsrf_protection_on_usage_stats_off_headless() -> None:
    assert CONFIG["server"]["enableXsrfProtection"] is True
    assert CONFIG["server"]["enableCORS"] is True
    assert CONFIG["server"]["headless"] is True
    assert CONFIG["browser"]["gatherUsageStats"] is False


def test_no_source_file_watching() -> None:
    # Users run the app, they do not edit it; watchers cost every new session (README).
    assert CONFIG["server"]["fileWatcherType"] == "none"


def test_no_element_is_sent_as_a_reference_to_the_browser_s_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Streamlit reading this file marks not even a large chart cacheable, so it never sends a
    # reference the browser could fail to resolve ("Cached ForwardMsg MISS").
    from streamlit import config
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from streamlit.runtime.forward_msg_cache import populate_hash_if_needed

    monkeypatch.chdir(ROOT)  # Streamlit reads ./.streamlit/config.toml
    # The process's own options come back at teardown, whatever folder pytest started in.
    monkeypatch.setattr(config, "_config_options", config._config_options)
    config.get_config_options(force_reparse=True)
    # A hidden option: get_option raises if a Streamlit release stops knowing it.
    assert config.get_option("global.minCachedMessageSize") >= 1e18
    chart = ForwardMsg()
    chart.delta.new_element.plotly_chart.spec = "x" * 5_000_000
    populate_hash_if_needed(chart)
    assert chart.hash and not chart.metadata.cacheable
