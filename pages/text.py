"""What the cell learned: a trained model's units over text, C_t above h_t, one character each."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lstm_core.figures.text import text_state_figure
from lstm_core.learned.cell_table import best_units
from lstm_core.learned.charmodel import trained_steps, unit_name
from lstm_core.learned.labels import LABEL_TITLES, label_title, opening_label
from lstm_core.learned.shipped import SHIPPED_MODELS
from lstm_core.model.source import TRAINED_MODELS
from ui.cell_link import linked_cell, write_cell_link
from ui.entry import require_app
from ui.figure import show_figure
from ui.share import stop_page
from ui.source_pages import go_to_explorer_if_asked, show_in_explorer
from ui.text_model import MAX_TEXT_CHARS, held_out, held_out_table, loaded_model, text_run

require_app()
go_to_explorer_if_asked()

OUTSIDE_STRINGS_COLUMN = "r(C), outside strings"
PICKED_KEY = "text_table_picked"  # (label, unit) of the table's picked row, while in view
TABLE_DRAWN_KEY = "text_table_drawn"  # how often the table was drawn afresh, to clear a pick
SELECTION_KEY = "text_table_selection"  # (table key, rows, cells' rows) picked at the last run
MODEL_TITLES = {"code": "code: a character LSTM trained on the Python standard library"}
SAMPLE_TEXT = '''def scale(values, factor=2):
    """Multiply every value (a list) by factor."""
    result = []
    for value in values:  # one at a time
        result.append(value * factor)
    return {"values": result, "sizes": [len(values), (factor, "x")]}


names = ["alpha", "beta", 'gamma']
table = {name: (len(name), name.upper()) for name in names if name}
print(f"{len(table)} names: {', '.join(sorted(table))}")
'''


def unit_strip(source: tuple[str, str], unit: int, state: str) -> go.Figure:
    """One unit's C (state "c") or h ("h") over the text of source = (model name, text)."""
    model_name, text = source
    run = text_run(model_name, text)
    gates = {name: values[:, unit] for name, values in run.gates.items()}
    values = run.c[:, unit] if state == "c" else run.h[:, unit]
    return text_state_figure(
        text,
        values,
        state=state,
        unit=unit,
        gates=gates,
        unit_title=unit_name(unit, loaded_model(model_name).model.config),
    )


st.title("What the cell learned")
st.markdown(
    "An LSTM trained only to predict the next character of Python source keeps things in its "
    "cell state that nobody asked it to: whether it is inside a string, how many brackets are "
    "open, how far along the line it is (Karpathy, Johnson & Fei-Fei 2015). The **cell "
    "finder** ranks every unit by the correlation of its **C_t** (and, beside it, its **h_t**) "
    "with each label on source the model never saw. Below, one unit's C_t colours each "
    "character, and the same unit's h_t = o_t · tanh(C_t) the same text under it: C holds the "
    "quantity, h shows a gated, squashed view of it. Hover a character for the gates."
)

model_name = st.selectbox(
    "model",
    list(SHIPPED_MODELS),
    format_func=lambda name: MODEL_TITLES.get(name, name),
    key="text_model",
    help="The character LSTM shipped with the app (its training log: "
    "lstm_core/learned/weights/code.training.txt).",
)
try:
    loaded = loaded_model(model_name)
except ValueError as error:
    st.error(f"The model {model_name!r} cannot be read: {error}")
    stop_page()
metadata = loaded.metadata
config = loaded.model.config
size = (
    f"{config.hidden_dim} units"
    if config.num_layers == 1
    else f"{config.num_layers} layers of {config.hidden_dim} units, numbered 0 to "
    f"{config.units - 1} layer by layer"
)
source = held_out(model_name)
rows = held_out_table(model_name)

steps = trained_steps(metadata)  # "3,375 + 1,990" for a model trained in several runs
several_runs = " + " in steps
runs = " in runs that each continued the one before" if several_runs else ""
seed_words = "the last run's seed" if several_runs else "seed"  # each run records its own
seed = f"{seed_words} {metadata.get('seed', '?')}"

st.subheader("The cell finder on held-out source")
st.caption(
    f"{size}; trained {steps} steps{runs} ({seed}). Correlations "
    f"over {len(source.text):,} characters of "
    f"`{source.source}`, Python source outside the training corpus. r(C) and r(h) are the "
    "same unit's; its rank is by |r(C)|. The labels come from Python's tokenizer, which gives "
    "a docstring's brackets no depth, while a unit counts every bracket it reads: the last "
    "column is r(C) again over the characters outside strings only. Click a row to see its "
    "unit over the text below."
)
best_of = best_units(rows)  # the labels the text varies in, each with its best unit
label_key = "text_label"


def unit_key_of(label: str) -> str:
    """One unit widget per (model, label): a label starts at its best unit and keeps the user's."""
    return f"text_unit_{model_name}_{label}"


# The view below (label, unit) is decided before the table is drawn, so the table can show
# whether its picked row is still the one in view.
linked_label, linked_unit = linked_cell("text", list(best_of), config.units)
if linked_label is not None:
    st.session_state[label_key] = linked_label
if st.session_state.get(label_key) not in best_of:
    st.session_state[label_key] = opening_label(
        {row.label: row.r_c for row in rows if row.rank == 1}
    )
if linked_unit is not None:
    st.session_state[unit_key_of(st.session_state[label_key])] = linked_unit
label_in_view = st.session_state[label_key]
st.session_state.setdefault(unit_key_of(label_in_view), best_of[label_in_view])
in_view = (label_in_view, st.session_state[unit_key_of(label_in_view)])
# A picked row stays highlighted while it is the view; once the pickers, a link or Back move
# the view on, the table is drawn afresh (a new key) with nothing picked, so that a click on
# any row, that one included, shows it again.
if st.session_state.get(PICKED_KEY, in_view) != in_view:
    del st.session_state[PICKED_KEY]
    st.session_state[TABLE_DRAWN_KEY] = st.session_state.get(TABLE_DRAWN_KEY, 0) + 1

table_key = f"text_cell_table_{st.session_state.get(TABLE_DRAWN_KEY, 0)}"
table = pd.DataFrame(
    [
        {
            "label": label_title(row.label),
            "rank": row.rank,
            "unit": row.unit,
            **({"layer": config.layer_of(row.unit)} if config.num_layers > 1 else {}),
            "r(C, label)": row.r_c,
            "r(h, label)": row.r_h,
            OUTSIDE_STRINGS_COLUMN: row.r_c_outside_strings,
        }
        for row in rows
    ]
)
picks = st.dataframe(
    table,
    hide_index=True,
    key=table_key,
    on_select="rerun",
    # A click on a row's box or on any of its cells picks it.
    selection_mode=["single-row", "single-cell"],
    height="content",  # every row, so the unit the page opens on is in view
    placeholder="n/a",
    column_config={
        "r(C, label)": st.column_config.NumberColumn(format="%.3f"),
        "r(h, label)": st.column_config.NumberColumn(format="%.3f"),
        OUTSIDE_STRINGS_COLUMN: st.column_config.NumberColumn(
            format="%.3f",
            help="The same unit's r(C) over the characters outside strings. n/a for "
            "inside a string: outside strings that label is always 0, so there is nothing "
            "to correlate.",
        ),
    },
)
# The table keeps a ticked row's box and a clicked cell both: the user's latest pick is the
# row that is new in the selection since the last run (none new: the view stays).
boxes, cells = tuple(picks.selection.rows), tuple(cell[0] for cell in picks.selection.cells)
last_key, last_boxes, last_cells = st.session_state.get(SELECTION_KEY, (table_key, (), ()))
if last_key != table_key:  # a table drawn afresh starts with nothing picked
    last_boxes, last_cells = (), ()
st.session_state[SELECTION_KEY] = (table_key, boxes, cells)
added = [index for index in boxes if index not in last_boxes] + [
    index for index in cells if index not in last_cells
]
if not boxes and not cells:
    st.session_state.pop(PICKED_KEY, None)
elif added:
    picked = rows[added[-1]]
    if (picked.label, picked.unit) != st.session_state.get(PICKED_KEY):
        st.session_state[PICKED_KEY] = (picked.label, picked.unit)
        st.session_state[label_key] = picked.label
        st.session_state[unit_key_of(picked.label)] = picked.unit

st.subheader("One unit over a text")
columns = st.columns(2)
label = columns[0].selectbox(
    "label",
    list(best_of),
    format_func=lambda name: LABEL_TITLES[name],
    key=label_key,
    persist_state="session",
    help="What the cell finder looked for; the unit below starts at this label's best unit.",
)
best = best_of[label]
unit_key = unit_key_of(label)  # set above: for the label in view, or the picked row's
unit = int(
    columns[1].number_input(
        "unit",
        min_value=0,
        max_value=config.units - 1,
        step=1,
        key=unit_key,
        persist_state="session",
        help=f"The best unit for {LABEL_TITLES[label]} is {unit_name(best, config)}.",
    )
)
write_cell_link("text", label, unit)
st.caption("The address bar holds the label and unit (not the text): copy it to share this view.")
if model_name in TRAINED_MODELS:
    st.button(
        "Open this unit in the Explorer",
        key="text_to_explorer",
        on_click=show_in_explorer,
        args=(model_name, label, unit, config.hidden_dim),
        help="The Explorer, the Gate inspector and Step through on this model (the sidebar's "
        "Model becomes this one): its C and h over the start of the held-out source beside the "
        "label, and every gate of every step.",
    )

text = st.text_area(
    f"Text (type or paste Python, up to {MAX_TEXT_CHARS:,} characters)",
    value=SAMPLE_TEXT,
    height=220,
    max_chars=MAX_TEXT_CHARS,
    key="text_input",
)
text = text.replace("\r\n", "\n").replace("\r", "\n")
if not text:
    st.info("Type or paste some text to see the unit over it.")
    stop_page()
run = text_run(model_name, text)
base = f"text_{model_name}_unit{unit}"

# Each strip's own title names the unit and the state, in the app and in its exported image.
show_figure(unit_strip, (model_name, text), unit, "c", name=f"{base}_c", key="text_c_strip")
show_figure(unit_strip, (model_name, text), unit, "h", name=f"{base}_h", key="text_h_strip")
st.caption(
    f"h_t comes from nn.LSTM; C_t and the gates from the written-out equations with the same "
    f"weights (max |h difference| {run.max_h_difference:.1e}). "
    + (
        "Loss: none for one character (it needs a next character to predict)."
        if math.isnan(run.loss)
        else f"Loss on this text: {run.loss:.3f} nats per character."
    )
)
