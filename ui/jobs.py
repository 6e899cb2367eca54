"""The Streamlit side of `lstm_core.serving.jobs`: the server's one job runner, a job followed
on the page (its place in the queue, then its progress from the first step, and the time
left), and what every training section of a page shares: the job this session waits for, what
happened to the last one, the expected time before the click, the stop button."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

import streamlit as st
from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from lstm_core.serving.jobs import CANCELLED, DONE, Job, JobRunner

# A session whose browser is gone this long has its jobs stopped (a reload or a dropped
# connection comes back sooner).
SESSION_GRACE_S = 20.0
# How often a followed job's progress is redrawn.
FOLLOW_INTERVAL_S = 0.25
FOLLOW_YIELD_KEY = "_job_follow"  # looked up, never set: see follow()


def _session_alive(session_id: str) -> bool:
    return runtime.exists() and bool(runtime.get_instance().is_active_session(session_id))


@st.cache_resource(show_spinner=False)
def job_runner() -> JobRunner:
    """The process-wide runner: one job at a time, a one-thread worker below the UI's priority."""
    return JobRunner(threads=1, is_alive=_session_alive, grace_s=SESSION_GRACE_S)


def session_id() -> str:
    """This browser session's id (the owner of the jobs it starts)."""
    context = get_script_run_ctx()
    return context.session_id if context is not None else "no-session"


def duration_text(seconds: float) -> str:
    """'about 1 min 30 s', 'about 2 min', 'about 40 s', 'a few seconds'."""
    if seconds < 5:
        return "a few seconds"
    minutes, rest = divmod(round(seconds / 5) * 5, 60)
    if not minutes:
        return f"about {rest} s"
    return f"about {minutes} min {rest} s" if rest else f"about {minutes} min"


def follow(job: Job, describe: Callable[[Job], str]) -> Job:
    """Show `job` until it has finished: its place in the queue, then a progress bar with
    `describe(job)` and the time left. Returns the finished job.

    The loop only waits and redraws: the job runs in its worker, so a rerun of this session
    (a widget moved, another page) leaves it running, and the next run follows it again.
    """
    runner = job_runner()
    bar = st.progress(0.0, text="Waiting for the job runner…")
    shown = ""
    while not job.wait(FOLLOW_INTERVAL_S):
        # Reading the session state is one of Streamlit's yield points: a click meanwhile
        # (Stop, another page) ends this run here even while the text shown stays the same.
        _ = FOLLOW_YIELD_KEY in st.session_state
        place = runner.position(job)
        if place > 0:
            ahead = duration_text(runner.ahead_seconds(job))
            text = f"In the queue, place {place}: another training runs first (starts in {ahead})."
            fraction = 0.0
        elif job.step < 1:
            text = "Starting the training process…"
            fraction = 0.0
        else:
            left = job.remaining_seconds()
            text = describe(job) + (f" · {duration_text(left)} left" if left is not None else "")
            fraction = job.step / max(job.total, 1)
        if text != shown:  # each redraw is a message to the browser
            bar.progress(min(fraction, 1.0), text=text)
            shown = text
    bar.empty()
    return job


@dataclass(frozen=True)
class JobSlots:
    """The session_state keys of one page section's training job."""

    running: str  # the job key (its spec) of this session's training in progress
    shown: str  # the job key whose result the section draws
    stopped: str  # the stop button's message, for the next run to say
    failed: str  # why the last training failed, for the next run to say
    stop_button: str  # the stop button's widget key


def pending_job(slots: JobSlots, has_result: Callable[[Hashable], bool]) -> Job | None:
    """This session's training in progress, if any, after saying what became of the last one.

    A training that ended while the session was elsewhere becomes the one shown when its
    result is stored (`has_result(key)`); without a result, the section says it ended."""
    running = st.session_state.get(slots.running)
    job = job_runner().find(running) if running is not None else None
    if running is not None and job is None:
        del st.session_state[slots.running]
        if has_result(running):
            st.session_state[slots.shown] = running
        else:
            st.session_state[slots.failed] = (
                "The last training ended without a result while this page was not in view "
                "(it failed, or was stopped once no session waited for it). Train again."
            )
    for key, say in ((slots.stopped, st.info), (slots.failed, st.error)):
        message = st.session_state.pop(key, None)
        if message is not None:
            say(message)
    return job


def start_training(
    slots: JobSlots,
    spec: Hashable,
    function: Callable[..., object],
    work: float,
    rate_key: Hashable,
    default_rate: float,
    on_done: Callable[[Job], None],
) -> Job:
    """Queue `function(spec)` as this session's training (the job's key is `spec`)."""
    job = job_runner().submit(
        spec,
        function,
        (spec,),
        session_id(),
        work=work,
        rate_key=rate_key,
        default_rate=default_rate,
        on_done=on_done,
    )
    st.session_state[slots.running] = spec
    return job


def expected_time(
    rate_key: Hashable, work: float, default_rate: float, guess: str, of_what: str = ""
) -> None:
    """The expected training time (`of_what`: " for both models"), before the click: at the
    rate this server measured for `rate_key`, else at `default_rate` (`guess` says where that
    figure comes from); and the queue ahead."""
    runner = job_runner()
    seconds = runner.estimate(rate_key, work, default_rate)
    source = (
        "at the rate the last training of this size ran on this server"
        if runner.rate(rate_key)
        else f"a cautious guess: {guess} (faster on a quiet one)"
    )
    text = f"Expected training time: {duration_text(seconds)}{of_what}, {source}."
    ahead = runner.ahead_seconds()
    if ahead > 0:
        text += f" Another training runs first: it starts in {duration_text(ahead)}."
    st.caption(text)


def _stop(job: Job, slots: JobSlots) -> None:
    """The stop button's callback: this session no longer waits for `job`."""
    job_runner().release(job, session_id())
    st.session_state.pop(slots.running, None)
    st.session_state[slots.stopped] = (
        "Training stopped (it goes on for the other sessions waiting for it)."
        if job.owners
        else "Training stopped."
    )


def follow_training(job: Job, slots: JobSlots, describe: Callable[[Job], str]) -> None:
    """Follow this session's training with a stop button until it ends, then draw the page
    again from the top: the result shown, or what happened said."""
    stop_slot = st.empty()
    stop_slot.button("Stop the training", key=slots.stop_button, on_click=_stop, args=(job, slots))
    follow(job, describe)
    stop_slot.empty()
    st.session_state.pop(slots.running, None)
    if job.state == DONE:
        st.session_state[slots.shown] = job.key
    elif job.state != CANCELLED:  # cancelled: the stop button's callback has said so
        st.session_state[slots.failed] = f"The training failed: {job.error}"
    # From the top: the button above the progress is back (no stop button for a training
    # that has ended), and what happened is said above it.
    st.rerun()
