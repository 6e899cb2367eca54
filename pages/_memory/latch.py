"""Memory lab, "Store without exposing": the hand-set latch beside the trained recall model."""

from __future__ import annotations

import streamlit as st

from lstm_core.figures.latch import latch_figure
from lstm_core.learned.latch import (
    Exposure,
    LatchComparison,
    shipped_exposure,
    shipped_latch_comparison,
)
from lstm_core.learned.recall import RecallTask
from ui.caches import LAB, byte_cached
from ui.figure import show_figure


@byte_cached(LAB, spinner="Measuring the recall model's exposure…")
def cached_exposure() -> Exposure:
    """`lstm_core.learned.latch.shipped_exposure`, computed once per process."""
    return shipped_exposure()


@byte_cached(LAB)
def cached_comparison(sequence: int, unit: int) -> LatchComparison:
    """`lstm_core.learned.latch.shipped_latch_comparison`, cached per sequence."""
    return shipped_latch_comparison(sequence, unit)


def latch_section() -> None:
    """The latch and the recall model's memory unit on one held-out sequence, with the
    exposure measured over all of them."""
    st.subheader("Store without exposing: a hand-set latch and a trained memory")
    st.markdown(
        "The recall task: a value is marked early, queried tens of steps later, and the output "
        "must follow the current input meanwhile. A one-unit `nn.LSTM` with weights set by hand "
        "solves the storing part exactly: **f = 1** (keep), **i = mark** (write once), "
        "**o = query** (show only when asked). Its C holds tanh(value) flat across the gap "
        "while its h stays exactly 0. Beside it, the memory unit of an LSTM *trained* on the "
        "task (hidden 16, shipped with the app): does it keep the value hidden too?"
    )
    sequence = st.columns(4)[0].number_input(
        "held-out sequence",
        0,
        RecallTask.test_sequences - 1,
        value=0,
        key="latch_sequence",
        help="Which of the recall task's held-out sequences both models read.",
    )
    exposure = cached_exposure()
    comparison = cached_comparison(int(sequence), exposure.unit)
    columns = st.columns(4)
    columns[0].metric(
        "latch: largest |h| in the gap",
        f"{exposure.latch_max_abs_h:g}",
        help="Over the gap steps (mark to the step before the query) of every held-out sequence.",
    )
    columns[1].metric(
        f"trained unit {exposure.unit}: r(C, value)",
        f"{exposure.r_c:+.3f}",
        help="Pearson's r of the memory unit's C with the stored value over every gap step.",
    )
    columns[2].metric(
        f"trained unit {exposure.unit}: r(h, value)",
        f"{exposure.r_h:+.3f}",
        help="The same unit's h: how much of the stored value it shows while it waits.",
    )
    columns[3].metric(
        "value read from all of h: R²",
        f"{exposure.probe_r2_h:.3f}",
        help="A linear read-out of h fitted on half the held-out sequences, scored on the rest "
        f"(from all of C: {exposure.probe_r2_c:.3f}).",
    )
    show_figure(
        latch_figure,
        comparison,
        source_key=("latch", int(sequence)),
        name=f"memory_latch_sequence_{int(sequence)}",
        key="memory_latch",
    )
    st.caption(
        f"On this sequence the value {comparison.stored_value:+.3f} is marked at t = "
        f"{comparison.mark} and queried at t = {comparison.query}; the trained model answers "
        f"{comparison.recalled:+.3f}. "
        + (
            f"Unit {exposure.unit} holds the value with its sign flipped (r < 0): its curves "
            "rise where the value is negative. "
            if exposure.r_c < 0
            else ""
        )
        + (
            "The trained model keeps the value out of h as the latch does."
            if exposure.keeps_value_hidden
            else "Nothing in its training asked h to stay quiet, and it does not: the trained "
            f"memory unit shows the value in h during the gap (|r| = {abs(exposure.r_h):.2f}), "
            "where only the hand-set output gate hides it."
        )
    )
