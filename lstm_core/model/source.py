"""Where the model comes from, and one run of it for any source: `ModelSource`, `run_source`;
for a trained model, its cells on all of its held-out data: `rank_cells`.

Kinds:
- "seeded": the seeded nn.LSTM of a RunConfig (lstm_core.model.simulate; not run here).
- "file": an nn.LSTM in a checkpoint (safetensors, or .pt read with weights_only=True) read
  only through lstm_core.io.checkpoint; its input is a user's (B, T, I) array checked against
  the model's input size, else seeded noise of that size.
- a task name ("brackets", "recall"): a task model of lstm_core.learned trained by
  `python -m lstm_core train --task NAME --save ...` and shipped in lstm_core/learned/weights,
  or one trained in the app's Memory lab (its weights' sha256 in `file_sha256`, the bytes
  passed beside the source); its input is the held-out sequences of the seed it was trained
  with, put through the model's input layer (embedding or none), so x is what the nn.LSTM
  reads, and the task's labels (e.g. bracket depth) come along for the cell finder.
- "code": the shipped character LSTM of Python source (lstm_core.learned.shipped); its input is
  the start of its held-out source through its embedding, one character a step, with the
  text's labels (in_string, bracket_depth, ...); its cells are ranked on all of that source.

A ModelSource is hashable and small (file contents are named by their sha256), so it keys the
app's caches; the bytes themselves are passed to `run_source` beside it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load as load_safetensors
from torch import nn

from lstm_core.analysis.cell_finder import UnitMatch, find_cells
from lstm_core.io.checkpoint import LSTMSpec, check_input, check_input_range, load_lstm
from lstm_core.learned.charmodel import (
    encode,
    expected_next,
    model_from_bytes,
    read_metadata,
    text_states,
)
from lstm_core.learned.corpus import held_out_text
from lstm_core.learned.labels import label_text
from lstm_core.learned.outcome import task_model_words, trained_seed
from lstm_core.learned.tasks import (
    Task,
    TaskBatch,
    get_task,
    held_out_of,
    label_cells,
    model_from_state,
)
from lstm_core.model.trace import FILE_MODEL_TITLE, Trace, trace

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "learned" / "weights"
# Trained models shipped in the repository (the task models and the code model): kind -> the
# sidebar's name for it.
TRAINED_MODELS: dict[str, str] = {
    "brackets": "Trained: brackets",
    "recall": "Trained: recall",
    "code": "Trained: code",
}
SOURCE_KINDS: tuple[str, ...] = ("seeded", "file", *TRAINED_MODELS)
# The held-out seed the shipped models were scored on (their training seed, `train` default).
TRAINED_SEED = 0
# The code model's run: the first this many characters of its held-out source, one a step.
CODE_VIEW_CHARS = 2_000


def strongest_first(cells: dict[str, UnitMatch]) -> dict[str, UnitMatch]:
    """The cell finder's labels ordered by their best unit's |r(C)|, strongest first."""
    return dict(sorted(cells.items(), key=lambda item: -abs(item[1].r_c)))


def sha256(data: bytes) -> str:
    """The hex sha256 of some bytes: what names an uploaded file in the caches."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ModelSource:
    """Which model a run uses and what it reads: hashable, a cache key."""

    kind: str = "seeded"  # one of SOURCE_KINDS
    # "file": the checkpoint's sha256; a task: the sha256 of weights trained in the Memory lab,
    # "" for the shipped file
    file_sha256: str = ""
    lstm_prefix: str | None = None  # "file": which LSTM, when the file holds several
    input_sha256: str = ""  # "file": the user's input array's sha256; "" = seeded noise
    seq_len: int = 100  # T of the seeded noise ("file" without an input)
    batch_size: int = 1  # B: batch items (noise), or held-out sequences shown (tasks)
    seed: int = 0  # seeds the noise ("file" without an input)

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KINDS:
            raise ValueError(f"model source must be one of {', '.join(SOURCE_KINDS)}")

    @property
    def loaded(self) -> bool:
        """True when the weights come from a file or a trained model, not the seeded init."""
        return self.kind != "seeded"

    @property
    def title(self) -> str:
        """How a chart's title names the model: "Your LSTM", "Trained brackets model"."""
        if self.kind == "seeded":
            return "Seeded LSTM"
        return FILE_MODEL_TITLE if self.kind == "file" else f"Trained {self.kind} model"

    @property
    def url_value(self) -> str:
        """What a shared link says: model=file (the link asks for the file) or the task."""
        return "file" if self.kind == "file" else self.kind


@dataclass(frozen=True, repr=False)
class SourceRun:
    """One traced run of a loaded or trained model."""

    source: ModelSource
    spec: LSTMSpec  # the nn.LSTM's sizes
    trace: Trace  # every state and gate (lstm_core.model.trace)
    # Per label {name: (B, T) float} for the traced sequences or text; {} for a file.
    labels: dict[str, torch.Tensor] = field(default_factory=dict)
    description: str = ""  # one sentence: what the model and its input are
    text: str = ""  # the characters read, one a step (the code model), else ""
    # A task model's input in words, one per step of each sequence drawn (B × T), else ().
    step_words: tuple[tuple[str, ...], ...] = ()
    # What the model answers after each step beside the right answer (B × T): a task model's
    # output and target, the code model's likeliest next characters and the next one; else ().
    step_answers: tuple[tuple[str, ...], ...] = ()

    def __repr__(self) -> str:
        return f"SourceRun({self.source.kind}, {self.trace!r})"


@dataclass(frozen=True)
class CellRanking:
    """The cell finder on all of a trained model's held-out data (`rank_cells`)."""

    # Each label's best unit, strongest |r(C)| first; {} for a checkpoint. Units are numbered
    # layer by layer: unit k is unit k % H of layer k // H.
    cells: dict[str, UnitMatch] = field(default_factory=dict)
    over: str = ""  # what the cells were ranked on: "all held-out sequences"


def trained_weights_path(task: str) -> Path:
    """The shipped safetensors file of a trained model."""
    if task not in TRAINED_MODELS:
        raise ValueError(f"no trained model called {task!r}")
    return WEIGHTS_DIR / f"{task}.safetensors"


def _spec_of(lstm: nn.LSTM, prefix: str = "") -> LSTMSpec:
    return LSTMSpec(
        prefix=prefix,
        input_size=lstm.input_size,
        hidden_size=lstm.hidden_size,
        num_layers=lstm.num_layers,
        bidirectional=lstm.bidirectional,
        proj_size=lstm.proj_size,
        bias=lstm.bias,
    )


def _seeded_noise(source: ModelSource, features: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(source.seed)
    return torch.randn(source.batch_size, source.seq_len, features, generator=generator)


@torch.no_grad()
def _run_file(source: ModelSource, weights: bytes, input_values: np.ndarray | None) -> SourceRun:
    loaded = load_lstm(weights, source.lstm_prefix)
    lstm = loaded.module(torch.float32)
    if input_values is None:
        x = _seeded_noise(source, loaded.spec.input_size)  # (B, T, I)
        what = f"seeded noise (seed {source.seed}, {source.batch_size} × {source.seq_len} steps)"
    else:
        x = torch.as_tensor(np.asarray(input_values, dtype=np.float64))
        if x.dim() == 2:
            x = x[None]  # (1, T, I)
        check_input_range(x, torch.float32)
        x = x.float()
        what = f"your input ({x.shape[0]} × {x.shape[1]} steps)"
    check_input(x, loaded.spec)
    spec = loaded.spec
    shape = (
        f"input {spec.input_size}, hidden {spec.hidden_size}, {spec.num_layers} layer(s)"
        + (", bidirectional" if spec.bidirectional else "")
        + (f", proj_size {spec.proj_size}" if spec.proj_size else "")
    )
    return SourceRun(
        source=source,
        spec=spec,
        trace=trace(lstm, x),
        description=f"Your checkpoint's nn.LSTM ({shape}) reading {what}.",
    )


def _task_input(task_name: str, weights: bytes) -> tuple[Task, nn.Module, TaskBatch, torch.Tensor]:
    """The task, its model, the held-out batch of its training seed and length, and what its
    nn.LSTM reads of that batch (N, T, I)."""
    task = get_task(task_name)
    metadata = read_metadata(weights)
    if metadata.get("task", task_name) != task_name:
        raise ValueError(f"these weights hold a {metadata['task']} model, not a {task_name} one")
    model = model_from_state(task_name, load_safetensors(weights)).eval()
    test = held_out_of(task, metadata)
    return task, model, test, task.lstm_input(model, test.inputs)


@torch.no_grad()
def _run_task(source: ModelSource, weights: bytes) -> SourceRun:
    task, model, test, x = _task_input(source.kind, weights)  # x (N, T, I)
    shown = max(1, min(source.batch_size, x.shape[0]))
    run = trace(model.recurrent, x[:shown])
    drawn = TaskBatch(
        inputs=test.inputs[:shown],
        targets=test.targets[:shown],
        labels={name: values[:shown] for name, values in test.labels.items()},
    )
    made = (
        f"trained in the app's Memory lab ({task_model_words(read_metadata(weights))})"
        if source.file_sha256
        else f"trained by `python -m lstm_core train --task {source.kind}`"
    )
    return SourceRun(
        source=source,
        spec=_spec_of(model.recurrent),
        trace=run,
        labels=drawn.labels,
        step_words=tuple(tuple(row) for row in task.step_words(drawn.inputs)),
        step_answers=tuple(tuple(row) for row in task.step_answers(model(drawn.inputs), drawn)),
        description=(
            f"The {source.kind} task's model, {made}, reading {shown} held-out sequence(s) "
            f"of {x.shape[1]} steps through its input layer."
        ),
    )


@torch.no_grad()
def _run_code(source: ModelSource, weights: bytes) -> SourceRun:
    model, metadata = model_from_bytes(weights)
    held_out = held_out_text(trained_seed(metadata))
    labels = label_text(held_out.text)  # {name: (N,)}
    text = held_out.text[:CODE_VIEW_CHARS]
    x = model.embedding(encode(text)[None])  # (1, T, E): what the nn.LSTM reads
    config = model.config
    layers = "one layer" if config.num_layers == 1 else f"{config.num_layers} layers"
    run = trace(model.lstm, x)
    logits = model.head(run.h[-1, 0, 0])  # (T, V), from the last layer's h
    return SourceRun(
        source=source,
        spec=_spec_of(model.lstm),
        trace=run,
        # (1, T) each, copied out of the whole source's labels so that those can go.
        labels={name: values[None, : len(text)].clone() for name, values in labels.items()},
        description=(
            f"The code model ({layers} of {config.hidden_dim} units, "
            "trained to predict the next character of the Python standard library), reading "
            f"the first {len(text):,} characters of `{held_out.source}`, source it never "
            "trained on, through its embedding: step t is character t."
        ),
        text=text,
        # The held-out source goes on past the characters shown: its next one is known.
        step_answers=(tuple(expected_next(logits, held_out.text[1 : len(text) + 1])),),
    )


def run_source(
    source: ModelSource, weights: bytes | None = None, input_values: np.ndarray | None = None
) -> SourceRun:
    """Trace the model `source` names on its input: every state and gate, every step.

    weights: the checkpoint's bytes ("file"), or a task model's trained in the Memory lab (the
    source's file_sha256); for a trained model without file_sha256, None reads the shipped file.
    input_values: (T, I) or (B, T, I) for a file, else seeded noise of the model's input size.
    ValueError (one sentence) for anything that cannot run: a bad file, a wrong input size.
    """
    if source.kind == "seeded":
        raise ValueError("the seeded model runs through lstm_core.model.simulate")
    if source.kind == "file":
        if weights is None:
            raise ValueError("a checkpoint source needs the file's bytes")
        if sha256(weights) != source.file_sha256:
            raise ValueError("these bytes are not the file the source names")
        return _run_file(source, weights, input_values)
    weights = _trained_weights(source, weights)
    if source.kind == "code":
        return _run_code(source, weights)
    return _run_task(source, weights)


def _trained_weights(source: ModelSource, weights: bytes | None) -> bytes:
    """A trained model's weights: the shipped file's, or the given bytes the source names."""
    if not source.file_sha256:
        return trained_weights_path(source.kind).read_bytes() if weights is None else weights
    if weights is None or sha256(weights) != source.file_sha256:
        raise ValueError("these bytes are not the weights the source names")
    return weights


# The cell finder traces a task model's whole held-out set at once (sequences x steps x units,
# with its gates: 32 bytes a state in float32); a saved model whose held-out set is larger is
# refused in one sentence rather than traced.
TASK_CELLS_MAX_STATES = 100_000_000


@torch.no_grad()
def _task_cells(task_name: str, weights: bytes) -> CellRanking:
    _, model, test, x = _task_input(task_name, weights)  # x (N, T, I)
    full = trace(model.recurrent, x, max_states=TASK_CELLS_MAX_STATES)
    cells = label_cells(full.h[-1, 0], full.c[-1, 0], test.labels)  # last layer, forward
    return CellRanking(strongest_first(cells), "all held-out sequences")


def _code_cells(weights: bytes) -> CellRanking:
    model, metadata = model_from_bytes(weights)
    held_out = held_out_text(trained_seed(metadata))
    states = text_states(model, held_out.text)  # h, C (N, L·H): every layer's units
    found = find_cells(states.c, states.h, label_text(held_out.text))
    return CellRanking(
        strongest_first(found), f"all {len(held_out.text):,} characters of `{held_out.source}`"
    )


def rank_cells(source: ModelSource, weights: bytes | None = None) -> CellRanking:
    """The cell finder on all of the trained model `source` names' held-out data: a task
    model's held-out sequences, the code model's whole held-out file. Empty for a checkpoint
    or the seeded model (no labels).

    Apart from run_source, because the pages that show no cell should not wait for it: on
    the code model it reads the whole held-out file, run_source its first CODE_VIEW_CHARS.
    weights: a trained model's file bytes, as for run_source; None reads the shipped file.
    """
    if source.kind not in TRAINED_MODELS:
        return CellRanking()
    weights = _trained_weights(source, weights)
    if source.kind == "code":
        return _code_cells(weights)
    return _task_cells(source.kind, weights)
