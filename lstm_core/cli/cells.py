"""`python -m lstm_core cells --model FILE_OR_NAME [--text-file F] --json`: a trained model's
cells, and its h and C at every step so anyone can recompute the correlations."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any, TextIO

import torch
from safetensors.torch import load

from lstm_core.analysis.cell_finder import constant_labels, find_cells
from lstm_core.cli.common import CliError
from lstm_core.io.strict_json import json_line
from lstm_core.learned.charmodel import (
    WEIGHTS_FORMAT,
    CharConfig,
    model_from_bytes,
    next_character_loss,
    read_metadata,
    text_states,
)
from lstm_core.learned.corpus import held_out_text
from lstm_core.learned.labels import label_text
from lstm_core.learned.outcome import trained_seed
from lstm_core.learned.shipped import weights_bytes
from lstm_core.learned.tasks import (
    TASK_CLASSES,
    get_task,
    held_out_of,
    label_cells,
    lstm_states,
    model_from_state,
)

# A text longer than this is refused: h and C are printed at every character.
MAX_TEXT_CHARS = 100_000
DECIMALS = 6  # h and C are printed rounded to this many decimals


def _write_json(report: dict[str, Any], out: TextIO) -> None:
    """`report` as one JSON object on `out`, as json.dumps writes it; a (T, H) tensor value as
    [T][H] nested lists rounded to DECIMALS, written row by row, so that a long text's states
    are never all held as Python floats and one string at once."""
    out.write("{")
    for n, (key, value) in enumerate(report.items()):
        out.write((", " if n else "") + json.dumps(key) + ": ")
        if isinstance(value, torch.Tensor):
            out.write("[")
            for t, row in enumerate(value):  # (H,) each
                out.write(
                    (", " if t else "") + json_line([round(v, DECIMALS) for v in row.tolist()])
                )
            out.write("]")
        else:
            out.write(json_line(value))
    out.write("}\n")


def text_model_report(data: bytes, text: str | None) -> dict[str, Any]:
    """A character model's cells on `text` (its held-out source when None): the JSON object,
    with h and c as (T, L·H) tensors (`_write_json` writes them as nested lists).

    Raises ValueError for weights that are no character model, or a bad text.
    """
    model, metadata = model_from_bytes(data)
    if text is None:
        text = held_out_text(trained_seed(metadata)).text
    if not text:
        raise ValueError("the text file is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"the text has {len(text):,} characters; at most {MAX_TEXT_CHARS:,}")
    states = text_states(model, text)  # h and C alone: the gates would be several times more
    labels = label_text(text)
    cells = find_cells(states.c, states.h, labels)
    return {
        "units": {name: match.to_dict() for name, match in cells.items()},
        # Labels with one value over the whole text (no string in it, say): no unit to find.
        "constant_labels": constant_labels(labels),
        "h": states.h,  # (T, L·H), written as [T][L·H] lists
        "c": states.c,
        "text": text,
        "loss_nats_per_char": next_character_loss(model, states),
        # A stacked model's units are numbered layer by layer (CharConfig.layer_of).
        "num_layers": model.config.num_layers,
        "layer_width": model.config.hidden_dim,
    }


def _read_text(path: str) -> str:
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"no such text file: {path}")
    if file.stat().st_size > 4 * MAX_TEXT_CHARS:
        raise ValueError(f"the text file is over {4 * MAX_TEXT_CHARS:,} bytes")
    text = file.read_bytes().decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def cells_report(file_or_name: str, text_file: str | None) -> dict[str, Any]:
    """The `cells` JSON for a model file or shipped name; ValueError with a plain reason."""
    data = weights_bytes(file_or_name)
    try:
        metadata = read_metadata(data)
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"{file_or_name} is not a safetensors weights file") from None
    if metadata.get("format") == WEIGHTS_FORMAT:
        return text_model_report(data, None if text_file is None else _read_text(text_file))
    if text_file is not None:
        raise ValueError("--text-file is for text models; a task model runs on its own data")
    return task_cells_report(data)


def _print_table(report: dict[str, Any]) -> None:
    stacked = report.get("num_layers", 1) > 1  # a task model's report has no layers
    config = (
        CharConfig(hidden_dim=report["layer_width"], num_layers=report["num_layers"])
        if stacked
        else None
    )
    print(
        f"{'label':<15}{'unit':>6}"
        + (f"{'layer':>7}" if stacked else "")
        + f"{'r(C)':>9}{'r(h)':>9}"
    )
    for name, unit in report["units"].items():
        layer = f"{config.layer_of(unit['unit']):>7}" if config is not None else ""
        print(f"{name:<15}{unit['unit']:>6}{layer}{unit['r_c']:>9.3f}{unit['r_h']:>9.3f}")
    if report.get("constant_labels"):
        print(
            "one value over the whole text, no unit to find: "
            + ", ".join(report["constant_labels"])
        )


def _command_cells(args: argparse.Namespace) -> None:
    try:
        report = cells_report(args.model, args.text_file)
    except ValueError as error:
        raise CliError(str(error)) from None
    if args.json:
        _write_json(report, sys.stdout)
    else:
        _print_table(report)


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `cells` subcommand."""
    parser = commands.add_parser("cells", help="a trained model's cells: which unit holds what")
    parser.add_argument(
        "--model",
        required=True,
        metavar="FILE_OR_NAME",
        help="weights file, or 'code' (the shipped model; a file of that name: ./code)",
    )
    parser.add_argument(
        "--text-file", metavar="F", help="text for a text model (default: its held-out source)"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help='print {"units", "constant_labels", "h", "c", "text", ...} (see README)',
    )
    parser.set_defaults(handler=_command_cells)


# Held-out sequences `cells` prints the states of: enough steps for stable correlations, few
# enough that h and C at every step stay a readable JSON document.
CELLS_SEQUENCES = 16


@torch.no_grad()
def task_cells_report(data: bytes) -> dict[str, Any]:
    """The `cells --json` object of a saved task model, on its own held-out sequences.

    The first CELLS_SEQUENCES held-out sequences are run and laid end to end: "h" and "c" are
    [T][H] over those steps, "labels" {name: [T]} (null where a label is undefined), and "units"
    {label: {"unit", "r_c", "r_h", "best_h_unit", "best_r_h"}} the cell finder's best units on
    them. ValueError when the file is no task model.
    """
    try:
        state = load(data)
        metadata = read_metadata(data)
    except Exception as error:  # safetensors raises its own error types for a bad header
        raise ValueError(f"not a safetensors weights file ({error})") from None
    name = metadata.get("task")
    if name not in TASK_CLASSES:
        raise ValueError(f"this weights file holds no task model (task {name!r})")
    task = get_task(name)
    model = model_from_state(name, state)
    test = held_out_of(task, metadata)
    inputs = test.inputs[:CELLS_SEQUENCES]
    h, c = lstm_states(task, model, inputs)  # (N, T, H) each
    labels = {label: values[:CELLS_SEQUENCES] for label, values in test.labels.items()}
    cells = label_cells(h, c, labels)
    hidden = h.shape[-1]
    return {
        "task": name,
        "units": {label: match.to_dict() for label, match in cells.items()},
        # As for a text model: a label with one value over its defined steps has no unit.
        "constant_labels": [label for label in labels if label not in cells],
        "h": h.reshape(-1, hidden).tolist(),  # (N·T, H)
        "c": c.reshape(-1, hidden).tolist(),
        "labels": {
            label: [v if math.isfinite(v) else None for v in values.reshape(-1).tolist()]
            for label, values in labels.items()
        },
    }
