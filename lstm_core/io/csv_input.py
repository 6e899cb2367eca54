"""Your own input sequence from a CSV file: rows are time steps, columns are features.

`parse_csv` turns uploaded bytes into the hashable tuple of row tuples that
`RunConfig.input_values` holds, or raises ValueError saying what is wrong with the file.
"""

from __future__ import annotations

import csv
import io
import math

from lstm_core.model.config import LIMITS

# Files above this are refused before parsing. It admits every file the caps allow (LIMITS:
# seq_len rows x input_dim columns of ten-character values like "-1.234567,"), with room.
MAX_CSV_BYTES = 8_000_000


def parse_csv(data: bytes, max_columns: int | None = None) -> tuple[tuple[float, ...], ...]:
    """Parse CSV bytes into rows of floats, (T rows, I columns).

    Accepted: UTF-8 (a BOM is fine), comma-separated, an optional header row of names (no
    number in it), blank lines ignored. Refused with a ValueError naming the problem: empty,
    over MAX_CSV_BYTES, binary, a value that is not a number, NaN or infinity, rows of
    different lengths, more columns than `max_columns` (default LIMITS["input_dim"], the
    seeded model's; a loaded model passes its own cap) or rows than LIMITS["seq_len"].
    """
    if not isinstance(data, bytes | bytearray):
        raise ValueError("the CSV must be given as bytes")
    if len(data) > MAX_CSV_BYTES:
        raise ValueError(f"the CSV file is {len(data):,} bytes; the limit is {MAX_CSV_BYTES:,}")
    if b"\x00" in data:
        raise ValueError("this is not a text CSV file (it contains binary data)")
    try:
        text = bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("this is not a UTF-8 text CSV file") from None
    try:
        rows = [
            [cell.strip() for cell in row]
            for row in csv.reader(io.StringIO(text))
            if any(cell.strip() for cell in row)
        ]
    except csv.Error as error:
        raise ValueError(f"the CSV file could not be read: {error}") from None
    if rows and not any(_is_number(cell) for cell in rows[0]):
        rows = rows[1:]  # a header row of column names
    if not rows:
        raise ValueError("the CSV file has no rows of numbers")
    max_rows = LIMITS["seq_len"][1]
    max_columns = LIMITS["input_dim"][1] if max_columns is None else max_columns
    if len(rows) > max_rows:
        raise ValueError(f"the CSV has {len(rows):,} rows (time steps); the limit is {max_rows:,}")
    width = len(rows[0])
    if width > max_columns:
        raise ValueError(f"the CSV has {width} columns (features); the limit is {max_columns}")
    parsed: list[tuple[float, ...]] = []
    for number, row in enumerate(rows, start=1):
        if len(row) != width:
            raise ValueError(
                f"row {number} has {len(row)} values but row 1 has {width}: "
                "every row needs the same number of columns"
            )
        values = []
        for column, cell in enumerate(row, start=1):
            try:
                value = float(cell)
            except ValueError:
                raise ValueError(
                    f"row {number}, column {column}: {cell[:40]!r} is not a number"
                ) from None
            if not math.isfinite(value):
                raise ValueError(f"row {number}, column {column}: {cell!r} is not a finite number")
            values.append(value)
        parsed.append(tuple(values))
    return tuple(parsed)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
