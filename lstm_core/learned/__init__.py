"""Trained LSTMs whose cell state holds something a person can read: tasks, the code model.

The names below are what a notebook needs for the code model; the figure of one unit over a
text is `lstm_core.figures.text.text_state_figure`.
"""

from lstm_core.learned.cell_table import CellRow, best_units, cell_table
from lstm_core.learned.charmodel import (
    CharLSTM,
    TextRun,
    TextStates,
    run_text,
    text_states,
    unit_name,
)
from lstm_core.learned.corpus import HeldOut, held_out_text
from lstm_core.learned.labels import LABEL_NAMES, label_text
from lstm_core.learned.shipped import SHIPPED_MODELS, load_text_model

__all__ = [
    "LABEL_NAMES",
    "SHIPPED_MODELS",
    "CellRow",
    "CharLSTM",
    "HeldOut",
    "TextRun",
    "TextStates",
    "best_units",
    "cell_table",
    "held_out_text",
    "label_text",
    "load_text_model",
    "run_text",
    "text_states",
    "unit_name",
]
