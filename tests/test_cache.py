"""lstm_core.serving.cache: byte-bounded LRU caches, sizes from nbytes, no lock held while
computing."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from lstm_core.serving.cache import (
    BUDGET_ENV,
    DEFAULT_BUDGET_BYTES,
    BudgetError,
    ByteLRU,
    budget_bytes,
)
from lstm_core.serving.cache import nbytes as measured


def _size(value: object) -> int:
    """Sizes of the tensors alone (keys are small ints): simple arithmetic in the tests."""
    return value.untyped_storage().nbytes() if isinstance(value, torch.Tensor) else 0


def _cache(budget: int) -> ByteLRU[int, torch.Tensor]:
    return ByteLRU("tests", budget, sizeof=_size)


def test_sizes_come_from_nbytes_and_a_storage_counts_once() -> None:
    tensor = torch.zeros(100, dtype=torch.float64)  # 800 bytes
    assert measured(tensor) == 800
    assert measured({"a": tensor, "b": tensor[10:20], "c": tensor.view(10, 10)}) >= 800
    assert measured({"a": tensor, "b": tensor[10:20]}) < 1600  # views share the storage
    assert measured(np.zeros(10, dtype=np.float32)) == 40
    assert measured(b"x" * 1000) == 1000


def test_least_recently_used_entries_go_first_when_bytes_run_out() -> None:
    cache = _cache(budget=3 * 400)
    for key in range(3):
        cache.put(key, torch.zeros(100))  # 400 bytes each
    assert cache.get(0) is not None  # 0 is now the most recently used
    cache.put(3, torch.zeros(100))
    assert 1 not in cache and {0, 2, 3} <= {k for k in range(4) if k in cache}
    assert cache.used_bytes == 1200
    cache.put(4, torch.zeros(200))  # 800 bytes: two entries make room
    assert [k for k in range(5) if k in cache] == [3, 4]
    assert cache.used_bytes == 1200


def test_a_value_larger_than_the_budget_is_refused_with_its_size() -> None:
    cache = _cache(budget=1000)
    with pytest.raises(BudgetError, match=r"needs 0\.0 MB .* more than the server keeps for tests"):
        cache.put(0, torch.zeros(300))
    calls = []
    with pytest.raises(BudgetError):  # refused before computing when the size is known
        cache.get_or_compute(1, lambda: calls.append(1) or torch.zeros(1), expected_bytes=2000)
    assert not calls and len(cache) == 0


def test_concurrent_callers_of_one_key_compute_it_once_and_hold_no_lock_meanwhile() -> None:
    cache = _cache(budget=10_000)
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow() -> torch.Tensor:
        calls.append(1)
        started.set()
        release.wait()
        return torch.ones(10)

    results: list[torch.Tensor] = []
    first = threading.Thread(target=lambda: results.append(cache.get_or_compute(7, slow)))
    first.start()
    started.wait()
    # While key 7 is computed, the cache serves and stores other keys.
    cache.put(1, torch.zeros(10))
    assert cache.get(1) is not None
    second = threading.Thread(target=lambda: results.append(cache.get_or_compute(7, slow)))
    second.start()
    release.set()
    first.join()
    second.join()
    assert len(calls) == 1
    assert results[0] is results[1]


def test_computations_in_progress_count_against_the_budget() -> None:
    cache = _cache(budget=1000)
    inside = threading.Event()
    release = threading.Event()

    def big() -> torch.Tensor:
        inside.set()
        release.wait()
        return torch.zeros(150)  # 600 bytes

    thread = threading.Thread(target=lambda: cache.get_or_compute(1, big, expected_bytes=600))
    thread.start()
    inside.wait()
    with pytest.raises(BudgetError, match="being computed hold"):
        cache.get_or_compute(2, lambda: torch.zeros(150), expected_bytes=600)
    release.set()
    thread.join()
    assert cache.get_or_compute(2, lambda: torch.zeros(100), expected_bytes=400) is not None
    assert 1 in cache and 2 in cache


def test_a_failed_computation_leaves_nothing_behind() -> None:
    cache = _cache(budget=1000)

    def broken() -> torch.Tensor:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        cache.get_or_compute(1, broken, expected_bytes=900)
    assert cache.get_or_compute(1, lambda: torch.zeros(200), expected_bytes=800) is not None


def test_the_budget_comes_from_the_environment_or_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(BUDGET_ENV, raising=False)
    assert budget_bytes() == DEFAULT_BUDGET_BYTES
    monkeypatch.setenv(BUDGET_ENV, "123456")
    assert budget_bytes() == 123456
    monkeypatch.setenv(BUDGET_ENV, "0")
    with pytest.raises(ValueError, match=BUDGET_ENV):
        budget_bytes()


def test_rows_of_numbers_count_as_their_values_without_being_walked() -> None:
    import sys

    rows = tuple(tuple(float(t * 3 + k) + 0.5 for k in range(3)) for t in range(200))  # CSV-like
    walked = sys.getsizeof(rows) + sum(
        sys.getsizeof(row) + sum(sys.getsizeof(v) for v in row) for row in rows
    )
    assert measured(rows) == walked
