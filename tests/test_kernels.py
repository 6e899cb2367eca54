"""Kernels and threads (lstm_core.model.kernels): process-wide torch settings, switched for one
block at a time, never seen by another thread's block."""

from __future__ import annotations

import threading

import torch

from lstm_core.model.kernels import (
    PROCESS_THREADS,
    SINGLE_THREAD_MAX_STATES,
    default_kernel,
    native_kernel,
    threads_for,
)


def test_native_kernel_restores_the_backend_flag() -> None:
    before = torch.backends.mkldnn.enabled
    with native_kernel():
        assert torch.backends.mkldnn.enabled is False
        with default_kernel():  # nested in the same thread: no deadlock
            assert torch.backends.mkldnn.enabled is True
        assert torch.backends.mkldnn.enabled is False
    assert torch.backends.mkldnn.enabled == before


def test_another_thread_cannot_switch_the_kernel_inside_a_block() -> None:
    inside, release = threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def training() -> None:
        with native_kernel():
            inside.set()
            release.wait(10)
            seen["training, at the end of its block"] = torch.backends.mkldnn.enabled

    def session() -> None:
        with default_kernel():
            seen["session"] = torch.backends.mkldnn.enabled

    first = threading.Thread(target=training)
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=session)
    second.start()
    second.join(0.5)
    assert second.is_alive()  # waits for the training's block to end
    release.set()
    first.join(10)
    second.join(10)
    assert seen == {"training, at the end of its block": False, "session": True}


def test_small_runs_use_one_thread_and_restore_the_count() -> None:
    before = torch.get_num_threads()
    with threads_for(SINGLE_THREAD_MAX_STATES - 1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with threads_for(SINGLE_THREAD_MAX_STATES):
        # Large runs get at least the import-time count, whatever an earlier caller lowered.
        assert torch.get_num_threads() == max(before, PROCESS_THREADS)


def test_a_thread_started_inside_a_one_thread_block_gets_its_threads_back() -> None:
    """A thread's first torch call takes the process-wide count of that moment: 1 inside
    another thread's small run. Its large runs still use torch's count at import."""
    inside, release = threading.Event(), threading.Event()
    seen: dict[str, int] = {}

    def small_run() -> None:
        with threads_for(1):
            inside.set()
            release.wait(10)

    def later_session() -> None:
        seen["first call"] = torch.get_num_threads()
        with threads_for(SINGLE_THREAD_MAX_STATES):
            seen["large run"] = torch.get_num_threads()

    small = threading.Thread(target=small_run)
    small.start()
    assert inside.wait(10)
    later = threading.Thread(target=later_session)
    later.start()
    later.join(10)
    release.set()
    small.join(10)
    assert seen == {"first call": 1, "large run": PROCESS_THREADS}
    assert torch.get_num_threads() == PROCESS_THREADS  # this thread untouched throughout
