"""Sidebar controls added for the Memory lab: forget-gate init presets and the CSV upload.

Both write settings through ui.settings.store_settings (and the CSV rows to INPUT_VALUES_KEY),
so every page sees them; app.py calls them inside its sidebar.
"""

from __future__ import annotations

import streamlit as st

from lstm_core.analysis.gate_stats import forget_gate_of_bias
from lstm_core.io.csv_input import MAX_CSV_BYTES, parse_csv
from ui.caches import LAB, byte_cached
from ui.settings import store_settings
from ui.state import INPUT_VALUES_KEY

FORGET_INIT_KEY = "forget_init"
CSV_FILE_KEY = "input_csv_file"
CSV_NAME_KEY = "input_csv_name"  # the kept rows' file name
CSV_ERROR_KEY = "input_csv_error"  # why the last file uploaded could not be read
# label -> (forget_bias, chrono on?)
FORGET_INITS: dict[str, tuple[float, bool]] = {
    "0": (0.0, False),
    "+1": (1.0, False),
    "+3": (3.0, False),
    "+5": (5.0, False),
    "chrono": (0.0, True),
}
FORGET_INIT_HELP = (
    "- **0**: PyTorch's default init: f ≈ σ(0) = 0.5, C halves every step.\n"
    "- **+1**: the unit forget bias of Keras and Jozefowicz et al. 2015.\n"
    f"- **+3**: f ≈ σ(3) = {forget_gate_of_bias(3.0):.2f}, C becomes a slow state.\n"
    f"- **+5**: f ≈ σ(5) = {forget_gate_of_bias(5.0):.2f}, the opening preset: C's half-life "
    "is tens of steps.\n"
    "- **chrono**: Tallec & Ollivier 2018: b_f ~ log U(1, T_max − 1), b_i = −b_f, "
    "with T_max = seq_len."
)


def _matching_init() -> str | None:
    """The preset label the current forget_bias / chrono_t_max equal, or None."""
    if float(st.session_state.get("chrono_t_max", 0.0)) > 0:
        return "chrono"
    bias = float(st.session_state.get("forget_bias", 0.0))
    return next(
        (label for label, (b, chrono) in FORGET_INITS.items() if not chrono and b == bias), None
    )


def _apply_forget_init() -> None:
    label = st.session_state.get(FORGET_INIT_KEY)
    if label not in FORGET_INITS:
        return  # the selected option was clicked again: keep the settings
    bias, chrono = FORGET_INITS[label]
    if chrono:
        # T_max = the sequence length, the paper's choice; it must be above 2.
        store_settings({"chrono_t_max": max(3, int(st.session_state.get("seq_len", 100)))})
    else:
        store_settings({"chrono_t_max": 0.0, "forget_bias": bias})


def forget_bias_moved() -> None:
    """on_change of the forget_bias slider: a hand-set bias turns chrono off."""
    store_settings({"chrono_t_max": 0.0})


def forget_init_control() -> None:
    """Segmented presets for the forget-gate init, kept in step with the slider."""
    st.session_state[FORGET_INIT_KEY] = _matching_init()
    st.segmented_control(
        "forget-gate init",
        tuple(FORGET_INITS),
        key=FORGET_INIT_KEY,
        on_change=_apply_forget_init,
        help=FORGET_INIT_HELP,
    )
    chrono = float(st.session_state.get("chrono_t_max", 0.0))
    if chrono > 0:
        st.caption(f"Chrono init on (T_max = {chrono:g}): the forget_bias slider is not used.")


@byte_cached(LAB)
def _parse(data: bytes) -> tuple[tuple[float, ...], ...]:
    return parse_csv(data)


def _csv_uploaded() -> None:
    """on_change of the uploader: keep the rows (and the file's name) for the session, and the
    sidebar's input_dim and seq_len (and so the link) take the file's shape. A callback runs
    before the script, while those widgets may still be set. The rows are kept here, not from
    the widget's value: a page that does not draw the uploader drops its value, not the file."""
    upload = st.session_state.get(CSV_FILE_KEY)
    st.session_state.pop(CSV_ERROR_KEY, None)
    if upload is None:  # the user removed the file
        st.session_state[INPUT_VALUES_KEY] = None
        st.session_state.pop(CSV_NAME_KEY, None)
        return
    try:
        rows = _parse(upload.getvalue())
    except ValueError as error:
        st.session_state[INPUT_VALUES_KEY] = None
        st.session_state.pop(CSV_NAME_KEY, None)
        st.session_state[CSV_ERROR_KEY] = f"{upload.name}: {error}"
        return
    st.session_state[INPUT_VALUES_KEY] = rows
    st.session_state[CSV_NAME_KEY] = upload.name
    store_settings({"seq_len": len(rows), "input_dim": len(rows[0])})


def csv_in_use() -> bool:
    """True while the run reads an uploaded CSV: input_dim and seq_len follow the file."""
    return st.session_state.get("signal") == "csv" and (
        st.session_state.get(INPUT_VALUES_KEY) is not None
    )


def csv_upload_control() -> None:
    """The CSV uploader (shown while signal == "csv"); rows go to INPUT_VALUES_KEY."""
    if st.session_state.get("signal") != "csv":
        return
    st.file_uploader(
        "input CSV",
        type=["csv", "txt"],
        key=CSV_FILE_KEY,
        on_change=_csv_uploaded,
        help=(
            "Rows are time steps, columns are features (an optional header row of names). "
            f"input_dim and seq_len follow the file. At most {MAX_CSV_BYTES // 1_000_000} MB."
        ),
    )
    if CSV_ERROR_KEY in st.session_state:
        st.error(st.session_state[CSV_ERROR_KEY])
    rows = st.session_state.get(INPUT_VALUES_KEY)
    if rows is None:
        return
    st.caption(
        f"{st.session_state.get(CSV_NAME_KEY, 'The file')}: {len(rows)} steps × {len(rows[0])} "
        "features, kept until you upload another file, remove this one or pick another signal. "
        "A link holds the settings and this shape, not the numbers: whoever opens it is asked "
        "for the file."
    )
