"""The Memory lab's training half: train on the adding problem as a job, show the trained
models, save and load their weights. Part of pages/memory.py (not a page of its own: it sits in
a folder, where Streamlit looks for no pages).

Trained models are kept per TrainSpec = (task, seed, sizes, budget) in the byte-bounded
TRAINED cache (ui/caches.py), so a second click or another session with the same settings does
not train again; traces of a trained model per weights file in LAB. A training is a job
(lstm_core.serving.jobs): one at a time per server, in a worker process, followed on the page
with its place in the queue, its progress and a stop button.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from lstm_core.analysis.training import (
    BASELINE_MSE,
    CLEAR_CORRELATION,
    DEFAULT_BATCH,
    DEFAULT_HIDDEN,
    DEFAULT_LR,
    DEFAULT_STEPS,
    DEFAULT_TRAINING_RATE,
    HIDDEN_RANGE,
    SEQ_LEN_RANGE,
    STEPS_RANGE,
    STRONG_CORRELATION,
    SUGGESTED_STEPS,
    TEST_SEQUENCES,
    TrainedTrace,
    TrainSpec,
    rate_key,
    trace_trained,
    training_work,
)
from lstm_core.figures.memory import trained_states_figure, training_figure
from lstm_core.io.weights import MAX_WEIGHTS_BYTES, weights_from_bytes, weights_to_bytes
from lstm_core.learned.adding import TrainingResult, train_pair
from lstm_core.model.settings import SETTING
from lstm_core.serving.jobs import Job
from ui.caches import LAB, TRAINED, byte_cached
from ui.figure import show_figure
from ui.jobs import (
    JobSlots,
    expected_time,
    follow_training,
    pending_job,
    start_training,
)

TRAINED_SPEC_KEY = "memory_trained_spec"  # the TrainSpec this session trained or looked up
TRAINED_NOTE = (
    "These settings' models are trained and drawn below. Change a setting above to train "
    "another pair."
)
TRAINING_KEY = "memory_training"  # the TrainSpec of this session's training in progress
SLOTS = JobSlots(
    running=TRAINING_KEY,
    shown=TRAINED_SPEC_KEY,
    stopped="memory_training_stopped",
    failed="memory_training_failed",
    stop_button="memory_train_stop",
)


def trained_result(spec: TrainSpec) -> TrainingResult | None:
    """The stored result for `spec`, if any session trained it already."""
    return TRAINED.get(spec)


def _store(job: Job) -> None:
    """A finished training's result into the trained-model store (the runner's thread)."""
    TRAINED.put(job.key, job.result)


def _describe(job: Job) -> str:
    half = job.total // 2
    model, number, step = (
        ("LSTM", 1, job.step) if job.step <= half else ("vanilla RNN", 2, job.step - half)
    )
    return f"Training the {model}: step {step}/{half}, loss {job.value:.4f} (model {number} of 2)"


@byte_cached(LAB, spinner="Running the trained LSTM on test sequences…")
def cached_trace(weights: bytes, seq_len: int) -> TrainedTrace:
    """The trained LSTM (safetensors bytes) on the test set of length `seq_len`."""
    state, _ = weights_from_bytes(weights)
    return trace_trained(state, seq_len)


def training_section(default_seed: int) -> None:
    """Train on the adding problem, show LSTM vs RNN, the trained states, save and load."""
    st.subheader("Learned, not set: the adding problem")
    st.markdown(
        "Two channels: random values U(0, 1), and a marker 1 on two steps, one in the first "
        "tenth and one in the second half. The target is the sum of the two marked values. "
        f"Always predicting 1.0 scores MSE {BASELINE_MSE:.3f}; doing better needs the first "
        "value kept for at least 40% of the sequence. An LSTM and a same-size vanilla RNN "
        f"(tanh) train with the same budget (Adam, lr {DEFAULT_LR:g}, batch {DEFAULT_BATCH}, the "
        "same batches)."
    )
    columns = st.columns(4)
    seq_len = columns[0].number_input(
        "sequence length T",
        SEQ_LEN_RANGE[0],
        SEQ_LEN_RANGE[1],
        value=TrainSpec.seq_len,
        step=10,
        key="train_seq_len",
        persist_state="session",
        help=f"Steps per sequence. {TrainSpec.seq_len} is the classic setting.",
    )
    hidden = columns[1].number_input(
        "hidden units",
        HIDDEN_RANGE[0],
        HIDDEN_RANGE[1],
        value=DEFAULT_HIDDEN,
        key="train_hidden",
        persist_state="session",
        help="The same for both models.",
    )
    steps = columns[2].number_input(
        "optimiser steps",
        STEPS_RANGE[0],
        STEPS_RANGE[1],
        value=DEFAULT_STEPS,
        step=100,
        key="train_steps",
        persist_state="session",
        help=f"Budget per model. At T = 100 the LSTM's loss sits near {BASELINE_MSE:.3f} for "
        f"hundreds of steps, then drops; how many depends on the seed (up to about "
        f"{SUGGESTED_STEPS:,}).",
    )
    seed = columns[3].number_input(
        "training seed",
        *SETTING["seed"].range,
        value=default_seed,
        key="train_seed",
        persist_state="session",
        help="Seeds the weights and every training batch.",
    )
    spec = TrainSpec(seq_len=int(seq_len), hidden_dim=int(hidden), steps=int(steps), seed=int(seed))
    job = pending_job(SLOTS, lambda key: trained_result(key) is not None)
    if job is None:
        stored = trained_result(spec)
        # In one slot, so that the expected time and the button go as soon as the training
        # starts (this run goes on to follow the training, and would leave them on screen).
        before_training = st.empty()
        with before_training.container():
            if stored is None:
                expected_time(
                    rate_key(spec),
                    training_work(spec),
                    DEFAULT_TRAINING_RATE,
                    "the default size as timed on a server busy with a whole class",
                    of_what=" for both models",
                )
            if stored is not None and st.session_state.get(TRAINED_SPEC_KEY) == spec:
                st.caption(TRAINED_NOTE)
                clicked = False
            else:
                clicked = st.button(
                    "Use the trained models" if stored else "Train LSTM and RNN",
                    key="memory_train",
                    type="primary",
                    help="Trains both models (kept per task, seed and sizes: a second click "
                    "is instant).",
                )
        if clicked:
            if stored is not None:
                st.session_state[TRAINED_SPEC_KEY] = spec
                before_training.caption(TRAINED_NOTE)  # in the button's place, this run already
            else:
                job = start_training(
                    SLOTS,
                    spec,
                    train_pair,
                    training_work(spec),
                    rate_key(spec),
                    DEFAULT_TRAINING_RATE,
                    _store,
                )
                before_training.empty()
    if job is not None:
        follow_training(job, SLOTS, _describe)
    shown_spec = st.session_state.get(TRAINED_SPEC_KEY)
    result = trained_result(shown_spec) if shown_spec is not None else None
    if result is not None:
        _show_training(result)
    _load_weights_section(default_seq_len=int(seq_len))


def _show_training(result: TrainingResult) -> None:
    spec = result.spec
    columns = st.columns(3)
    columns[0].metric(
        "LSTM test MSE", f"{result.lstm_mse:.4f}", help=f"On {TEST_SEQUENCES} held-out sequences."
    )
    columns[1].metric("RNN test MSE", f"{result.rnn_mse:.4f}", help="Same budget, same batches.")
    columns[2].metric("training time", f"{result.seconds:.1f} s", help="Both models, this machine.")
    if result.lstm_mse > BASELINE_MSE / 2:
        more = (
            f"Train again with {SUGGESTED_STEPS:,} optimiser steps, or another seed."
            if spec.steps < SUGGESTED_STEPS
            else "Train again with another seed."
        )
        st.info(
            f"The LSTM has not left the baseline in {spec.steps:,} steps. Its loss sits near "
            f"{BASELINE_MSE:.3f} (always predicting 1) until it finds the first marked value, "
            f"and when that happens depends on the seed: at T = 100 it can take up to about "
            f"{SUGGESTED_STEPS:,} steps. {more}"
        )
    show_figure(
        training_figure,
        result,
        source_key=spec,
        name=f"adding_training_T{spec.seq_len}_seed{spec.seed}",
        key="memory_training",
    )
    weights = weights_to_bytes(spec, result.lstm_state)
    st.download_button(
        "⬇ Save the trained LSTM (safetensors)",
        data=weights,
        file_name=f"adding_lstm_T{spec.seq_len}_H{spec.hidden_dim}_seed{spec.seed}.safetensors",
        mime="application/octet-stream",
        key="memory_save_weights",
        on_click="ignore",
        help="Load it again below, or run it: python -m lstm_core run --weights FILE",
    )
    show_trace(weights, spec.seq_len, key="memory_trained_states")


def show_trace(weights: bytes, seq_len: int, key: str) -> None:
    """The trained LSTM's h_t and C_t on a test sequence, and the unit that keeps value 1."""
    trace = cached_trace(weights, seq_len)
    unit = trace.memory_unit
    r_c, r_h_same, r_h_best = trace.memory_r_c, trace.memory_r_h, trace.best_abs_r_h
    show_figure(
        trained_states_figure,
        trace,
        source_key=(hashlib.blake2b(weights, digest_size=16).hexdigest(), seq_len),
        name=f"adding_trained_states_T{seq_len}",
        key=key,
    )
    measure = (
        f"Measure: Pearson's r over {TEST_SEQUENCES} test sequences between each unit's cell "
        "state one step before the second mark (when only the first value is to be kept) and "
        f"the first marked value. C unit {unit} has the largest |r| = {abs(r_c):.2f} "
        f"(r = {r_c:+.2f}); the same unit's h gives r = {r_h_same:+.2f}, the best h unit "
        f"|r| = {r_h_best:.2f}. C units with |r| ≥ {STRONG_CORRELATION:g}: "
        f"{trace.strong_c_units} of {trace.c.shape[1]}."
    )
    if abs(r_c) < CLEAR_CORRELATION:
        st.warning(
            f"No C unit clearly holds the first marked value (best |r| = {abs(r_c):.2f}, unit "
            f"{unit} drawn thick): this model has not learned the task. {measure}"
        )
        return
    if abs(r_h_same) >= CLEAR_CORRELATION:
        shown = (
            f"Here h_{unit} = o ⊙ tanh(C_{unit}) shows the stored value too: the output gate of "
            "this unit stays open, so this model does not hide its memory in C alone."
        )
    else:
        shown = f"Its h hardly shows it (|r| = {abs(r_h_same):.2f}): the output gate hides it."
    st.markdown(
        f"**Memory unit: C unit {unit}** (thick line). {measure} On the sequence above, "
        f"follow it from the first mark (t = {trace.markers[0]}) to the second "
        f"(t = {trace.markers[1]}). {shown}"
    )


def _load_weights_section(default_seq_len: int) -> None:
    with st.expander("Load a trained LSTM (safetensors)"):
        upload = st.file_uploader(
            "weights file",
            type=["safetensors"],
            key="memory_weights_file",
            help=f"Saved from this page or by `train --save`; at most "
            f"{MAX_WEIGHTS_BYTES // 1_000_000} MB. Nothing in it is executed.",
        )
        if upload is None:
            return
        data = upload.getvalue()
        try:
            _, metadata = weights_from_bytes(data)
        except ValueError as error:
            st.error(f"Cannot load {upload.name}: {error}")
            return
        try:
            seq_len = int(metadata.get("seq_len", default_seq_len))
            TrainSpec(seq_len=seq_len)  # validates the length
        except ValueError:
            st.warning(
                f"{upload.name} names no valid sequence length; using T = {default_seq_len}."
            )
            seq_len = default_seq_len
        st.caption(
            f"Loaded {upload.name}: task {metadata.get('task', '?')}, T = {seq_len}, "
            f"hidden {metadata.get('hidden_dim', '?')}, seed {metadata.get('seed', '?')}."
        )
        show_trace(data, seq_len, key="memory_loaded_states")
