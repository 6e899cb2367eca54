"""`.streamlit/config.toml`: upload cap matching the app's caps, XSRF on, no usage stats."""

from __future__ import annotations

import math
import tomllib

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
