"""Your own input sequence from a NumPy `.npy` file: (T, I) or (B, T, I), never unpickled.

`parse_npy` turns file bytes into a float64 array (B, T, I), or raises ValueError saying what
is wrong with the file. Object arrays are refused (np.load(allow_pickle=False)).
"""

from __future__ import annotations

import io
import math

import numpy as np

from lstm_core.io.checkpoint import MAX_STEPS, MODEL_LIMITS
from lstm_core.io.csv_input import parse_csv

# Files above this are refused before parsing; the values in a file are capped below
# (MAX_INPUT_VALUES), and the states a run makes by the state cap.
MAX_NPY_BYTES = 200_000_000
# Batch items one input may hold (the state cap bounds the run as well).
MAX_BATCH = 64


# Values an input may hold: what MAX_NPY_BYTES holds as float64, the dtype it is read into.
MAX_INPUT_VALUES = MAX_NPY_BYTES // 8


def _check_header(data: bytes) -> None:
    """Refuse, from the .npy header alone, an array this app would not read: the shape's and
    dtype's claims are checked against the caps and the bytes that follow the header."""
    buffer = io.BytesIO(data)
    readers = {
        (1, 0): np.lib.format.read_array_header_1_0,
        (2, 0): np.lib.format.read_array_header_2_0,
    }
    try:
        version = np.lib.format.read_magic(buffer)
    except (ValueError, OSError, EOFError) as error:
        raise ValueError(f"this is not a readable .npy file ({error})") from None
    if version not in readers:
        raise ValueError(f"this .npy file is format version {version}; save it with np.save")
    try:
        shape, _, dtype = readers[version](buffer)
    except (ValueError, OSError, EOFError) as error:
        raise ValueError(f"this is not a readable .npy file ({error})") from None
    if dtype.hasobject:
        raise ValueError("this .npy file holds Python objects (a pickle); save an array of numbers")
    values = math.prod(shape)
    if values > MAX_INPUT_VALUES:
        raise ValueError(
            f"the .npy array has shape {shape}, {values:,} values; the limit is "
            f"{MAX_INPUT_VALUES:,}"
        )
    if values * dtype.itemsize != len(data) - buffer.tell():
        raise ValueError(
            f"this is not a readable .npy file (its header says shape {shape} of {dtype}, "
            f"{values * dtype.itemsize:,} bytes, but {len(data) - buffer.tell():,} follow)"
        )


def parse_npy(data: bytes) -> np.ndarray:
    """Parse `.npy` bytes into a float64 array (B, T, I); a (T, I) file gives B = 1.

    Refused with a ValueError naming the problem: over MAX_NPY_BYTES, not a .npy file, an
    object (pickled) array, not numbers, not 2-D or 3-D, empty, NaN or infinite values, more
    steps, features or batch items than the caps.
    """
    if not isinstance(data, bytes | bytearray):
        raise ValueError("the .npy input must be given as bytes")
    if len(data) > MAX_NPY_BYTES:
        raise ValueError(f"the .npy file is {len(data):,} bytes; the limit is {MAX_NPY_BYTES:,}")
    if bytes(data[:6]) != b"\x93NUMPY":
        raise ValueError("this is not a readable .npy file (no NumPy header); save it with np.save")
    _check_header(bytes(data))  # before np.load, which allocates what the header claims
    try:
        array = np.load(io.BytesIO(bytes(data)), allow_pickle=False)
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise ValueError(
                "this .npy file holds Python objects (a pickle); save an array of numbers"
            ) from None
        raise ValueError(f"this is not a readable .npy file ({error})") from None
    except (OSError, EOFError) as error:
        raise ValueError(f"this is not a readable .npy file ({error})") from None
    if not isinstance(array, np.ndarray):
        raise ValueError("give one array in a .npy file, not an .npz archive")
    if array.dtype.kind not in "biuf":
        raise ValueError(f"the .npy array holds {array.dtype} values, not real numbers")
    if array.ndim == 2:
        array = array[np.newaxis]
    if array.ndim != 3:
        raise ValueError(
            f"the .npy array has shape {array.shape}; give (steps, features) or "
            "(batch, steps, features)"
        )
    batch, steps, features = array.shape
    if array.size == 0:
        raise ValueError(f"the .npy array is empty (shape {array.shape})")
    if steps > MAX_STEPS:
        raise ValueError(f"the .npy array has {steps:,} steps; the limit is {MAX_STEPS:,}")
    if features > MODEL_LIMITS["input_size"][1]:
        raise ValueError(
            f"the .npy array has {features:,} features; the limit is "
            f"{MODEL_LIMITS['input_size'][1]:,}"
        )
    if batch > MAX_BATCH:
        raise ValueError(f"the .npy array has {batch} batch items; the limit is {MAX_BATCH}")
    values = array.astype(np.float64)
    if not np.isfinite(values).all():
        raise ValueError("the .npy array holds NaN or infinite values")
    return values


def parse_input(name: str, data: bytes) -> np.ndarray:
    """An input file's bytes as a float64 array (B, T, I), read by its name's extension: a
    .npy (`parse_npy`), otherwise a CSV of T rows x I columns (`parse_csv`, B = 1). Raises
    ValueError naming the problem."""
    if name.lower().endswith(".npy"):
        return parse_npy(data)
    rows = parse_csv(data, max_columns=MODEL_LIMITS["input_size"][1])
    return np.asarray(rows, dtype=np.float64)[None]  # (1, T, I)
