"""The Memory lab's task trainings: train the brackets or the recall task's LSTM as a job, score
it on held-out sequences, find its cells, save its weights and open it in the Explorer. Part of
pages/memory.py, as pages/_memory/training.py is.

Trained models are kept per TaskSpec in the byte-bounded TRAINED cache (ui/caches.py), so a
second click or another session with the same settings does not train again. A training is a
job (lstm_core.serving.jobs), as the adding problem's is: in a worker process, one at a time
per server, followed with its place in the queue, its progress and a stop button.
"""

from __future__ import annotations

import streamlit as st

from lstm_core.learned.outcome import TrainOutcome, task_model_words, weights_file_name
from lstm_core.learned.tasks import (
    HIDDEN_RANGE,
    SEED_RANGE,
    STEPS_RANGE,
    TaskSpec,
    get_task,
    task_rate_key,
    task_spec,
    task_work,
    train_task,
)
from lstm_core.model.source import sha256
from lstm_core.serving.jobs import Job
from ui.caches import TRAINED
from ui.jobs import (
    JobSlots,
    expected_time,
    follow_training,
    pending_job,
    start_training,
)
from ui.model_source import keep_trained_here
from ui.source_pages import show_in_explorer

# The tasks trained here (the adding problem has its own section), as the task picker names them.
TASK_TITLES = {
    "brackets": "brackets: a counter",
    "recall": "recall: store a value, answer later",
}
TASK_KEY = "memory_task"  # the picked task


def slots(task: str) -> JobSlots:
    """The session keys of `task`'s training, one set per task: each keeps its own model."""
    return JobSlots(
        running=f"memory_task_training_{task}",
        shown=f"memory_task_shown_{task}",
        stopped=f"memory_task_stopped_{task}",
        failed=f"memory_task_failed_{task}",
        stop_button=f"memory_task_stop_{task}",
    )


def _cache_key(spec: TaskSpec) -> tuple[str, TaskSpec]:
    return ("task", spec)


def _store(job: Job) -> None:
    """A finished training's outcome into the trained-model store (the runner's thread)."""
    TRAINED.put(_cache_key(job.key), job.result)


def _describe(job: Job) -> str:
    return f"Training the {job.key.task} LSTM: step {job.step}/{job.total}, loss {job.value:.4f}"


def task_training_section(default_seed: int) -> None:
    """Pick a task, train its LSTM, and show its held-out score and cells."""
    st.subheader("Learned cells: a counter and a memory")
    st.markdown(
        "Train a small LSTM in seconds and let the cell finder rank every unit by the "
        "correlation of its C (and, beside it, its h) with what the task needs kept, on "
        "held-out sequences."
    )
    task_name = st.radio(
        "task",
        tuple(TASK_TITLES),
        format_func=TASK_TITLES.__getitem__,
        horizontal=True,
        key=TASK_KEY,
        persist_state="session",
        help="The brackets and recall models shipped with the app were trained so, with the "
        "defaults and seed 0.",
    )
    task = get_task(task_name)
    st.caption(task.description)
    defaults = task.defaults
    columns = st.columns(3)
    hidden = columns[0].number_input(
        "hidden units",
        *HIDDEN_RANGE,
        value=defaults.hidden_dim,
        key=f"task_hidden_{task_name}",
        persist_state="session",
        help=f"Units of the one nn.LSTM layer ({defaults.hidden_dim} by default).",
    )
    steps = columns[1].number_input(
        "optimiser steps",
        *STEPS_RANGE,
        value=defaults.steps,
        step=50,
        key=f"task_steps_{task_name}",
        persist_state="session",
        help=f"Adam steps of {defaults.batch_size} sequences of {defaults.seq_len} symbols "
        f"each, at rate {defaults.lr:g}.",
    )
    seed = columns[2].number_input(
        "training seed",
        *SEED_RANGE,
        value=min(max(default_seed, SEED_RANGE[0]), SEED_RANGE[1]),
        key=f"task_seed_{task_name}",
        persist_state="session",
        help="Seeds the weights, every training batch and the held-out sequences: equal "
        "settings give identical weights.",
    )
    spec = task_spec(task_name, seed=int(seed), hidden_dim=int(hidden), steps=int(steps))
    task_slots = slots(task_name)
    job = pending_job(task_slots, lambda key: TRAINED.get(_cache_key(key)) is not None)
    if job is None:
        stored = TRAINED.get(_cache_key(spec))
        before_training = st.empty()  # the button's slot: emptied when a training starts
        with before_training.container():
            if stored is None:
                expected_time(
                    task_rate_key(spec),
                    task_work(spec),
                    defaults.busy_rate,
                    "the default size as timed on a loaded server",
                )
            clicked = False
            if stored is None or st.session_state.get(task_slots.shown) != spec:
                clicked = st.button(
                    "Show the trained model" if stored else f"Train the {task_name} LSTM",
                    key="memory_task_train",
                    type="primary",
                    help="Kept per task, seed and sizes: a second click is instant.",
                )
        if clicked:
            if stored is not None:
                st.session_state[task_slots.shown] = spec
                before_training.empty()
            else:
                job = start_training(
                    task_slots,
                    spec,
                    train_task,
                    task_work(spec),
                    task_rate_key(spec),
                    defaults.busy_rate,
                    _store,
                )
                before_training.empty()
    if job is not None:
        follow_training(job, task_slots, _describe)
    shown = st.session_state.get(task_slots.shown)
    outcome = TRAINED.get(_cache_key(shown)) if shown is not None else None
    if outcome is not None:
        if shown != spec:
            st.caption(
                f"Below: the model trained with {task_model_words(outcome.metadata)}; the "
                "settings above have none yet."
            )
        _show_outcome(shown, outcome)


def _show_outcome(spec: TaskSpec, outcome: TrainOutcome) -> None:
    """The held-out score, the cell finder's table, the weights and the way to the Explorer."""
    task = get_task(spec.task)
    st.markdown(
        f"**Trained in {outcome.seconds:.1f} s** ({task_model_words(outcome.metadata)}; last "
        f"training loss {outcome.final_loss:.4f}). " + task.score_summary(outcome.held_out)
    )
    rows = [
        {
            "label": label,
            "unit (best C)": match.unit,
            "r(C)": round(match.r_c, 3),
            "r(h), same unit": round(match.r_h, 3),
            "h's best unit": match.best_h_unit,
            "its r(h)": round(match.best_r_h, 3),
        }
        for label, match in outcome.cells.items()
    ]
    st.dataframe(rows, hide_index=True, key="memory_task_cells")
    st.caption(
        f"The cell finder over the {task.test_sequences} held-out sequences: per label, the "
        "unit whose C correlates best with it (Pearson r), the same unit's h, and h's own "
        "best unit."
    )
    weights = outcome.to_bytes()
    columns = st.columns(2)
    columns[0].download_button(
        "⬇ Save the trained LSTM (safetensors)",
        data=weights,
        file_name=weights_file_name(outcome.metadata),
        mime="application/octet-stream",
        key="memory_task_save",
        on_click="ignore",
        help=f"Run it again: python -m lstm_core cells --model FILE --json, or upload it as "
        f"'Your checkpoint'. The {spec.task} task, sizes and seed are in its metadata.",
    )
    focus = next(iter(outcome.cells.values()), None)
    if focus is not None:
        columns[1].button(
            f"Open it in the Explorer (unit {focus.unit}, {focus.label})",
            key="memory_task_explorer",
            on_click=_open_in_explorer,
            args=(spec.task, weights, focus.label, focus.unit, spec.hidden_dim),
            help="The Explorer, Gate inspector, Step through and Tensor shapes on this model, "
            "reading its held-out sequences; the sidebar's Weights switch goes back to the "
            "shipped model.",
        )


def _open_in_explorer(task: str, weights: bytes, label: str, unit: int, hidden: int) -> None:
    """Button callback: this session's model becomes the pages' trained `task` model."""
    keep_trained_here(task, weights)
    show_in_explorer(task, label, unit, hidden, weights_sha256=sha256(weights))
