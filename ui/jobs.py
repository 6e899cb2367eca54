"""The Streamlit side of `lstm_core.serving.jobs`: the server's one job runner, and a job
followed on the page (its place in the queue, then its progress from the first step, and the
time left)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st
from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from lstm_core.serving.jobs import Job, JobRunner

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
    """'about 1 min 30 s', 'about 40 s', 'a few seconds'."""
    if seconds < 5:
        return "a few seconds"
    minutes, rest = divmod(round(seconds / 5) * 5, 60)
    return f"about {minutes} min {rest} s" if minutes else f"about {rest} s"


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
