"""Process-wide caches bounded in bytes, least recently used out first.

Every cache the server keeps (runs, screen views, lab results, trained models) is a
`ByteLRU` with a share of one budget, `CACHE_BUDGET_BYTES`, set here or by the environment
variable `LSTM_EXPLORER_CACHE_BYTES`. A value's size is what its tensors, arrays and strings
hold (`nbytes`). A computation whose size is known beforehand (a run: `simulate.result_nbytes`)
reserves it before it starts, so runs being computed count too; one that cannot fit is
refused with `BudgetError` instead of pushing the machine into swap.

No lock is held while computing: the cache's lock guards its bookkeeping only. Callers
asking for a key that is being computed wait for that computation instead of repeating it.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

import numpy as np
import torch
from plotly.basedatatypes import BaseFigure

GIB = 2**30
# About half the memory of the machine the app is sized for (README, One server for a class):
# the rest holds the server itself, a training worker, the runs being drawn and the system.
DEFAULT_BUDGET_BYTES = 12 * GIB
BUDGET_ENV = "LSTM_EXPLORER_CACHE_BYTES"


def budget_bytes() -> int:
    """The byte budget of all caches together: $LSTM_EXPLORER_CACHE_BYTES or the default."""
    value = os.environ.get(BUDGET_ENV)
    if value is None:
        return DEFAULT_BUDGET_BYTES
    budget = int(value)
    if budget <= 0:
        raise ValueError(f"{BUDGET_ENV} must be a positive number of bytes, got {value!r}")
    return budget


CACHE_BUDGET_BYTES = budget_bytes()
# Each cache's share of the budget: runs are the large values; the views, lab results and
# trained models are small, and keep their own room so big runs never push them out.
SHARES: dict[str, float] = {"runs": 0.75, "views": 0.10, "lab": 0.10, "trained": 0.05}


class BudgetError(ValueError):
    """A value that does not fit its cache's byte budget."""


def nbytes(value: Any) -> int:
    """Bytes held by `value`: tensors (each storage once), arrays, strings, bytes, Python
    numbers and containers, found through containers, dataclasses and plotly figures; anything
    else counts as nothing."""
    seen: set[int] = set()
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, torch.Tensor):
            storage = item.untyped_storage()
            if storage.data_ptr() not in seen:
                seen.add(storage.data_ptr())
                total += storage.nbytes()
        elif isinstance(item, np.ndarray):
            total += item.nbytes
        elif isinstance(item, str | bytes | bytearray):
            total += len(item)
        elif isinstance(item, int | float | complex):
            total += sys.getsizeof(item)
        elif isinstance(item, dict):
            total += sys.getsizeof(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif _is_table(item):
            # Rows of numbers (a CSV input, say): sized from the first row rather than walked
            # value by value, which would cost more than the run it keys.
            row = item[0]
            total += sys.getsizeof(item) + len(item) * (
                sys.getsizeof(row) + len(row) * sys.getsizeof(0.0)
            )
        elif isinstance(item, list | tuple | set | frozenset):
            total += sys.getsizeof(item)
            stack.extend(item)
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            stack.extend(getattr(item, f.name) for f in dataclasses.fields(item))
        elif isinstance(item, BaseFigure):
            # Its data and layout as stored (to_plotly_json would copy them first).
            stack.extend((item._data, item._layout))
    return total


def _is_table(item: Any) -> bool:
    """A long tuple of equal-length tuples of floats (the first and last rows checked)."""
    return (
        isinstance(item, tuple)
        and len(item) > 64
        and isinstance(item[0], tuple)
        and isinstance(item[-1], tuple)
        and len(item[0]) == len(item[-1])
        and all(isinstance(v, float) for v in item[0])
    )


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ByteLRU(Generic[K, V]):
    """A thread-safe key -> value cache holding at most `budget` bytes, LRU evicted.

    An entry's size is `sizeof(key) + sizeof(value)`: a key can be large (an uploaded file).
    """

    def __init__(self, name: str, budget: int, sizeof: Callable[[Any], int] = nbytes) -> None:
        self.name = name
        self.budget = budget
        self._sizeof = sizeof
        self._lock = threading.Lock()
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._used = 0  # bytes of the entries
        self._reserved = 0  # bytes promised to computations in progress
        self._pending: dict[K, threading.Event] = {}

    @property
    def used_bytes(self) -> int:
        """Bytes held by the entries now."""
        with self._lock:
            return self._used

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._entries

    def get(self, key: K) -> V | None:
        """The value of `key` (now the most recently used), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: K, value: V) -> V:
        """Store `value`, evicting the least recently used entries to make room."""
        size = self._sizeof(key) + self._sizeof(value)
        with self._lock:
            self._check_fits(size, reserved=0)
            self._store(key, value, size)
        return value

    def get_or_compute(self, key: K, compute: Callable[[], V], expected_bytes: int = 0) -> V:
        """The value of `key`, computing it (outside the lock) when missing.

        `expected_bytes`, if known, is reserved before computing: BudgetError at once when it
        cannot fit beside the other computations in progress. Concurrent calls for one key
        compute it once; the others wait and take its value (or compute it themselves if
        that computation failed).
        """
        while True:
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None:
                    self._entries.move_to_end(key)
                    return entry[0]
                pending = self._pending.get(key)
                if pending is None:
                    self._check_fits(expected_bytes, reserved=self._reserved)
                    self._evict_for(expected_bytes + self._reserved)
                    self._reserved += expected_bytes
                    done = self._pending[key] = threading.Event()
                    break
            pending.wait()
        try:
            value = compute()
            size = self._sizeof(key) + self._sizeof(value)
            with self._lock:
                self._reserved -= expected_bytes
                expected_bytes = 0
                self._check_fits(size, reserved=0)
                self._store(key, value, size)
            return value
        finally:
            with self._lock:
                self._reserved -= expected_bytes
                del self._pending[key]
            done.set()

    def clear(self) -> None:
        """Drop every entry (computations in progress keep their reservations)."""
        with self._lock:
            self._entries.clear()
            self._used = 0

    def _check_fits(self, size: int, reserved: int) -> None:
        if size > self.budget:
            raise BudgetError(
                f"this needs {_gb(size)} of memory, more than the server keeps for {self.name} "
                f"({_gb(self.budget)}); choose smaller sizes"
            )
        if size + reserved > self.budget:
            raise BudgetError(
                f"this needs {_gb(size)} of memory and other sessions' {self.name} being "
                f"computed hold {_gb(reserved)} of the {_gb(self.budget)} kept for them; "
                "try again in a moment or choose smaller sizes"
            )

    def _evict_for(self, incoming: int) -> None:
        while self._entries and self._used + incoming > self.budget:
            _, (_, size) = self._entries.popitem(last=False)
            self._used -= size

    def _store(self, key: K, value: V, size: int) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._used -= old[1]
        self._evict_for(size + self._reserved)
        self._entries[key] = (value, size)
        self._used += size


def _gb(size: int) -> str:
    return f"{size / 1e9:.2f} GB" if size >= 10_000_000 else f"{size / 1e6:.1f} MB"


def shared_cache(name: str) -> ByteLRU[Any, Any]:
    """A new ByteLRU with cache `name`'s share of CACHE_BUDGET_BYTES (see SHARES)."""
    return ByteLRU(name, int(CACHE_BUDGET_BYTES * SHARES[name]))
