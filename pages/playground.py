"""Gate playground: set f, i, o, C̃ and C_{t-1} by hand and see C_t and h_t."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lstm_core.analysis.gate_stats import update_reading
from lstm_core.figures.updates import cell_flow_figure, playground_figure
from lstm_core.model.cell import (
    GATE_RANGES,
    PRODUCT_HEADINGS,
    WORKED_EXAMPLE,
    cell_update,
    gate_range_text,
)
from ui.entry import require_app
from ui.equations import update_latex
from ui.figure import show_figure
from ui.share import stop_page

require_app()

MAX_UNITS = 8
UNITS_KEY = "playground_units"
FIELDS = ("c_prev", "f", "i", "g", "o")
# Value of a unit beyond the worked example's two.
NEUTRAL = {"c_prev": 0.5, "f": 0.5, "i": 0.5, "g": 0.5, "o": 0.5}


def field_key(name: str, unit: int) -> str:
    return f"playground_{name}_{unit}"


def load_worked_example() -> None:
    """The two-unit worked example (runs as a callback, before the widgets exist)."""
    st.session_state[UNITS_KEY] = len(WORKED_EXAMPLE["f"])
    for name in FIELDS:
        for unit, value in enumerate(WORKED_EXAMPLE[name]):
            st.session_state[field_key(name, unit)] = value


if UNITS_KEY not in st.session_state:
    load_worked_example()

st.title("Gate playground")
st.markdown(
    "Set the gates yourself and watch one update: $C_t = f \\odot C_{t-1} + i \\odot \\tilde C$"
    " and $h_t = o \\odot \\tanh(C_t)$. It opens on a worked example (two units, "
    "$h_{t-1} = [0.4, -0.2]$, $x_t = [0.5, 0.1]$: once the gates are given, $h_{t-1}$ and $x_t$ "
    "have done their part)."
)
top = st.columns([1, 1, 2], vertical_alignment="bottom")
count = top[0].number_input(
    "units", 1, MAX_UNITS, step=1, key=UNITS_KEY, help=f"1 to {MAX_UNITS} units side by side."
)
top[1].button(
    "Worked example",
    key="playground_example",
    on_click=load_worked_example,
    help="Back to the two-unit worked example.",
)

labels = {
    "c_prev": ("C_{t-1}", "The memory before this step."),
    "f": ("forget f", "Share of C_{t-1} kept: 1 keeps all, 0 wipes it."),
    "i": ("input i", "Share of the candidate written."),
    "g": ("candidate C̃ (g)", f"What would be written, in {gate_range_text('g')}."),
    "o": ("output o", "Share of tanh(C_t) exposed as h_t."),
}
values: dict[str, list[float]] = {name: [] for name in FIELDS}
for unit in range(int(count)):
    columns = st.columns([0.5, 1, 1, 1, 1, 1], vertical_alignment="bottom")
    columns[0].markdown(f"**unit {unit}**")
    for column, name in zip(columns[1:], FIELDS, strict=True):
        key = field_key(name, unit)
        st.session_state.setdefault(key, NEUTRAL[name])
        label, help_text = labels[name]
        if name == "c_prev":
            value = column.number_input(
                label, -50.0, 50.0, step=0.1, format="%.3f", key=key, help=help_text
            )
        else:
            low, high = GATE_RANGES[name]
            value = column.slider(label, low, high, step=0.01, key=key, help=help_text)
        values[name].append(float(value))

try:
    update = cell_update(**values)
except ValueError as error:
    st.error(f"These values cannot make an update: {error}.")
    stop_page()

st.subheader("The update, written out")
# The values set by hand with three decimals, what the update makes of them with four.
for unit in range(len(update.c)):
    cell_line, hidden_line = update_latex(update, unit, given_digits=3)
    st.latex(rf"\text{{unit {unit}: }} {cell_line}")
    st.latex(hidden_line)
    st.markdown(f"**Unit {unit}.** " + update_reading(update, unit))
st.dataframe(
    pd.DataFrame(
        {"unit": list(update.units)}
        | {
            PRODUCT_HEADINGS[name] + words: getattr(update, name)
            for name, words in (
                ("c_prev", ""),
                ("kept", " (kept)"),
                ("written", " (written)"),
                ("c", ""),
                ("tanh_c", ""),
                ("h", " (exposed)"),
            )
        }
    ),
    key="playground_table",
    hide_index=True,
)
# The values set by hand name the update in the view cache.
update_key = tuple(tuple(values[name]) for name in FIELDS)
show_figure(
    playground_figure,
    update,
    source_key=update_key,
    name="playground_bars",
    key="playground_bars",
)
flow_unit = st.selectbox(
    "unit in the diagram", range(len(update.c)), key="playground_flow_unit", help="One unit's flow."
)
show_figure(
    cell_flow_figure,
    update,
    int(flow_unit),
    f"playground, unit {flow_unit}",
    source_key=update_key,
    themed=True,
    name=f"playground_flow_u{flow_unit}",
    key="playground_flow",
)
