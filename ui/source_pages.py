"""The Explorer's body on a loaded checkpoint or a trained model (ui.model_source), and the
pickers every such body shares.

Every page that runs an LSTM calls `ui.model_source.current_source()` first; when it names a
loaded or trained model, the page shows its body (the same figures, through
`lstm_core.figures.traced`'s adapter and show_figure) and stops: the Explorer's is here, the
Gate inspector's, Step through's and Tensor shapes' are in ui.source_cell_pages. Every body has
the same layer / direction / batch pickers (`pickers`) and the same run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from lstm_core.analysis.cell_finder import UnitMatch, constant_labels
from lstm_core.analysis.metrics import (
    MEAN_FORGET_MEANING,
    MEMORY_TIME_MEANING,
    Persistence,
    memory_cap_note,
    memory_text,
    persistence,
)
from lstm_core.figures.states import MAX_LINE_UNITS, default_units
from lstm_core.figures.traced import (
    defined_label,
    label_correlations,
    label_figure,
    projected_states_figure,
)
from lstm_core.figures.traced import states_figure as traced_states_figure
from lstm_core.io.reproduce_source import source_script, source_script_name
from lstm_core.learned.charmodel import stacked_unit_name
from lstm_core.learned.labels import label_title, opening_label
from lstm_core.model.config import view_tag
from lstm_core.model.source import (
    TRAINED_MODELS,
    CellRanking,
    ModelSource,
)
from lstm_core.model.trace import DIRECTION_NAMES, Trace
from ui.caches import VIEWS, byte_cached
from ui.cell_link import linked_cell, write_cell_link
from ui.export import trace_downloads
from ui.figure import show_figure
from ui.model_source import (
    FOCUS_KEY,
    MODEL_KEY,
    MODEL_PARAM,
    choose_weights,
    layer_key,
    source_cells_or_stop,
    source_file_name,
    source_name,
    source_run_or_stop,
    units_key,
)
from ui.pickers import LAYER_HELP
from ui.share import stop_page

# |r(C)| above h's best |r| by more than this: the caption calls h a squashed view of it.
CONTRAST = 0.1
_EXPLORER_ASKED_KEY = "explorer_asked"  # set by show_in_explorer for the next run


def pickers(
    t: Trace, columns: Sequence[Any], page: str, layer_default: int = 0, layer_widget: str = ""
) -> tuple[int, int, int]:
    """Layer, direction and batch item pickers, each only where there is something to pick;
    the layer picker opens on `layer_default`, keyed `layer_widget` (default: the page's)."""
    layer = direction = batch = 0
    if t.num_layers > 1:
        layer = columns[0].selectbox(
            "layer",
            range(t.num_layers),
            index=layer_default,
            key=layer_widget or f"{page}_src_layer",
            persist_state="session",  # kept across pages, as the sidebar's settings are
            help=LAYER_HELP
            + (" Here it reads both directions' h, side by side." if t.num_directions == 2 else ""),
        )
    if t.num_directions == 2:
        direction = columns[1].selectbox(
            "direction",
            range(2),
            format_func=lambda d: f"{d}: {DIRECTION_NAMES[d]}",
            key=f"{page}_src_direction",
            persist_state="session",
            help="A bidirectional LSTM runs a second cell over the sequence backwards.",
        )
    if t.batch_size > 1:
        batch = columns[2].selectbox(
            "batch item", range(t.batch_size), key=f"{page}_src_batch", persist_state="session"
        )
    return layer, direction, batch


def picks_suffix(weights_sha256: str, lstm_prefix: str | None = None) -> str:
    """What the Explorer's unit and layer pickers' keys end with: each weights file (and LSTM
    in it) opens on its own default units; "" for a shipped model."""
    return f"_{weights_sha256[:16]}_{lstm_prefix or ''}" if weights_sha256 else ""


def show_in_explorer(
    kind: str, label: str, unit: int, hidden_size: int, weights_sha256: str = ""
) -> None:
    """Button callback: the Explorer on trained model `kind` (the weights trained in this
    session with that sha256, or the shipped ones), showing `unit` (numbered layer by layer)
    for `label`; the page then calls go_to_explorer_if_asked."""
    st.session_state[MODEL_KEY] = TRAINED_MODELS[kind]
    choose_weights(kind, trained_here_ones=bool(weights_sha256))
    focus_on(label, unit, hidden_size, picks_suffix(weights_sha256))
    st.session_state[_EXPLORER_ASKED_KEY] = True


def focus_on(label: str, unit: int, hidden_size: int, suffix: str) -> None:
    """Set the Explorer's label, layer and units pickers (keys ending `suffix`) to show `unit`,
    numbered layer by layer, for `label`."""
    layer, own = divmod(unit, hidden_size)
    st.session_state[FOCUS_KEY] = label
    st.session_state[layer_key(label) + suffix] = layer
    st.session_state[units_key(label) + suffix] = [own]


def go_to_explorer_if_asked() -> None:
    """After show_in_explorer: switch to the Explorer (a callback cannot switch pages)."""
    if st.session_state.pop(_EXPLORER_ASKED_KEY, False):
        st.switch_page("pages/explorer.py")


def focus_picker(ranking: CellRanking) -> UnitMatch | None:
    """The label whose best unit the Explorer shows (a picker when the model has several, best
    |r(C)| first; it opens on lstm_core.learned.labels.opening_label's); None for a model without
    labels."""
    if not ranking.cells:
        return None
    if st.session_state.get(FOCUS_KEY) not in ranking.cells:
        st.session_state[FOCUS_KEY] = opening_label(
            {name: match.r_c for name, match in ranking.cells.items()}
        )
    if len(ranking.cells) > 1:
        st.selectbox(
            "label",
            list(ranking.cells),
            key=FOCUS_KEY,
            persist_state="session",
            format_func=lambda name: (
                f"{label_title(name)} (best unit's r(C) {ranking.cells[name].r_c:+.2f})"
            ),
            help="What the cell finder looked for; the page shows the unit whose C follows it "
            "most closely, with that unit's h beside it.",
        )
    return ranking.cells[st.session_state[FOCUS_KEY]]


def explorer_body(source: ModelSource) -> None:
    """The Explorer on a loaded checkpoint or a trained model (with a label picker when the
    cell finder has several labels)."""
    run = source_run_or_stop(source)
    t = run.trace
    st.caption(run.description)
    if run.text:
        with st.expander(f"The text it reads ({len(run.text):,} characters)"):
            st.code(run.text, language="python")
    ranking = source_cells_or_stop(source)
    per_lstm = picks_suffix(source.file_sha256, source.lstm_prefix)
    # A label and unit in the link belong to the model= beside them: Back can reach another
    # model's link while the sidebar keeps this model.
    if ranking.cells and st.query_params.get(MODEL_PARAM) == source.url_value:
        label, unit = linked_cell("explorer", list(ranking.cells), t.hidden_size * t.num_layers)
        if label is not None:
            st.session_state[FOCUS_KEY] = label
        focused = st.session_state.get(FOCUS_KEY)
        if unit is not None and focused in ranking.cells:
            focus_on(focused, unit, t.hidden_size, per_lstm)
    focus = focus_picker(ranking)
    focus_layer, focus_unit = divmod(focus.unit, t.hidden_size) if focus else (0, 0)
    columns = st.columns(4)
    label = None if focus is None else focus.label
    # The picks of a checkpoint's LSTM are its own (per_lstm): each file uploaded, and each LSTM
    # picked in it, opens on its default units.
    units_widget, layer_widget = units_key(label) + per_lstm, layer_key(label) + per_lstm
    # A picker whose value is already set (by the user, or by show_in_explorer) takes no
    # default: Streamlit warns when a widget gets both.
    layer, direction, batch = pickers(
        t,
        columns,
        "explorer",
        0 if layer_widget in st.session_state else focus_layer,
        layer_widget=layer_widget,
    )
    key = ("model_source", source)
    # A figure's name tells what it draws of the run; the CSV holds all of it.
    drawn = view_tag(t.num_layers, t.batch_size, layer, batch, direction)
    name = f"lstm_states_{source_name(source)}"
    if t.proj_size:
        h_units = columns[3].multiselect(
            f"h units (of {t.proj_size})",
            range(t.proj_size),
            default=default_units(t.proj_size)[:8],
            max_selections=MAX_LINE_UNITS,
            key="explorer_src_h_units" + per_lstm,
        )
        c_units = st.multiselect(
            f"C units (of {t.hidden_size})",
            range(t.hidden_size),
            default=default_units(t.hidden_size)[:8],
            max_selections=MAX_LINE_UNITS,
            key="explorer_src_c_units" + per_lstm,
        )
        if not h_units or not c_units:
            st.warning("Pick at least one unit of h and one of C to draw.")
            stop_page()
        view = (layer, direction, batch, tuple(h_units), tuple(c_units))
        show_figure(
            projected_states_figure,
            t,
            *view,
            source_key=key,
            name=name + drawn,
            key="explorer_states",
            model_title=source.title,
        )
        st.caption(
            f"With proj_size {t.proj_size}, h_t = W_hr (o_t ⊙ tanh C_t) is {t.proj_size} wide "
            f"while C_t keeps {t.hidden_size} units: the h panel shows h's own units, the C "
            "panel C's, so unit k of one is not unit k of the other."
        )
    else:
        default = [focus_unit] if focus is not None else default_units(t.hidden_size)[:8]
        units = columns[3].multiselect(
            "units shown",
            range(t.hidden_size),
            default=None if units_widget in st.session_state else default,
            max_selections=MAX_LINE_UNITS,
            key=units_widget,
            persist_state="session",
        )
        if not units:
            st.warning("Pick at least one unit to draw.")
            stop_page()
        view = (layer, direction, batch, tuple(units))
        show_figure(
            traced_states_figure,
            t,
            *view,
            source_key=key,
            name=name + drawn,
            key="explorer_states",
            model_title=source.title,
        )
    if focus is not None:
        shown = units[0] if not t.proj_size and units else focus_unit
        drawn_unit = layer * t.hidden_size + shown  # numbered layer by layer, as focus.unit
        # Named as the text view and the cells CLI name them: "unit 300 (layer 1, its unit 44)".
        c_unit, h_unit = (
            stacked_unit_name(unit, t.hidden_size, t.num_layers)
            for unit in (focus.unit, focus.best_h_unit)
        )
        st.caption(
            f"The cell finder's {label_title(focus.label)} unit is {c_unit}, "
            f"ranked by |r(C, {focus.label})| over {ranking.over}: r(C, {focus.label}) = "
            f"{focus.r_c:+.3f}, while the same unit's h reaches r(h, {focus.label}) = "
            f"{focus.r_h:+.3f} (h's best unit, {h_unit}: {focus.best_r_h:+.3f}). "
            + (
                "C holds it and keeps it; h shows only a squashed, gated view of it."
                if abs(focus.r_c) - abs(focus.best_r_h) > CONTRAST
                else "Here h exposes it nearly as well as C does."
                if abs(focus.best_r_h) < abs(focus.r_c)
                else "Here h exposes it at least as clearly as C holds it."
            )
            + (
                ""
                if drawn_unit == focus.unit
                else " The chart below draws the first unit picked above, "
                f"{stacked_unit_name(drawn_unit, t.hidden_size, t.num_layers)}."
            )
        )
        write_cell_link("explorer", focus.label, drawn_unit)
        show_figure(
            label_figure,
            t,
            run.labels[focus.label],
            label_title(focus.label),
            shown,
            layer,
            direction,
            batch,
            run.text,
            source_key=key,
            name=f"lstm_{focus.label}_{source_name(source)}{drawn}",
            key="explorer_label",
        )
        shown_label = defined_label(run.labels[focus.label], batch)  # (n,): the steps it holds
        if constant_labels({focus.label: shown_label}):
            st.caption(
                f"Within one sequence the {label_title(focus.label)} is one value, so this "
                "chart cannot show the correlation, which is across sequences: "
                + (
                    "compare the batch items' C."
                    if t.batch_size > 1
                    else "raise batch_size (B) in the sidebar (under More) and compare the "
                    "batch items' C."
                )
            )
        else:
            # The ranking's r is over all the held-out data; the chart draws a part of it.
            drawn_r = label_correlations(t, run.labels[focus.label], shown, layer, direction, batch)
            labelled = shown_label.numel()
            shown_name = stacked_unit_name(
                layer * t.hidden_size + shown, t.hidden_size, t.num_layers
            )
            st.caption(
                f"Over the {labelled:,} {'characters' if run.text else 'steps'} drawn"
                + (" that have a label" if labelled < t.seq_len else "")
                + f", {shown_name} has "
                + " and ".join(
                    f"r({name}, {focus.label}) = {r:+.3f}" for name, r in drawn_r.items()
                )
                + "."
            )
    measured = cached_source_persistence(source, layer, direction, batch, bool(t.proj_size))
    cap_note = memory_cap_note(t.seq_len, measured.memory_time_cap)
    st.caption(
        f"Over all {t.c.shape[-1]:,} units of layer {layer}"
        + (f", {DIRECTION_NAMES[direction]} direction" if t.num_directions == 2 else "")
        + (f", batch item {batch}" if t.batch_size > 1 else "")
        + ": each number below is their median (the forget gate's, their mean), not only "
        "the units drawn above."
        + (
            " A trained model keeps what it learned in a few units, so the layer's medians "
            "need not tell C from h: the cell finder's r above measures those units."
            if focus is not None
            else ""
        )
    )
    metric_columns = st.columns(3)
    metric_columns[0].metric(
        "memory time C (steps, layer median)",
        memory_text(measured.memory_time_c, measured.memory_time_cap),
        help=f"{MEMORY_TIME_MEANING} {cap_note}",
    )
    metric_columns[1].metric(
        "memory time " + ("o ⊙ tanh(C)" if t.proj_size else "h") + " (steps, layer median)",
        memory_text(measured.memory_time_h, measured.memory_time_cap),
        help=f"The same for h. {cap_note}"
        + (
            " With a projection, the per-unit measure compares C with o ⊙ tanh(C), h before "
            "W_hr, unit by unit (as `run --weights --json` does)."
            if t.proj_size
            else ""
        ),
    )
    metric_columns[2].metric(
        "mean forget gate", f"{measured.mean_forget:.2f}", help=MEAN_FORGET_MEANING
    )
    st.markdown(
        "The hand-written cell (every layer and direction, the projection included) equals "
        f"nn.LSTM: the largest difference is **h {t.max_abs_diff['h']:.3g}**, "
        f"**C {t.max_abs_diff['c']:.3g}**: rounding in the last digits of float32, where |C| "
        f"reaches {float(t.c.abs().max()):.3g}, not a different computation."
    )
    st.subheader("Take it with you")
    trace_downloads(t.frame, t.c.numel(), name, "explorer_src_data")
    script = source_script(run, source_file_name(source))
    with st.expander("Reproduce this run (a standalone script that loads the same file)"):
        st.code(script, language="python")
        st.download_button(
            "⬇ Script",
            data=script,
            file_name=source_script_name(run),
            mime="text/x-python",
            key="explorer_src_script",
            on_click="ignore",
        )


@byte_cached(VIEWS)
def cached_source_persistence(
    source: ModelSource, layer: int, direction: int, batch: int, projected: bool
) -> Persistence:
    """`metrics.persistence` of one layer, direction and batch item of a source's run; with a
    projection, of C against o ⊙ tanh(C) (h before W_hr), unit by unit."""
    t = source_run_or_stop(source).trace
    hidden = t.unprojected_h if projected else t.h  # (L, D, B, T, H)
    return persistence(
        hidden[layer, direction, batch],
        t.c[layer, direction, batch],
        t.gates["f"][layer, direction, batch],
    )
