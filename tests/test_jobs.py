"""lstm_core.serving.jobs: one job at a time in a worker process, queued, stoppable, measured; and a
training that never holds up another session's run."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import torch

from lstm_core import RunConfig, simulate
from lstm_core.analysis.training import TrainSpec
from lstm_core.learned.adding import train_pair
from lstm_core.serving.jobs import CANCELLED, DONE, FAILED, QUEUED, RUNNING, Job, JobRunner

SMALL = TrainSpec(seq_len=10, hidden_dim=4, steps=5, seed=3)
# Long enough to be running still whenever the test looks (it is stopped, never finished).
LONG = TrainSpec(seq_len=100, hidden_dim=32, steps=5000, seed=1)


# A bound that only a stuck worker reaches: a worker runs at a lower priority and may wait
# long for the CPU on a loaded machine, but a hung one must fail the test, not hang the suite.
STUCK_S = 1800.0


def _runner(**options: Any) -> JobRunner:
    """A runner whose workers keep this process's priority. The app's workers run at nice +10,
    below its sessions; here that would only make each worker wait for the CPU the other tests use.
    The priority itself is tested once, in test_a_worker_runs_at_the_runners_niceness."""
    return JobRunner(niceness=0, **options)


def _own_niceness(on_step: object) -> int:
    """A job that reports the worker's niceness."""
    return os.nice(0)


def _wait_running(job: Job) -> None:
    """Until the worker has reported its first step (or the job ended)."""
    deadline = time.monotonic() + STUCK_S
    while job.step < 1 and not job.finished:
        assert time.monotonic() < deadline, "the worker never reported a step"
        job.wait(0.05)


def _gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists()


def test_a_job_gives_the_result_of_a_direct_call_and_records_its_rate() -> None:
    runner = _runner()
    stored: list[Job] = []
    job = runner.submit(
        SMALL, train_pair, (SMALL,), "a", work=10.0, rate_key="adding", on_done=stored.append
    )
    assert job.wait(STUCK_S)
    assert job.state == DONE, job.error
    assert stored == [job]
    direct = train_pair(SMALL)
    assert job.result.lstm_losses == direct.lstm_losses
    for name, tensor in direct.lstm_state.items():
        assert torch.equal(job.result.lstm_state[name], tensor)
    assert (job.step, job.total) == (2 * SMALL.steps, 2 * SMALL.steps)  # the last step is sent
    rate = runner.rate("adding")
    assert rate is not None and rate > 0
    assert runner.estimate("adding", 20.0) == 20.0 / rate
    assert runner.estimate("unmeasured", 20.0, default_rate=4.0) == 5.0


def test_another_sessions_run_completes_while_a_training_runs() -> None:
    runner = _runner()
    job = runner.submit(LONG, train_pair, (LONG,), "trainer")
    _wait_running(job)
    assert job.state == RUNNING
    finished = threading.Event()

    def other_session() -> None:
        simulate(RunConfig(seed=5, seq_len=200, hidden_dim=32))
        finished.set()

    thread = threading.Thread(target=other_session)
    thread.start()
    thread.join()
    assert finished.is_set()
    assert job.state == RUNNING  # the run did not wait for the training
    pid = job.pid
    assert pid is not None
    runner.release(job, "trainer")
    assert job.wait(STUCK_S)
    assert job.state == CANCELLED
    assert _gone(pid)


def test_one_job_at_a_time_and_the_queue_knows_its_places() -> None:
    runner = _runner()
    first = runner.submit(LONG, train_pair, (LONG,), "a")
    _wait_running(first)
    second_spec = TrainSpec(seq_len=10, hidden_dim=4, steps=3, seed=8)
    second = runner.submit(
        second_spec, train_pair, (second_spec,), "b", work=60.0, rate_key="new", default_rate=2.0
    )
    third_spec = TrainSpec(seq_len=10, hidden_dim=4, steps=3, seed=9)
    third = runner.submit(third_spec, train_pair, (third_spec,), "c")
    assert [runner.position(j) for j in (first, second, third)] == [0, 1, 2]
    # No job of its kind has finished yet: the queued job ahead counts at its default rate.
    assert runner.ahead_seconds(third) >= 60.0 / 2.0
    assert second.state == QUEUED
    # The same spec again joins the running job instead of queueing a second one.
    assert runner.submit(LONG, train_pair, (LONG,), "d") is first
    runner.release(first, "a")
    assert first.state == RUNNING  # "d" still waits for it
    runner.cancel(third)  # a queued job is dropped at once
    assert third.state == CANCELLED and runner.position(third) == -1
    runner.release(first, "d")
    assert second.wait(STUCK_S) and second.state == DONE
    assert first.state == CANCELLED


def test_a_job_whose_owners_are_all_gone_is_stopped() -> None:
    alive = {"a": True}
    runner = _runner(is_alive=lambda owner: alive[owner], grace_s=0.0)
    job = runner.submit(LONG, train_pair, (LONG,), "a")
    _wait_running(job)
    pid = job.pid
    assert pid is not None
    alive["a"] = False  # the session closed
    assert job.wait(STUCK_S)
    assert job.state == CANCELLED
    assert _gone(pid)


def test_a_failing_job_reports_why_and_the_runner_goes_on() -> None:
    runner = _runner()
    job = runner.submit("bad", train_pair, ("not a spec",), "a")
    assert job.wait(STUCK_S)
    assert job.state == FAILED
    assert job.error is not None and "AttributeError" in job.error
    after = runner.submit(SMALL, train_pair, (SMALL,), "a")
    assert after.wait(STUCK_S) and after.state == DONE


def test_a_new_request_after_stop_starts_afresh_instead_of_joining_the_stopping_job() -> None:
    runner = _runner()
    stopping = runner.submit(LONG, train_pair, (LONG,), "a")
    _wait_running(stopping)
    runner.cancel(stopping)  # its worker may take a moment to end
    assert runner.ahead_seconds() == 0.0  # a stopping job holds no one up in the estimate
    fresh = runner.submit(LONG, train_pair, (LONG,), "a")
    assert fresh is not stopping
    runner.cancel(fresh)
    assert stopping.wait(STUCK_S) and stopping.state == CANCELLED
    assert fresh.wait(STUCK_S) and fresh.state == CANCELLED


def test_a_worker_runs_at_the_runners_niceness() -> None:
    runner = JobRunner(niceness=5)
    job = runner.submit("niceness", _own_niceness, (), "a")
    assert job.wait(STUCK_S) and job.state == DONE, job.error
    assert job.result == min(os.nice(0) + 5, 19)
