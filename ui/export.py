"""Download controls for figures and data, shared by every page.

Bytes are made only when a button is clicked (`st.download_button(data=callable)`), by the
pure functions in `lstm_core.export`; file names carry the run, e.g.
`lstm_states_I3_H8_T100_seed0@2x.png`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from lstm_core.export import (
    INSTALL_HINT,
    data_bytes,
    figure_bytes,
    find_browser,
    image_filename,
)

# (format, scale, button label, help)
IMAGE_CHOICES: tuple[tuple[str, float, str, str], ...] = (
    ("png", 1, "PNG 1×", "Screen size: notes, web pages."),
    ("png", 2, "PNG 2×", "Twice the pixels: slides, retina screens."),
    ("png", 4, "PNG 4×", "Four times the pixels: posters, print."),
    ("svg", 1, "SVG", "Vector: scales without blur; edit in Inkscape or a browser."),
    ("pdf", 1, "PDF", "Vector: papers (LaTeX \\includegraphics)."),
)
MIME_TYPES: dict[str, str] = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "json": "application/json",
    "py": "text/x-python",
}


def plotly_config(basename: str) -> dict[str, Any]:
    """The `config=` of st.plotly_chart: the toolbar's camera button saves `basename.png` at 2×."""
    return {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": basename, "scale": 2},
    }


def _deferred(make: Callable[..., bytes], *args: Any) -> Callable[[], bytes]:
    return lambda: make(*args)


def figure_downloads(figure: go.Figure, basename: str, key: str) -> None:
    """Compact PNG (1×, 2×, 4×), SVG and PDF downloads of `figure`, rendered on click.

    `basename` names the files (no extension); `key` prefixes the widget keys and must be
    unique on the page. Without a browser it shows how to install one instead.
    """
    with st.popover(
        "⬇ Download figure",
        help="PNG, SVG or PDF, drawn on a white background.",
        key=f"{key}_popover",
    ):
        if find_browser() is None:
            st.info(f"Image export needs Chrome or Chromium. {INSTALL_HINT}")
            return
        st.caption(f"`{basename}` · rendered when you click (≈0.3 s, longer for big runs)")
        for fmt, scale, label, text in IMAGE_CHOICES:
            st.download_button(
                label,
                data=_deferred(figure_bytes, figure, fmt, scale),
                file_name=image_filename(basename, fmt, scale),
                mime=MIME_TYPES[fmt],
                key=f"{key}_{fmt}_{scale:g}x",
                help=text,
                on_click="ignore",
                width="stretch",
            )


def data_downloads(result: Any, basename: str, key: str) -> None:
    """CSV and Parquet of every trajectory of `result` in tidy long form, made on click."""
    rows = 8 * result.h.numel()
    columns = st.columns(2)
    for column, fmt, text in (
        (columns[0], "csv", "Plain text, opens anywhere; large (≈25 bytes per row)."),
        (columns[1], "parquet", "Compact and typed: pandas.read_parquet, polars, DuckDB, R."),
    ):
        column.download_button(
            f"Data as {fmt.upper()} ({rows:,} rows)",
            data=_deferred(data_bytes, result, fmt),
            file_name=f"{basename}.{fmt}",
            mime=MIME_TYPES[fmt],
            key=f"{key}_{fmt}",
            help=f"{text} Columns: impl, layer, batch, t, unit, state, value.",
            on_click="ignore",
            width="stretch",
        )
