"""The CSV parser: good files give rows of floats; every kind of bad file a clear ValueError."""

from __future__ import annotations

import pytest

from lstm_core.io.csv_input import MAX_CSV_BYTES, parse_csv
from lstm_core.model.config import LIMITS, RunConfig


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
