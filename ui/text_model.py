"""The trained text models of the text view: loaded once per process, run on a text once per
(model, text), both kept in the byte-bounded lab cache."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from lstm_core.learned.cell_table import CellRow, cell_table
from lstm_core.learned.charmodel import CharLSTM, TextRun, run_text, text_states
from lstm_core.learned.corpus import HeldOut, held_out_text
from lstm_core.learned.outcome import trained_seed
from lstm_core.learned.shipped import load_text_model
from ui.caches import LAB, byte_cached

MAX_TEXT_CHARS = 2_000  # what a user may paste or type into the text view


@dataclass(frozen=True)
class LoadedModel:
    """A text model and what its weights file records (the state is there to be counted)."""

    model: CharLSTM = field(repr=False)
    metadata: dict[str, str]
    state: dict[str, torch.Tensor] = field(repr=False)


@byte_cached(LAB, spinner="Loading the trained model…")
def loaded_model(name: str) -> LoadedModel:
    """The shipped model `name`; ValueError with a plain reason if it cannot be read."""
    model, metadata = load_text_model(name)
    return LoadedModel(model, metadata, dict(model.state_dict()))


@byte_cached(LAB, spinner="Running the model over the text…")
def text_run(name: str, text: str) -> TextRun:
    """Model `name` read over `text`: h, C and the gates of every unit at every character."""
    return run_text(loaded_model(name).model, text)


@byte_cached(LAB)
def held_out(name: str) -> HeldOut:
    """Source the model `name` never trained on."""
    return held_out_text(trained_seed(loaded_model(name).metadata))


@byte_cached(LAB, spinner="Finding the cells on held-out source…")
def held_out_table(name: str) -> list[CellRow]:
    """The cell finder's table for model `name` on its held-out source (only the table is
    kept: the states over the whole source are over 100 MB for a stacked model)."""
    return cell_table(text_states(loaded_model(name).model, held_out(name).text))
