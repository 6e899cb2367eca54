"""The sidebar's "Model" choice and the run of a loaded or trained model, shared by every page.

The choice makes a hashable `lstm_core.model.source.ModelSource`; `source_run_or_stop` runs it
(`run_source`) and `source_cells_or_stop` ranks a trained model's cells (`rank_cells`), both
cached in the byte-bounded RUNS cache (ui/caches.py). An upload's bytes, and a task model's
trained in the Memory lab, stay in this session only: a link carries model=file, and whoever
opens it is asked for the file; model=brackets opens the shipped model.
"""

from __future__ import annotations

import streamlit as st

from lstm_core.io.checkpoint import MAX_CHECKPOINT_BYTES, lstm_prefixes, read_tensors
from lstm_core.io.csv_input import MAX_CSV_BYTES
from lstm_core.io.image import safe_name
from lstm_core.io.npy_input import parse_input
from lstm_core.learned.charmodel import read_metadata
from lstm_core.learned.outcome import task_model_words, weights_file_name
from lstm_core.model.source import (
    TRAINED_MODELS,
    CellRanking,
    ModelSource,
    SourceRun,
    rank_cells,
    run_source,
    sha256,
)
from lstm_core.serving.cache import BudgetError
from ui.caches import LAB, RUNS
from ui.settings import load_preset
from ui.share import change_link, link_warning, no_room_and_stop, stop_page

MODEL_PARAM = "model"  # the URL key of the model source
MODEL_KEY = "model_source"  # the sidebar's choice: one of MODEL_CHOICES' labels
MODEL_CHOICES: dict[str, str] = {  # label -> ModelSource.kind
    "Seeded nn.LSTM": "seeded",
    "Your checkpoint": "file",
    **{label: kind for kind, label in TRAINED_MODELS.items()},
}
_KIND_LABEL = {kind: label for label, kind in MODEL_CHOICES.items()}
WEIGHTS_UPLOAD_KEY = "model_weights_upload"
WEIGHTS_KEY = "model_weights"  # (file name, sha256, bytes) of this session's checkpoint
PREFIX_KEY = "model_lstm_prefix"
INPUT_UPLOAD_KEY = "model_input_upload"
INPUT_KEY = "model_input"  # (file name, sha256, (B, T, I) float64 array) or absent
INPUT_ERROR_KEY = "model_input_error"
WEIGHTS_ERROR_KEY = "model_weights_error"
# {task: (sha256, bytes)}: the task models trained in this session (the Memory lab), the last
# one per task; OWN_WEIGHTS_KEY + task is the sidebar's choice between it and the shipped one.
TRAINED_HERE_KEY = "model_trained_here"
OWN_WEIGHTS_KEY = "model_task_weights_"
SHIPPED, TRAINED_HERE = "shipped", "trained here"
FOCUS_KEY = "model_focus"  # the label whose best unit the Explorer shows (e.g. "depth")
UNITS_KEY = "explorer_src_units"  # the Explorer's units picker; see units_key
LAYER_KEY = "explorer_src_layer"  # its layer picker; see layer_key
_URL_APPLIED_KEY = "model_url_applied"
_FILE_FROM_LINK_KEY = "model_file_from_link"  # model=file came from a shared link
# The settings every loaded or trained model decides itself; decided_by_model adds those of
# each kind.
DECIDED_BY_MODEL: tuple[str, ...] = (
    "input_dim",
    "hidden_dim",
    "num_layers",
    "dtype",
    "forget_bias",
    "input_scale",
    "signal",
    "frequency",
)


def decided_by_model(kind: str) -> set[str]:
    """The settings the model of `kind` decides itself: the sidebar disables them and the run
    ignores them."""
    if kind == "seeded":
        return set()
    decided = set(DECIDED_BY_MODEL)
    if kind != "file":
        decided |= {"seq_len", "seed"}  # a trained model reads its held-out data
    if kind == "code":
        decided.add("batch_size")  # one text
    return decided


def model_kind() -> str:
    """The chosen source's kind: "seeded", "file", or a trained model ("brackets", ...)."""
    return MODEL_CHOICES.get(st.session_state.get(MODEL_KEY, "Seeded nn.LSTM"), "seeded")


def apply_model_url_once() -> None:
    """Read model= from a shared link on a session's first run (before the widgets exist)."""
    if st.session_state.get(_URL_APPLIED_KEY):
        return
    st.session_state[_URL_APPLIED_KEY] = True
    wanted = st.query_params.get(MODEL_PARAM)
    if wanted is None:
        return
    if wanted in _KIND_LABEL:
        st.session_state[MODEL_KEY] = _KIND_LABEL[wanted]
        st.session_state[_FILE_FROM_LINK_KEY] = wanted == "file"
    else:
        link_warning(f"model={wanted} is not a model this app has")


def sync_model_url(shown: bool = True) -> None:
    """Write model= into the URL (nothing for the seeded model, or when not `shown`: a page
    that runs no model keeps its link free of it)."""
    kind = model_kind()
    wanted = None if kind == "seeded" or not shown else ModelSource(kind=kind).url_value
    change_link({MODEL_PARAM: wanted})


def load_seeded_preset(name: str) -> None:
    """Button callback: a seeded preset (ui.settings.load_preset) on the seeded nn.LSTM."""
    st.session_state[MODEL_KEY] = _KIND_LABEL["seeded"]
    load_preset(name)


def choose_learned_counter() -> None:
    """Button callback: the trained brackets model, its depth unit shown."""
    st.session_state[MODEL_KEY] = TRAINED_MODELS["brackets"]
    choose_weights("brackets", trained_here_ones=False)  # the starting point: the shipped model
    st.session_state[FOCUS_KEY] = "depth"
    # Whatever the user picked there before: the starting point shows the depth unit alone.
    for key in (units_key("depth"), layer_key("depth")):
        st.session_state.pop(key, None)


def trained_here(kind: str) -> tuple[str, bytes] | None:
    """(sha256, bytes) of the `kind` task model trained in this session, if any."""
    return st.session_state.get(TRAINED_HERE_KEY, {}).get(kind)


def keep_trained_here(kind: str, weights: bytes) -> None:
    """Keep a task model trained in this session (the last one per task)."""
    st.session_state.setdefault(TRAINED_HERE_KEY, {})[kind] = (sha256(weights), weights)


def choose_weights(kind: str, trained_here_ones: bool) -> None:
    """A callback's choice for `kind`'s Weights switch (only with a model trained here)."""
    if trained_here(kind) is not None:
        st.session_state[OWN_WEIGHTS_KEY + kind] = TRAINED_HERE if trained_here_ones else SHIPPED


def units_key(label: str | None) -> str:
    """The Explorer's units picker for a model's cell `label` (None: a model without cells):
    one per label, so that each label opens on its best unit and keeps the user's pick."""
    return UNITS_KEY if label is None else f"{UNITS_KEY}_{label}"


def layer_key(label: str | None) -> str:
    """The Explorer's layer picker, one per label as units_key."""
    return LAYER_KEY if label is None else f"{LAYER_KEY}_{label}"


def _store_weights() -> None:
    """on_change of the checkpoint uploader: keep the bytes for this session, named by sha256."""
    uploaded = st.session_state.get(WEIGHTS_UPLOAD_KEY)
    st.session_state.pop(WEIGHTS_ERROR_KEY, None)
    st.session_state.pop(_FILE_FROM_LINK_KEY, None)  # the user is at the uploader now
    if uploaded is None:  # the user removed the file
        st.session_state.pop(WEIGHTS_KEY, None)
        st.session_state.pop(PREFIX_KEY, None)
        return
    data = uploaded.getvalue()
    if len(data) > MAX_CHECKPOINT_BYTES:
        st.session_state[WEIGHTS_ERROR_KEY] = (
            f"{uploaded.name} is {len(data):,} bytes; this app reads checkpoints up to "
            f"{MAX_CHECKPOINT_BYTES:,} bytes."
        )
        return
    st.session_state[WEIGHTS_KEY] = (uploaded.name, sha256(data), data)
    st.session_state.pop(PREFIX_KEY, None)


def _store_input() -> None:
    """on_change of the input uploader: a .npy or CSV array, or one sentence why not."""
    uploaded = st.session_state.get(INPUT_UPLOAD_KEY)
    st.session_state.pop(INPUT_ERROR_KEY, None)
    if uploaded is None:
        st.session_state.pop(INPUT_KEY, None)
        return
    data = uploaded.getvalue()
    try:
        values = parse_input(uploaded.name, data)  # (B, T, I), each format within its caps
    except ValueError as error:
        st.session_state[INPUT_ERROR_KEY] = f"{uploaded.name} cannot be read: {error}."
        st.session_state.pop(INPUT_KEY, None)
        return
    st.session_state[INPUT_KEY] = (uploaded.name, sha256(data), values)


def _prefixes(name_sha_data: tuple[str, str, bytes]) -> list[str]:
    """The LSTM prefixes in the file (read once per file); [] when it cannot be read."""
    _, digest, data = name_sha_data

    def compute() -> list[str]:
        try:
            return lstm_prefixes(read_tensors(data))
        except ValueError:
            return []

    return LAB.get_or_compute(("checkpoint_prefixes", digest), compute)


def model_source_control() -> None:
    """Sidebar: the Model choice; for a checkpoint, the uploaders and the prefix picker."""
    st.radio(
        "Model",
        tuple(MODEL_CHOICES),
        key=MODEL_KEY,
        # Kept while a page without the run settings (the text view) is open.
        persist_state="session",
        help="Seeded nn.LSTM: random weights from the settings below. Your checkpoint: any "
        "nn.LSTM in a .safetensors or .pt file (read without running code). Trained: a model "
        "shipped with the app, reading its task's held-out sequences (code: Python source).",
    )
    kind = model_kind()
    own = trained_here(kind)
    if own is not None:
        st.radio(
            "Weights",
            (SHIPPED, TRAINED_HERE),
            key=OWN_WEIGHTS_KEY + kind,
            horizontal=True,
            persist_state="session",
            format_func=lambda choice: (
                f"{choice} ({task_model_words(read_metadata(own[1]))})"
                if choice == TRAINED_HERE
                else choice
            ),
            help=f"The {kind} model shipped with the app, or the one you trained in the Memory "
            "lab this session. A link always opens the shipped one: save yours from the Memory "
            "lab to share it.",
        )
    if kind == "file":
        st.file_uploader(
            "Checkpoint (.safetensors or .pt)",
            type=["safetensors", "pt", "pth"],
            key=WEIGHTS_UPLOAD_KEY,
            on_change=_store_weights,
            help="A bare nn.LSTM state_dict or a whole model's; every size is read from the "
            "tensors. A .pt is read with torch.load(weights_only=True): nothing in it runs.",
        )
        if WEIGHTS_ERROR_KEY in st.session_state:
            st.error(st.session_state[WEIGHTS_ERROR_KEY])
        stored = st.session_state.get(WEIGHTS_KEY)
        if stored is not None:
            prefixes = _prefixes(stored)
            if len(prefixes) > 1:
                st.selectbox(
                    "Which LSTM",
                    prefixes,
                    key=PREFIX_KEY,
                    format_func=lambda p: p.rstrip(".") or "(the file itself)",
                    help="The file holds several LSTMs; pick one by its parameters' prefix.",
                )
        st.file_uploader(
            "Input (.npy or CSV), optional",
            type=["npy", "csv"],
            key=INPUT_UPLOAD_KEY,
            on_change=_store_input,
            help="(T, I) or (B, T, I) .npy, or a CSV of T rows × I columns; I must be the "
            "model's input size. Without it the model reads seeded noise of its input size. "
            f"A .npy of up to {st.get_option('server.maxUploadSize')} MB (the upload limit), a "
            f"CSV of up to {MAX_CSV_BYTES // 1_000_000} MB.",
        )
        if INPUT_ERROR_KEY in st.session_state:
            st.error(st.session_state[INPUT_ERROR_KEY])
    if kind != "seeded":
        st.caption(
            "The model's file decides its sizes and weights: the settings greyed out below are "
            "the seeded nn.LSTM's, kept for when you go back to it."
            + (
                " Steps, batch and seed shape the seeded noise it reads without an input file."
                if kind == "file"
                else " It reads the start of Python source it never trained on."
                if kind == "code"
                else " Batch picks how many of the task's held-out sequences are drawn."
            )
        )


def current_source() -> ModelSource | None:
    """The chosen loaded or trained model, or None for the seeded nn.LSTM.

    For a checkpoint not uploaded in this session (e.g. a shared link), says so and stops.
    """
    kind = model_kind()
    if kind == "seeded":
        return None
    if "batch_size" in decided_by_model(kind):
        return ModelSource(kind=kind)
    batch = int(st.session_state.get("batch_size", 1))
    if kind != "file":
        own = trained_here(kind)
        use_own = own is not None and st.session_state.get(OWN_WEIGHTS_KEY + kind) == TRAINED_HERE
        return ModelSource(kind=kind, file_sha256=own[0] if use_own else "", batch_size=batch)
    stored = st.session_state.get(WEIGHTS_KEY)
    if stored is None:
        st.info(
            "This view reads an nn.LSTM from your checkpoint. "
            + (
                "A link holds model=file but not the file: upload the .safetensors or .pt "
                "file in the sidebar."
                if st.session_state.get(_FILE_FROM_LINK_KEY)
                else "Upload it in the sidebar: a .safetensors file, or a .pt or .pth saved "
                "with torch.save (read as data; nothing in it runs)."
            )
        )
        stop_page()
    values = st.session_state.get(INPUT_KEY)
    return ModelSource(
        kind="file",
        file_sha256=stored[1],
        lstm_prefix=st.session_state.get(PREFIX_KEY),
        input_sha256=values[1] if values is not None else "",
        seq_len=int(st.session_state.get("seq_len", 100)),
        batch_size=batch,
        seed=int(st.session_state.get("seed", 0)),
    )


def source_file_name(source: ModelSource) -> str:
    """The file name a reproduce script loads: the upload's name, the name the Memory lab saves
    a task model under, or the shipped file's."""
    if source.kind == "file":
        stored = st.session_state.get(WEIGHTS_KEY)
        return stored[0] if stored is not None else "checkpoint.safetensors"
    if source.file_sha256:
        return weights_file_name(read_metadata(_weights_of(source)))
    return f"{source.kind}.safetensors"


def source_name(source: ModelSource) -> str:
    """How export files name the model: its weights file's name without the suffix."""
    return safe_name(source_file_name(source).rsplit(".", 1)[0])


def _weights_of(source: ModelSource) -> bytes | None:
    """The bytes a source's run reads from this session: an upload, a task model trained here;
    None for a shipped model (run_source reads its file)."""
    if source.kind == "file":
        return st.session_state[WEIGHTS_KEY][2]
    own = trained_here(source.kind)
    if source.file_sha256 and own is not None and own[0] == source.file_sha256:
        return own[1]
    return None


def source_run_or_stop(source: ModelSource) -> SourceRun:
    """The cached run of `source`; a file or input that cannot run gets one sentence and a stop."""
    weights = _weights_of(source)
    input_values = None
    if source.kind == "file" and source.input_sha256:
        input_values = st.session_state[INPUT_KEY][2]

    def compute() -> SourceRun | str:
        with st.spinner("Running your nn.LSTM and the hand-written cell…"):
            try:
                return run_source(source, weights, input_values)
            except ValueError as error:  # kept too, so a bad file is read once
                return str(error)

    try:
        run = RUNS.get_or_compute(("model_source", source), compute)
    except BudgetError as error:
        no_room_and_stop(error)
    if isinstance(run, str):
        st.error(f"This model cannot run: {run}.")
        stop_page()
    return run


def source_cells_or_stop(source: ModelSource) -> CellRanking:
    """The cell ranking of the trained model `source` names, cached in RUNS under the model's
    kind and weights (it does not depend on the batch or the page); empty for a checkpoint."""
    if source.kind not in TRAINED_MODELS:
        return CellRanking()

    weights = _weights_of(source)

    def compute() -> CellRanking:
        with st.spinner("Finding the cells on all of the model's held-out data…"):
            return rank_cells(source, weights)

    try:
        return RUNS.get_or_compute(("source_cells", source.kind, source.file_sha256), compute)
    except BudgetError as error:
        no_room_and_stop(error)
