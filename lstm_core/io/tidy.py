"""A run's trajectories as tidy data: one row per value, as CSV or Parquet bytes.

No streamlit here. The frame is built with numpy only (no Python loop over rows), so the
largest run the limits allow exports in one pass.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd

DATA_FORMATS: tuple[str, ...] = ("csv", "parquet")
STATE_NAMES: tuple[str, ...] = ("h", "c", "i", "f", "g", "o")
IMPL_NAMES: tuple[str, ...] = ("torch", "manual")
TIDY_COLUMNS: tuple[str, ...] = ("impl", "layer", "batch", "t", "unit", "state", "value")


def tidy_frame(result: Any) -> pd.DataFrame:
    """Every trajectory of a SimulationResult in long form, one row per value.

    Columns: impl ("torch": nn.LSTM's h, c; "manual": the hand-written cell's h, c, i, f, g,
    o), layer, batch, t, unit (int16/int32), state (categorical), value (the run's dtype).
    Rows: impl, then state, then layer, batch, t, unit in C order. Built with numpy only:
    8 x L x B x T x H rows (41 M at 10,000 steps x 512 units).
    """
    blocks = [("torch", "h", result.h), ("torch", "c", result.c)]
    blocks += [("manual", "h", result.manual_h), ("manual", "c", result.manual_c)]
    blocks += [("manual", name, result.gates[name]) for name in ("i", "f", "g", "o")]
    layers, batch, steps, hidden = result.h.shape  # (L, B, T, H)
    per_block = layers * batch * steps * hidden
    count = len(blocks)
    # Index of each row within its block, broken into (layer, batch, t, unit) without loops.
    grid = np.indices((layers, batch, steps, hidden), sparse=True)
    index_columns = {}
    for name, axis, dtype in (
        ("layer", grid[0], np.int16),
        ("batch", grid[1], np.int16),
        ("t", grid[2], np.int32),
        ("unit", grid[3], np.int16),
    ):
        one_block = np.broadcast_to(axis, (layers, batch, steps, hidden)).astype(dtype).ravel()
        index_columns[name] = np.tile(one_block, count)
    impl_codes = np.repeat(
        np.array([IMPL_NAMES.index(impl) for impl, _, _ in blocks], np.int8), per_block
    )
    state_codes = np.repeat(
        np.array([STATE_NAMES.index(state) for _, state, _ in blocks], np.int8), per_block
    )
    values = np.concatenate([tensor.detach().numpy().ravel() for _, _, tensor in blocks])
    return pd.DataFrame(
        {
            "impl": pd.Categorical.from_codes(impl_codes, IMPL_NAMES),
            **index_columns,
            "state": pd.Categorical.from_codes(state_codes, STATE_NAMES),
            "value": values,
        },
        copy=False,
    )


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a header row, no index; floats in their shortest round-trip form.

    Written by pyarrow's C++ writer, not DataFrame.to_csv, whose per-row formatting is what
    made the largest runs slow to export (README, Export and share).
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    table = pa.Table.from_pandas(frame, preserve_index=False)
    for position, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):  # categoricals: the writer wants plain text
            table = table.set_column(position, field.name, table.column(position).cast(pa.string()))
    buffer = io.BytesIO()
    buffer.write((",".join(frame.columns) + "\n").encode())
    pa_csv.write_csv(table, buffer, pa_csv.WriteOptions(include_header=False, quoting_style="none"))
    return buffer.getvalue()


def to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    """Parquet (pyarrow, zstd) keeping the dtypes and the categories."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, engine="pyarrow", compression="zstd")
    return buffer.getvalue()


def data_bytes(result: Any, fmt: str) -> bytes:
    """The tidy frame of `result` as "csv" or "parquet" bytes."""
    if fmt == "csv":
        return to_csv_bytes(tidy_frame(result))
    if fmt == "parquet":
        return to_parquet_bytes(tidy_frame(result))
    raise ValueError(f"format must be one of {', '.join(DATA_FORMATS)}, got {fmt!r}")
