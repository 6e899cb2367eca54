"""Long computations (trainings) as bounded jobs: one at a time, queued, stoppable, measured.

A `JobRunner` runs one job at a time; later ones wait in a queue and know their place. Each
job is `function(*args, on_step=callback)` run in a worker process of its own, a fresh
interpreter (`python -c`, not multiprocessing: Streamlit installs the page script as
`__main__`, which multiprocessing would run again in the worker). So the job shares nothing
the server's own runs need: torch's process-wide flags (the LSTM kernel switch in
`lstm_core.model.kernels`), its locks and its thread pool are the worker's own. The worker runs at
a lower CPU priority with a capped torch thread count, so the server's sessions are served
first; stopping a job terminates its process, so nothing is left running.

Jobs have owners (the sessions waiting for them). A job whose owners have all released it, or
have all been gone for `grace_s` (as told by `is_alive`), is stopped. Every finished job
records its rate (work units per second of computation) under its `rate_key`: the next
estimate of the same kind of job uses it.

This module knows nothing of Streamlit; `ui/jobs.py` is the thin part that shows a job.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pickle
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
CANCELLED = "cancelled"
FINISHED = frozenset({DONE, FAILED, CANCELLED})

# The directory holding lstm_core: where a worker finds this module.
_ROOT = str(Path(__file__).resolve().parents[2])
# Worker progress messages are sent at most this often (and always for the first and last
# step): each is a pickled message through a pipe.
PROGRESS_INTERVAL_S = 0.1

_ids = itertools.count(1)


@dataclass(eq=False)
class Job:
    """One submitted computation and what is known of it. Read its fields; the runner writes."""

    key: Hashable  # equal keys are the same computation: submitting one again joins it
    function: Callable[..., Any]  # module-level (picklable), takes on_step=(step, total, value)
    args: tuple[Any, ...]
    work: float  # in the units of its rate_key's rate, e.g. sequence steps computed
    rate_key: Hashable
    default_rate: float = 0.0  # work per second assumed until a job of rate_key is measured
    on_done: Callable[[Job], None] | None = field(default=None, repr=False)
    id: int = field(default_factory=lambda: next(_ids))
    owners: set[str] = field(default_factory=set)
    state: str = QUEUED
    step: int = 0  # last step reported by the worker, counted from 1
    total: int = 0
    value: float = float("nan")  # the last step's reported value (a loss)
    result: Any = None
    error: str | None = None
    pid: int | None = None  # the worker process, while it runs
    submitted_at: float = field(default_factory=time.monotonic)
    started_at: float | None = None  # the worker's first call into `function`
    finished_at: float | None = None
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _finished: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def finished(self) -> bool:
        """Done, failed or cancelled."""
        return self.state in FINISHED

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has finished (True) or `timeout` seconds passed (False)."""
        return self._finished.wait(timeout)

    def remaining_seconds(self) -> float | None:
        """Seconds left at the rate measured so far in this job, once a step is done."""
        if self.started_at is None or self.step < 1 or self.total < 1:
            return None
        elapsed = time.monotonic() - self.started_at
        return elapsed / self.step * (self.total - self.step)


class JobRunner:
    """Runs submitted jobs one at a time, each in a worker process; thread-safe.

    threads: torch threads of a worker. niceness: added to a worker's CPU niceness.
    is_alive(owner): whether an owner still waits (default: always). grace_s: how long a job
    goes on with no owner alive before it is stopped.
    """

    def __init__(
        self,
        *,
        threads: int = 1,
        niceness: int = 10,
        is_alive: Callable[[str], bool] = lambda owner: True,
        grace_s: float = 30.0,
        poll_s: float = 0.1,
    ) -> None:
        self.threads = threads
        self.niceness = niceness
        self.grace_s = grace_s
        self.poll_s = poll_s
        self._is_alive = is_alive
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._queue: deque[Job] = deque()
        self._running: Job | None = None
        self._rates: dict[Hashable, float] = {}
        self._thread: threading.Thread | None = None

    # --- what sessions call ---------------------------------------------------------------

    def submit(
        self,
        key: Hashable,
        function: Callable[..., Any],
        args: tuple[Any, ...],
        owner: str,
        *,
        work: float = 0.0,
        rate_key: Hashable = None,
        default_rate: float = 0.0,
        on_done: Callable[[Job], None] | None = None,
    ) -> Job:
        """Queue `function(*args, on_step=...)` for `owner`, or join the unfinished job of `key`.

        on_done(job) runs in the runner's thread when the job is done (not when it failed or
        was stopped), before waiters are woken: store its result there. `default_rate` (work
        per second) estimates the job's time while no job of `rate_key` has finished.
        """
        with self._lock:
            job = self._find(key)
            if job is None:
                job = Job(key, function, args, work, rate_key, default_rate, on_done)
                self._queue.append(job)
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(
                        target=self._serve, name="job-runner", daemon=True
                    )
                    self._thread.start()
                self._wake.notify()
            job.owners.add(owner)
            return job

    def find(self, key: Hashable) -> Job | None:
        """The queued or running job of `key`, if any."""
        with self._lock:
            return self._find(key)

    def position(self, job: Job) -> int:
        """0 while `job` runs, k when it is k-th in the queue (k jobs run or wait before it),
        -1 once finished."""
        with self._lock:
            if job is self._running:
                return 0
            for place, queued in enumerate(self._queue, start=1):
                if queued is job:
                    return place
            return -1

    def ahead_seconds(self, job: Job | None = None) -> float:
        """Expected seconds until `job` (or, with None, a job submitted now) starts."""
        with self._lock:
            ahead: list[Job] = [] if self._running is None else [self._running]
            for queued in self._queue:
                if queued is job:
                    break
                ahead.append(queued)
        total = 0.0
        for other in ahead:
            if other._stop.is_set():  # stopping: its worker is ending, not working
                continue
            remaining = other.remaining_seconds()
            if remaining is None:  # not started, or no step done yet: its whole work
                remaining = self.estimate(other.rate_key, other.work, other.default_rate)
            total += remaining
        return total

    def release(self, job: Job, owner: str) -> None:
        """`owner` no longer waits for `job`; with no owner left, the job is stopped."""
        with self._lock:
            job.owners.discard(owner)
            if not job.owners:  # decided and done under one lock: no submit() joins in between
                self._cancel(job)

    def cancel(self, job: Job) -> None:
        """Stop `job`: a queued job is dropped, a running one's worker process terminated."""
        with self._lock:
            self._cancel(job)

    def rate(self, rate_key: Hashable) -> float | None:
        """The last measured rate (work units per second) of finished jobs of `rate_key`."""
        with self._lock:
            return self._rates.get(rate_key)

    def estimate(self, rate_key: Hashable, work: float, default_rate: float = 0.0) -> float:
        """Expected seconds of computation for `work`: at the measured rate of `rate_key`,
        else at `default_rate` (0 when neither is known)."""
        rate = self.rate(rate_key) or default_rate
        return work / rate if rate > 0 else 0.0

    def shutdown(self) -> None:
        """Stop every queued and running job (the runner can take new jobs afterwards)."""
        with self._lock:
            jobs = [*self._queue, *([self._running] if self._running else [])]
        for job in jobs:
            self.cancel(job)

    # --- the runner's thread --------------------------------------------------------------

    def _find(self, key: Hashable) -> Job | None:
        for job in (self._running, *self._queue):
            # A job asked to stop is not joined: a new request for its key starts afresh.
            if job is not None and job.key == key and not job.finished and not job._stop.is_set():
                return job
        return None

    def _cancel(self, job: Job) -> None:
        """Under the lock: ask `job` to stop; a queued job is dropped at once."""
        if job.finished:
            return
        job._stop.set()
        if job in self._queue:
            self._queue.remove(job)
            self._finish(job, CANCELLED)

    def _finish(self, job: Job, state: str, error: str | None = None) -> None:
        """Under the lock: record the end of `job` and wake its waiters."""
        job.state = state
        job.error = error
        job.finished_at = time.monotonic()
        job.pid = None
        job._finished.set()

    def _serve(self) -> None:
        while True:
            with self._lock:
                while not self._queue:
                    self._wake.wait()
                job = self._queue.popleft()
                job.state = RUNNING
                self._running = job
            try:
                self._run(job)
            except Exception as error:  # the runner must outlive any one job
                with self._lock:
                    if not job.finished:
                        self._finish(job, FAILED, f"{type(error).__name__}: {error}")
            finally:
                with self._lock:
                    self._running = None

    def _wanted(self, job: Job, last_seen: float) -> float | None:
        """The time an owner of `job` was last seen alive, or None once it is not wanted."""
        if job._stop.is_set():
            return None
        now = time.monotonic()
        if any(self._is_alive(owner) for owner in tuple(job.owners)):
            return now
        return last_seen if now - last_seen < self.grace_s else None

    def _run(self, job: Job) -> None:
        request_read, request_write = os.pipe()
        result_read, result_write = os.pipe()
        bootstrap = (
            f"import sys; sys.path.insert(0, {_ROOT!r}); import lstm_core.serving.jobs as j; "
        )
        bootstrap += f"j._work({request_read}, {result_write})"
        process = subprocess.Popen(
            [sys.executable, "-c", bootstrap],
            pass_fds=(request_read, result_write),
            stdin=subprocess.DEVNULL,
        )
        os.close(request_read)
        os.close(result_write)  # the worker holds the only writing end: EOF when it exits
        job.pid = process.pid
        receive = Connection(result_read)
        state, error, result = CANCELLED, None, None
        last_seen: float | None = time.monotonic()
        try:
            with Connection(request_write) as request:
                request.send_bytes(pickle.dumps(sys.path))  # first: to import the job's modules
                job_data = (job.function, job.args, self.threads, self.niceness)
                request.send_bytes(pickle.dumps(job_data))
            while True:
                last_seen = self._wanted(job, last_seen)
                if last_seen is None:
                    break
                if not receive.poll(self.poll_s):
                    continue
                try:
                    kind, payload = pickle.loads(receive.recv_bytes())
                except EOFError:
                    state = FAILED
                    error = f"the worker process ended unexpectedly (exit code {process.poll()})"
                    break
                if kind == "started":
                    job.started_at = time.monotonic()
                elif kind == "step":
                    job.step, job.total, job.value = payload
                elif kind == "error":
                    state, error = FAILED, payload
                    break
                else:  # "done"
                    state, result = DONE, payload
                    break
        finally:
            receive.close()
            _end(process)
        if state == DONE:
            job.result = result
            if job.started_at is not None and job.work > 0:
                seconds = time.monotonic() - job.started_at
                with self._lock:
                    self._rates[job.rate_key] = job.work / max(seconds, 1e-9)
            if job.on_done is not None:
                try:
                    job.on_done(job)
                except Exception as failure:
                    state, error = FAILED, f"storing the result failed: {failure}"
        with self._lock:
            self._finish(job, state, error)


def _end(process: subprocess.Popen[bytes]) -> None:
    """Terminate `process` if it still runs, kill it if it does not stop, and reap it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()


def _work(request_fd: int, result_fd: int) -> None:
    """The worker process: run the job and send ("started" | "step" | "done" | "error", ...)."""
    with Connection(request_fd) as request:
        sys.path[:] = pickle.loads(request.recv_bytes())
        function, args, threads, niceness = pickle.loads(request.recv_bytes())
    send = Connection(result_fd)
    import torch

    with contextlib.suppress(OSError):  # not permitted here: the same priority, then
        os.nice(niceness)
    torch.set_num_threads(threads)
    last_sent = 0.0

    def on_step(step: int, total: int, value: float) -> None:
        nonlocal last_sent
        now = time.monotonic()
        if step == 1 or step == total or now - last_sent >= PROGRESS_INTERVAL_S:
            last_sent = now
            send.send_bytes(pickle.dumps(("step", (step, total, float(value)))))

    send.send_bytes(pickle.dumps(("started", None)))
    try:
        result = function(*args, on_step=on_step)
    except Exception as error:
        send.send_bytes(pickle.dumps(("error", f"{type(error).__name__}: {error}")))
        return
    send.send_bytes(pickle.dumps(("done", result)))
