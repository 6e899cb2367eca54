"""Your own input sequence from a NumPy `.npy` file: (T, I) or (B, T, I), never unpickled.

`parse_npy` turns file bytes into a float64 array (B, T, I), or raises ValueError saying what
is wrong with the file. Object arrays are refused (np.load(allow_pickle=False)).
"""

from __future__ import annotations

import io

import numpy as np

from lstm_core.io.checkpoint import MAX_STEPS, MODEL_LIMITS
from lstm_core.io.csv_input import parse_csv

# Files above this are refused before parsing: 10,000 steps x 4096 features of float32 is
# 164 MB; at the state cap a file of float64 values this size is ample.
MAX_NPY_BYTES = 200_000_000
# Batch items one input may hold (the state cap bounds the run as well).
MAX_BATCH = 64


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
