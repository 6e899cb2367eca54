"""Hostile and broken files: bad CSVs and weights files are refused with a plain reason, and a
pickle that would run code is refused without running it (app reader, torch.load, CLI).
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import ROOT
from safetensors.torch import save

from lstm_core.analysis.training import TrainSpec, expected_shapes
from lstm_core.io.csv_input import MAX_CSV_BYTES, parse_csv
from lstm_core.io.weights import weights_from_bytes, weights_to_bytes

# --- CSV ---------------------------------------------------------------------------------

BAD_CSVS = {
    "empty": (b"", "no rows of numbers"),
    "only a header": (b"a,b\n", "no rows of numbers"),
    "blank lines": (b"\n \n\n", "no rows of numbers"),
    "non-numeric": (b"1,2\n3,abc\n", "row 2, column 2: 'abc' is not a number"),
    "NaN": (b"1,2\nnan,3\n", "row 2, column 1: 'nan' is not a finite number"),
    "infinity": (b"1,inf\n", "row 1, column 2: 'inf' is not a finite number"),
    "overflowing float": (b"1e400,1\n", "is not a finite number"),
    "ragged rows": (b"1,2,3\n4,5\n", "row 2 has 2 values but row 1 has 3"),
    "too many columns": (b",".join([b"1"] * 65) + b"\n", "65 columns (features); the limit is 64"),
    "too many rows": (b"1\n" * 10_001, "10,001 rows (time steps); the limit is 10,000"),
    "binary junk": (bytes(range(256)) * 4, "binary data"),
    "not UTF-8": (b"\xff\xfe1,2\n", "not a UTF-8 text CSV"),
    "larger than the cap": (b"0.5\n" * (MAX_CSV_BYTES // 4 + 1), "the limit is 8,000,000"),
}


@pytest.mark.parametrize("case", sorted(BAD_CSVS))
def test_a_bad_csv_is_refused_with_a_plain_reason(case: str) -> None:
    data, reason = BAD_CSVS[case]
    with pytest.raises(ValueError) as raised:
        parse_csv(data)
    assert reason in str(raised.value), (case, str(raised.value))
    assert "\n" not in str(raised.value)  # one line in an st.error or the CLI


# --- weights ------------------------------------------------------------------------------


def _good_state(hidden: int = 4) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return {
        name: torch.randn(shape, generator=generator)
        for name, shape in expected_shapes("lstm", 2, hidden).items()
    }


def test_good_weights_round_trip() -> None:
    spec = TrainSpec(hidden_dim=4)
    state, metadata = weights_from_bytes(weights_to_bytes(spec, _good_state()))
    assert metadata["hidden_dim"] == "4"
    for name, tensor in _good_state().items():
        torch.testing.assert_close(state[name], tensor, rtol=0, atol=0)


def test_weights_with_a_wrong_shape_are_refused() -> None:
    state = _good_state()
    state["recurrent.weight_hh_l0"] = torch.zeros(16, 5)  # should be (4H, H) = (16, 4)
    with pytest.raises(ValueError, match=r"recurrent\.weight_hh_l0"):
        weights_from_bytes(save(state))


def test_weights_with_wrong_keys_are_refused() -> None:
    state = _good_state()
    state["surprise"] = state.pop("readout.bias")
    with pytest.raises(ValueError, match=r"missing \['readout\.bias'\].*unexpected \['surprise'\]"):
        weights_from_bytes(save(state))
    with pytest.raises(ValueError, match=r"no 'readout\.weight'"):
        weights_from_bytes(save({"weight": torch.zeros(2, 2)}))


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00" * 7, b"\xff" * 64, b"PK\x03\x04" + b"\x00" * 100, b"{not json" * 10],
)
def test_junk_weights_are_refused(data: bytes) -> None:
    with pytest.raises(ValueError, match="safetensors"):
        weights_from_bytes(data)


class _Payload:
    """Unpickling this calls open(marker, "w"): the file appearing means code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def _malicious_pickle(marker: Path) -> bytes:
    buffer = io.BytesIO()
    torch.save({"readout.weight": _Payload(marker)}, buffer)
    return buffer.getvalue()


def test_the_payload_really_runs_code_when_unpickled(tmp_path: Path) -> None:
    # The control: an unsafe load does run it, so the refusals below mean something.
    marker = tmp_path / "control-ran"
    torch.load(io.BytesIO(_malicious_pickle(marker)), weights_only=False)
    assert marker.exists()


def test_a_malicious_pickle_is_refused_without_running(tmp_path: Path) -> None:
    marker = tmp_path / "payload-ran"
    data = _malicious_pickle(marker)
    with pytest.raises(ValueError, match="not a safetensors weights file"):
        weights_from_bytes(data)
    with pytest.raises(Exception, match="Weights only load failed"):
        torch.load(io.BytesIO(data), weights_only=True)
    assert not marker.exists()


def test_the_cli_refuses_a_malicious_pickle_in_one_line(tmp_path: Path) -> None:
    marker = tmp_path / "payload-ran"
    weights = tmp_path / "evil.safetensors"
    weights.write_bytes(_malicious_pickle(marker))
    done = subprocess.run(
        [sys.executable, "-m", "lstm_core", "run", "--weights", str(weights)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "not a safetensors weights file" in lines[0], done.stderr
    assert not marker.exists()


def test_the_cli_refuses_a_bad_csv_in_one_line(tmp_path: Path) -> None:
    csv_file = tmp_path / "ragged.csv"
    csv_file.write_bytes(b"1,2\n3\n")
    done = subprocess.run(
        [sys.executable, "-m", "lstm_core", "run", "--input-csv", str(csv_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "row 2 has 1 values" in lines[0], done.stderr
