"""ui.export: the download controls' sizes and limits, run on their own."""

from __future__ import annotations

import pytest
from conftest import APPTEST_TIMEOUT
from streamlit.testing.v1 import AppTest

from ui.export import CSV_MAX_BYTES, TRACE_ROW_BYTES, size_text


@pytest.mark.parametrize(
    ("nbytes", "text"),
    [
        (0, "about 1 kB"),
        (2_048, "about 2 kB"),
        (999_400, "about 999 kB"),
        (999_700, "about 1 MB"),
        (320e6, "about 320 MB"),
    ],
)
def test_size_text(nbytes: float, text: str) -> None:
    assert size_text(nbytes) == text


def trace_script() -> None:
    import pandas as pd
    import streamlit as st

    from ui.export import trace_downloads

    trace_downloads(lambda: pd.DataFrame({"h": [0.5]}), st.session_state["rows"], "run", "data")


def buttons(rows: int) -> dict[str, tuple[bool, str]]:
    at = AppTest.from_function(trace_script, default_timeout=APPTEST_TIMEOUT)
    at.session_state["rows"] = rows
    at.run()
    assert not at.exception
    return {b.proto.label: (b.proto.disabled, b.proto.help) for b in at.get("download_button")}


def test_a_trace_gets_csv_and_parquet_and_a_too_big_csv_says_why() -> None:
    small = buttons(1_000)
    assert small["⬇ Data as CSV"] == (False, "Plain text, opens anywhere: about 104 kB.")
    assert small["⬇ Data as Parquet"][0] is False
    rows = CSV_MAX_BYTES // TRACE_ROW_BYTES["csv"] + 1
    big = buttons(rows)
    disabled, reason = big["⬇ Data as CSV"]
    assert disabled and "above 320 MB a CSV is too large for a browser download. Use Parquet" in (
        reason
    )
    assert big["⬇ Data as Parquet"][0] is False
