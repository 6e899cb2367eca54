"""Which CPU kernel nn.LSTM runs on, and how many threads a run takes: process-wide settings,
switched safely for one block at a time while other sessions' runs go on in other threads."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import torch

# PyTorch picks oneDNN (mkldnn) for float32 LSTMs on CPU by default; its sigmoid and tanh are
# approximations a few float32 ulps from the written-out equations. The app's nn.LSTM runs on
# that default, as a user's does. The memory lab and training run on PyTorch's native ATen
# kernel instead (deterministic gradients, the same kernel as float64). The switch is
# process-wide, hence one lock: concurrent sessions must never see each other's setting.
_BACKEND_LOCK = threading.RLock()


@contextlib.contextmanager
def _lstm_kernel(onednn: bool) -> Iterator[None]:
    with _BACKEND_LOCK:
        was_enabled = torch.backends.mkldnn.enabled
        torch.backends.mkldnn.enabled = onednn
        try:
            yield
        finally:
            torch.backends.mkldnn.enabled = was_enabled


def native_kernel() -> contextlib.AbstractContextManager[None]:
    """Run nn.LSTM / nn.GRU / nn.RNN on PyTorch's native CPU kernel inside this block."""
    return _lstm_kernel(onednn=False)


def default_kernel() -> contextlib.AbstractContextManager[None]:
    """Run nn.LSTM on PyTorch's default CPU kernel (oneDNN for float32) inside this block,
    whatever another thread has switched."""
    return _lstm_kernel(onednn=True)


# Below this many states (layers x batch x steps x units) a run uses one CPU thread. Its ops are
# too small to split, and every parallel region waits for a second thread that a busy machine
# (the browser redrawing on the same cores) may not schedule soon: on a shared server one
# thread is faster for small runs and never waits (README, Performance: A quiet server).
SINGLE_THREAD_MAX_STATES = 65_536


# torch's intra-op thread count when this module was imported: what larger runs use at least.
PROCESS_THREADS = torch.get_num_threads()


@contextlib.contextmanager
def threads_for(states: int) -> Iterator[None]:
    """Intra-op threads for a run of `states`: one below SINGLE_THREAD_MAX_STATES (restored
    after the block); at least torch's count at import (PROCESS_THREADS) above it.

    torch.set_num_threads sets the calling thread's OpenMP and MKL counts, and also the count
    any thread takes at its first torch call. A thread (a Streamlit script run) that made that
    call inside another session's one-thread block would keep one thread: a large run raises
    it back to the import-time count, and leaves it there (lowering the process-wide count
    again would hand one thread on to the threads that start next).
    """
    current = torch.get_num_threads()
    if states >= SINGLE_THREAD_MAX_STATES:
        if current < PROCESS_THREADS:
            torch.set_num_threads(PROCESS_THREADS)
        yield
        return
    if current == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(current)
