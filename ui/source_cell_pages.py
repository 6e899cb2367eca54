"""The Inside-the-cell pages' bodies on a loaded checkpoint or a trained model: the Gate
inspector, Step through and Tensor shapes (the Explorer's is in ui.source_pages, with the
pickers these share), and the notes a page gives for what it shows only in part or not at all.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lstm_core.figures.text import text_around
from lstm_core.figures.traced import gates_figure
from lstm_core.learned.charmodel import NEXT_CHARACTERS_SHOWN
from lstm_core.model.source import ModelSource
from lstm_core.model.source_tables import shapes_table, steps_read, units_holding
from lstm_core.model.trace import step_rows
from ui.figure import show_figure
from ui.model_source import source_cells_or_stop, source_name, source_run_or_stop
from ui.source_pages import pickers


def gates_body(source: ModelSource) -> None:
    """The Gate inspector on a loaded or trained model: i, f, g, o of one layer and direction."""
    run = source_run_or_stop(source)
    t = run.trace
    st.caption(run.description)
    layer, direction, batch = pickers(t, st.columns(3), "gates")
    show_figure(
        gates_figure,
        t,
        layer,
        direction,
        batch,
        source_key=("model_source", source),
        name=f"lstm_gates_{source_name(source)}",
        key="gates_heatmaps",
        model_title=source.title,
    )
    st.caption(
        f"Mean forget gate {t.mean_forget(layer, direction, batch):.2f}: C keeps that share of "
        "itself per step, on average. These gates are the model's own, not a forget-bias setting."
    )
    seeded_only_note(
        "every unit's gates over time",
        "the picked units' gate lines, the saturation chart and the per-unit forget gates",
    )


def shapes_body(source: ModelSource) -> None:
    """Tensor shapes of THIS model, read from its tensors: proj_size and directions included."""
    run = source_run_or_stop(source)
    t = run.trace
    st.caption(run.description)
    if t.proj_size:
        st.markdown(
            f"**A projection**: h_t is (B, P) = ({t.batch_size}, {t.proj_size}) while C_t stays "
            f"(B, H) = ({t.batch_size}, {t.hidden_size}); h_t = W_hr (o_t ⊙ tanh C_t), with "
            f"weight_hr_l{{k}} of shape (P, H) = ({t.proj_size}, {t.hidden_size}), and "
            "weight_hh reads the P-wide h."
        )
    if t.num_directions == 2:
        st.markdown(
            f"**Bidirectional**: h_n is (D·L, B, ·) = ({2 * t.num_layers}, {t.batch_size}, "
            f"{t.output_size}): slot 2k is layer k forward (its last step), slot 2k + 1 layer "
            "k reverse (its state after reading step 0), and the output is (B, T, 2·"
            f"{t.output_size}), both directions side by side, what layer k+1 reads."
        )
    st.table(pd.DataFrame(shapes_table(run)).set_index("tensor"))


def step_body(source: ModelSource) -> None:
    """Step through on a loaded or trained model: one step's update, unit by unit."""
    run = source_run_or_stop(source)
    t = run.trace
    st.caption(run.description)
    layer, direction, batch = pickers(t, st.columns(3), "step")
    step = st.slider(
        "time step t",
        0,
        t.seq_len - 1,
        min(1, t.seq_len - 1),
        key="step_src_t",
        help="The step whose update the table shows; t = 0 reads the first input.",
    )
    rows, projected = step_rows(t, layer, direction, batch, step)
    if run.text:
        st.caption(f"Step t = {step} reads the character at the caret:")
        st.code(text_around(run.text, step), language=None)
        st.caption(
            f"After it, the model's {NEXT_CHARACTERS_SHOWN} likeliest next characters, and the one "
            "that comes:"
        )
        st.code(run.step_answers[0][step], language=None)
    read = steps_read(run, batch, step)
    if read:
        st.caption(
            f"Step t = {step} of batch item {batch} reads `{run.step_words[batch][step]}`. "
            "The steps around it: "
            + (
                "what the model answers after each step beside the right answer, and "
                if run.step_answers
                else ""
            )
            + "what each label holds after each step"
            + (
                " (blank: the label is not defined there, as a stored value outside its gap):"
                if any(value == "" for row in read for value in row.values())
                else ":"
            )
        )
        st.dataframe(
            pd.DataFrame(read)
            .set_index("t")
            .style.apply(
                lambda row: ["font-weight: bold" if row.name == str(step) else ""] * len(row),
                axis=1,
            ),
            key="step_src_reads",
            width="content",
            column_config={"answers": st.column_config.TextColumn(width="medium")},
        )
    st.markdown(
        "C_t = f_t ⊙ C_{t−1} + i_t ⊙ g_t, then o_t ⊙ tanh(C_t), unit by unit, with this "
        "model's numbers"
        + (
            " (the reverse direction's C_{t−1} is the state after step t + 1)."
            if direction
            else "."
        )
    )
    cells = pd.DataFrame(rows).set_index("unit")
    held = (
        units_holding(source_cells_or_stop(source), t.hidden_size, layer) if not direction else {}
    )
    if held:
        # The cell finder's units first: the rows worth reading on a trained model.
        cells.insert(0, "cell for", [", ".join(held.get(k, [])) for k in cells.index])
        cells = pd.concat([cells.loc[sorted(held)], cells.drop(index=sorted(held))])
        st.caption(
            "The units the cell finder names come first ("
            + "; ".join(f"{', '.join(names)}: unit {k}" for k, names in sorted(held.items()))
            + "); the other units follow in order."
        )
    st.dataframe(
        cells,
        key="step_src_cells",
        column_config={"cell for": st.column_config.TextColumn(width="medium")},
    )
    if projected:
        st.markdown(
            f"**The projection step**: h_t = W_hr (o_t ⊙ tanh C_t) maps the {t.hidden_size} "
            f"values of the last column to {t.proj_size}: weight_hr is ({t.proj_size}, "
            f"{t.hidden_size}), so h_t is (B, {t.proj_size}) and is what the next step's "
            "weight_hh reads."
        )
        st.dataframe(pd.DataFrame(projected).set_index("h unit"), key="step_src_projection")
    seeded_only_note(
        "one step's update, unit by unit, as a table",
        "the cell diagram and the Play, Previous and Next controls",
    )


def seeded_only_note(shown: str, missing: str) -> None:
    """A caption on a page that shows a loaded or trained model in part: what it shows, and
    which of its sections the seeded nn.LSTM alone gets."""
    st.caption(
        f"For a loaded or trained model this page shows {shown}; {missing} are drawn for the "
        'seeded nn.LSTM only (pick "Seeded nn.LSTM" under Model in the sidebar).'
    )


def unavailable(page: str, why: str) -> None:
    """One sentence: this page does not apply to a loaded or trained model, and why."""
    st.info(
        f'The {page} works on the seeded nn.LSTM only: {why} Pick "Seeded nn.LSTM" '
        "under Model in the sidebar to use it."
    )
