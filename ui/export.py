"""Download controls for figures and data, shared by every page.

Bytes are made only when a button is clicked (`st.download_button(data=callable)`), by the
pure functions in `lstm_core.io.image` and `lstm_core.io.tidy`; file names carry the run, e.g.
`lstm_states_I3_H8_T100_seed0@2x.png`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lstm_core import RunConfig
from lstm_core.io.image import INSTALL_HINT, figure_bytes, find_browser, image_filename
from lstm_core.io.tidy import data_bytes, to_csv_bytes, to_parquet_bytes
from ui.runs import cached_simulate

# (format, scale, button label, help)
IMAGE_CHOICES: tuple[tuple[str, float, str, str], ...] = (
    ("png", 1, "PNG 1×", "Screen size: notes, web pages."),
    ("png", 2, "PNG 2×", "Twice the pixels: slides, retina screens."),
    ("png", 4, "PNG 4×", "Four times the pixels: posters, print."),
    ("svg", 1, "SVG", "Vector: scales without blur; edit in Inkscape or a browser."),
    ("pdf", 1, "PDF", "Vector: papers (LaTeX \\includegraphics)."),
)
# Above this size a CSV is too big for a browser download (README, Export and share): it is
# left to the CLI; Parquet stays available.
CSV_MAX_BYTES = 320_000_000
# Bytes a row, for the sizes the buttons announce: the tidy long form holds one value a row, a
# traced model's frame (Trace.frame) eight.
TIDY_ROW_BYTES = {"csv": 32, "parquet": 4}
TRACE_ROW_BYTES = {"csv": 104, "parquet": 45}
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


def _image_bytes(figure: go.Figure | Callable[[], go.Figure], fmt: str, scale: float) -> bytes:
    return figure_bytes(figure() if callable(figure) else figure, fmt, scale)


def figure_downloads(figure: go.Figure | Callable[[], go.Figure], basename: str, key: str) -> None:
    """Compact PNG (1×, 2×, 4×), SVG and PDF downloads of `figure`, rendered on click.

    `figure` may be a function that builds it on click: a page that draws a themed screen
    figure passes its builder here, so exports stay on white. `basename` names the files (no
    extension); `key` prefixes the widget keys and must be unique on the page. Without a
    browser it shows how to install one instead.
    """
    with st.popover(
        "⬇ Download figure",
        help="PNG, SVG or PDF, drawn on a white background.",
        key=f"{key}_popover",
    ):
        if find_browser() is None:
            st.info(f"Image export needs Chrome or Chromium. {INSTALL_HINT}")
            return
        st.caption(f"`{basename}` · rendered when you click (a moment; longer for big runs)")
        for fmt, scale, label, text in IMAGE_CHOICES:
            st.download_button(
                label,
                data=_deferred(_image_bytes, figure, fmt, scale),
                file_name=image_filename(basename, fmt, scale),
                mime=MIME_TYPES[fmt],
                key=f"{key}_{fmt}_{scale:g}x",
                help=text,
                on_click="ignore",
                width="stretch",
            )


def size_text(nbytes: float) -> str:
    """A download's size for a person: "about 2 kB", "about 310 MB"."""
    if round(nbytes / 1e3) < 1000:
        return f"about {max(1, round(nbytes / 1e3)):,} kB"
    return f"about {nbytes / 1e6:,.0f} MB"


def _csv_and_parquet(
    make: Callable[[str], bytes],
    rows: int,
    row_bytes: dict[str, int],
    basename: str,
    key: str,
    cli_hint: str,
) -> None:
    """The CSV and Parquet buttons side by side; `make(fmt)` writes the bytes on click. CSV is
    disabled, with a reason, above CSV_MAX_BYTES."""
    csv_bytes = rows * row_bytes["csv"]
    too_big = csv_bytes > CSV_MAX_BYTES
    csv_help = (
        f"{size_text(csv_bytes)}: above {CSV_MAX_BYTES / 1e6:,.0f} MB a CSV is too large for a "
        f"browser download. Use Parquet{cli_hint}."
        if too_big
        else f"Plain text, opens anywhere: {size_text(csv_bytes)}."
    )
    parquet_help = (
        f"Compact and typed ({size_text(rows * row_bytes['parquet'])}): pandas.read_parquet, "
        "polars, DuckDB, R."
    )
    offers = (("CSV", "csv", csv_help, too_big), ("Parquet", "parquet", parquet_help, False))
    for column, (name, fmt, help_text, disabled) in zip(st.columns(2), offers, strict=True):
        column.download_button(
            f"⬇ Data as {name}",
            data=lambda fmt=fmt: make(fmt),
            file_name=f"{basename}.{fmt}",
            mime=MIME_TYPES[fmt],
            key=f"{key}_{fmt}",
            help=help_text,
            on_click="ignore",
            disabled=disabled,
            width="stretch",
        )


def data_downloads(config: RunConfig, basename: str, key: str) -> None:
    """CSV and Parquet of every trajectory of the run of `config` in tidy long form, made on
    click from the cached run (held by nothing else meanwhile: the run cache stays the one
    that bounds the memory runs take). CSV is offered up to CSV_MAX_BYTES; above that Parquet,
    or the CLI.
    """
    # torch h, c + manual h, c, i, f, g, o; each (L, B, T, H)
    rows = 8 * config.num_layers * config.batch_size * config.seq_len * config.hidden_dim
    st.caption(
        f"Tidy long form, one row per value ({rows:,} rows): columns impl (torch / manual), "
        "layer, batch, t, unit, state (h, c, i, f, g, o), value. Made when you click."
    )
    _csv_and_parquet(
        lambda fmt: data_bytes(cached_simulate(config), fmt),
        rows,
        TIDY_ROW_BYTES,
        basename,
        key,
        f", or `python -m lstm_core export {basename}.csv [flags]`",
    )


def trace_downloads(frame: Callable[[], pd.DataFrame], rows: int, basename: str, key: str) -> None:
    """CSV and Parquet of a traced model's states (`frame()`: Trace.frame, `rows` rows), made
    on click. CSV is offered up to CSV_MAX_BYTES; Parquet always."""
    st.caption(
        f"One row per layer, direction, batch item, step and unit ({rows:,} rows): h, c "
        "(nn.LSTM), i, f, g, o, manual_h, manual_c (the hand-written cell). Made when you click."
    )
    _csv_and_parquet(
        lambda fmt: to_csv_bytes(frame()) if fmt == "csv" else to_parquet_bytes(frame()),
        rows,
        TRACE_ROW_BYTES,
        basename,
        key,
        "",
    )


# st.code gets slow past this; longer scripts (CSV input embedded) are download-only.
MAX_SHOWN_SCRIPT_CHARS = 60_000


def reproduce_section(config: RunConfig, key: str) -> None:
    """The plain-PyTorch script that rebuilds `config`'s run: shown in an expander, downloadable."""
    from lstm_core.io.reproduce import reproduce_script, script_filename

    script = reproduce_script(config)
    with st.expander("Reproduce this run in plain PyTorch (a standalone script)"):
        st.caption(
            "Needs only `torch`. Its last printed line is the JSON object "
            '`{"h_n": [layer][batch][unit], "c_n": [...]}`, equal to the numbers above. '
            "Also: `python -m lstm_core script [flags]`."
        )
        st.download_button(
            "⬇ Download the script",
            data=script,
            file_name=script_filename(config),
            mime=MIME_TYPES["py"],
            key=f"{key}_script",
            on_click="ignore",
        )
        # Behind a toggle: st.code pulls in a large highlighter that, parsed at first paint,
        # delays the first chart (benchmarks: warm page load).
        show = st.toggle("Show the script here", key=f"{key}_show_script")
        if not show:
            pass
        elif len(script) <= MAX_SHOWN_SCRIPT_CHARS:
            st.code(script, language="python")
        else:
            st.info(f"The script embeds your CSV ({len(script):,} characters): download it.")
