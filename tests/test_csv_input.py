"""The CSV parser (lstm_core.io.csv_input): good files give rows of floats; every kind of bad or
hostile file a clear ValueError (property-tested too), and one line from the CLI."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import FAST, ROOT
from hypothesis import given
from hypothesis import strategies as st

from lstm_core.io.csv_input import MAX_CSV_BYTES, parse_csv
from lstm_core.model.config import (
    LIMITS,
    RunConfig,
)


def test_plain_rows_of_numbers() -> None:
    assert parse_csv(b"1,2\n3.5,-4e-1\n") == ((1.0, 2.0), (3.5, -0.4))


def test_header_bom_spaces_crlf_and_blank_lines() -> None:
    data = "\ufeffx, y\r\n 1 , 2\r\n\r\n3,4\r\n\n".encode()
    assert parse_csv(data) == ((1.0, 2.0), (3.0, 4.0))


def test_one_column_and_the_result_makes_a_run_config() -> None:
    rows = parse_csv(b"0.5\n-1\n2\n")
    assert rows == ((0.5,), (-1.0,), (2.0,))
    config = RunConfig(signal="csv", input_values=rows, seq_len=3, input_dim=1)
    assert config.input_values == rows


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "no rows of numbers"),
        (b"\n\n  \n", "no rows of numbers"),
        (b"a,b\n", "no rows of numbers"),
        (b"1,2\n3,x\n", "row 2, column 2: 'x' is not a number"),
        (b"1,2\n3,\n", "row 2, column 2: '' is not a number"),
        (b"1,nan\n", "not a finite number"),
        (b"1,2\ninf,2\n", "not a finite number"),
        (b"1,2\n3\n", "row 2 has 1 values but row 1 has 2"),
        (b"1,2\n3,4,5\n", "row 2 has 3 values"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"\xff\xfe1,2\n", "not a UTF-8"),
    ],
)
def test_bad_files_are_refused_with_the_reason(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        parse_csv(data)


def test_too_many_columns() -> None:
    width = LIMITS["input_dim"][1] + 1
    with pytest.raises(ValueError, match=f"{width} columns"):
        parse_csv((",".join(["1"] * width) + "\n").encode())


def test_the_largest_allowed_sizes_pass_and_one_more_row_fails() -> None:
    rows, width = LIMITS["seq_len"][1], LIMITS["input_dim"][1]
    line = ",".join(["1"] * width) + "\n"
    assert len(parse_csv((line * rows).encode())) == rows
    with pytest.raises(ValueError, match=f"{rows + 1:,} rows"):
        parse_csv((line * (rows + 1)).encode())


def test_files_over_the_byte_cap_are_refused_before_parsing() -> None:
    with pytest.raises(ValueError, match="limit is"):
        parse_csv(b"1\n" * (MAX_CSV_BYTES // 2 + 1))


def test_not_bytes() -> None:
    with pytest.raises(ValueError, match="bytes"):
        parse_csv("1,2")  # type: ignore[arg-type]


# Bytes that look like CSV more often than random bytes do.
CSV_CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers().map(str),
    st.sampled_from(["", " ", "nan", "inf", "-inf", "1e400", "x", '"1"', "1,5", "\ufeff1"]),
    st.text(max_size=5),
)


CSV_TEXT = st.lists(
    st.lists(CSV_CELLS, min_size=0, max_size=4).map(",".join), min_size=0, max_size=8
).map("\n".join)


def _assert_rows(rows: Any) -> None:
    assert isinstance(rows, tuple) and 1 <= len(rows) <= LIMITS["seq_len"][1]
    width = len(rows[0])
    assert 1 <= width <= LIMITS["input_dim"][1]
    for row in rows:
        assert isinstance(row, tuple) and len(row) == width
        assert all(isinstance(v, float) and math.isfinite(v) for v in row)
    # What the reader accepts, a config accepts.
    RunConfig(signal="csv", input_dim=width, seq_len=len(rows), input_values=rows)


@FAST
@given(st.one_of(st.binary(max_size=200), CSV_TEXT.map(lambda t: t.encode("utf-8"))))
def test_csv_reader_gives_rows_or_a_value_error(data: bytes) -> None:
    try:
        rows = parse_csv(data)
    except ValueError as error:
        assert str(error)
        return
    _assert_rows(rows)


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
