"""The cell finder's table for a text model: the top units of each label, r of C and of h, and
r of C again over the characters outside strings.

Python's tokenizer counts no bracket and starts no comment inside a string (a docstring's
prose), while a unit reads every character alike: for bracket_depth and in_comment, r over the
characters outside strings shows how much of a unit's miss lies inside them. For column and
indentation, which strings do not change, it is r over a part of the text."""

from __future__ import annotations

from dataclasses import dataclass

from lstm_core.analysis.cell_finder import correlations, pearson, ranked_units, varying_labels
from lstm_core.learned.charmodel import TextStates
from lstm_core.learned.labels import label_text


@dataclass(frozen=True)
class CellRow:
    """One unit's correlations with one label."""

    label: str
    rank: int  # 1 = the label's best unit by |r(C, label)|
    unit: int
    r_c: float  # r(C[unit], label)
    r_h: float  # r(h[unit], label)
    # r(C[unit], label) where in_string is 0: None if the label does not vary there (in_string
    # itself) or every character is in a string; 0.0 if C[unit] does not vary there
    r_c_outside_strings: float | None


def cell_table(states: TextStates, top: int = 3) -> list[CellRow]:
    """The `top` units of each label (LABEL_NAMES order) by |r(C, label)| over the text that
    `states` (a TextRun, or text_states' lighter result) were read on; a label with one value
    over the whole text has no rows (no unit can follow it)."""
    rows: list[CellRow] = []
    c, h = states.c, states.h  # (T, L·H) each
    labels = label_text(states.text)
    varying = varying_labels(labels)
    outside = labels["in_string"] == 0  # (T,) bool
    varying_outside = varying_labels({name: values[outside] for name, values in varying.items()})
    for name, (r_c, r_h) in correlations(c, h, varying).items():
        units = ranked_units(r_c, top)
        r_outside = (
            pearson(c[:, units][outside], varying_outside[name])  # (len(units),)
            if name in varying_outside
            else None
        )
        for rank, unit in enumerate(units, start=1):
            rows.append(
                CellRow(
                    name,
                    rank,
                    unit,
                    float(r_c[unit]),
                    float(r_h[unit]),
                    None if r_outside is None else float(r_outside[rank - 1]),
                )
            )
    return rows


def best_units(rows: list[CellRow]) -> dict[str, int]:
    """Each label's rank-1 unit."""
    return {row.label: row.unit for row in rows if row.rank == 1}
