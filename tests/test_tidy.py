"""Tidy data (lstm_core.io.tidy): every trajectory of a run, a row per value, as CSV or Parquet."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import torch

from lstm_core import RunConfig, simulate
from lstm_core.io.tidy import data_bytes, tidy_frame, to_csv_bytes, to_parquet_bytes


def test_tidy_frame_matches_the_tensors() -> None:
    config = RunConfig(hidden_dim=3, seq_len=5, batch_size=2, num_layers=2, seed=4)
    result = simulate(config)
    frame = tidy_frame(result)
    assert list(frame.columns) == ["impl", "layer", "batch", "t", "unit", "state", "value"]
    assert len(frame) == 8 * 2 * 2 * 5 * 3
    counts = frame.groupby(["impl", "state"], observed=True).size().to_dict()
    assert counts == {("manual", s): 60 for s in ("h", "c", "i", "f", "g", "o")} | {
        ("torch", "h"): 60,
        ("torch", "c"): 60,
    }
    assert frame["value"].dtype == np.float32
    expected = {
        ("torch", "h"): result.h,
        ("torch", "c"): result.c,
        ("manual", "h"): result.manual_h,
        ("manual", "c"): result.manual_c,
        **{("manual", g): result.gates[g] for g in ("i", "f", "g", "o")},
    }
    for (impl, state), tensor in expected.items():
        part = frame[(frame["impl"] == impl) & (frame["state"] == state)]
        rebuilt = torch.zeros_like(tensor)
        index = [
            torch.as_tensor(part[name].to_numpy(np.int64))
            for name in ("layer", "batch", "t", "unit")
        ]
        rebuilt[tuple(index)] = torch.tensor(part["value"].to_numpy())
        torch.testing.assert_close(rebuilt, tensor, rtol=0, atol=0)
    # One spot checked by hand: layer 1, batch 1, step 4, unit 2 of the forget gate.
    row = frame.query("impl == 'manual' and state == 'f' and layer == 1 and batch == 1")
    row = row.query("t == 4 and unit == 2")
    assert row["value"].item() == result.gates["f"][1, 1, 4, 2].item()


def test_csv_and_parquet_round_trip() -> None:
    result = simulate(RunConfig(hidden_dim=2, seq_len=4, dtype="float64"))
    frame = tidy_frame(result)
    from_csv = pd.read_csv(io.BytesIO(to_csv_bytes(frame)))
    assert list(from_csv.columns) == list(frame.columns)
    np.testing.assert_array_equal(from_csv["value"].to_numpy(), frame["value"].to_numpy())
    assert from_csv["state"].tolist() == frame["state"].astype(str).tolist()
    from_parquet = pd.read_parquet(io.BytesIO(to_parquet_bytes(frame)))
    pd.testing.assert_frame_equal(from_parquet, frame)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_data_bytes_is_the_tidy_frame_in_that_format(fmt: str) -> None:
    result = simulate(RunConfig(hidden_dim=2, seq_len=3, seed=5))
    frame = tidy_frame(result)
    expected = to_csv_bytes(frame) if fmt == "csv" else to_parquet_bytes(frame)
    assert data_bytes(result, fmt) == expected


def test_data_bytes_refuses_other_formats() -> None:
    with pytest.raises(ValueError, match="csv, parquet"):
        data_bytes(simulate(RunConfig(hidden_dim=2, seq_len=3)), "xlsx")
