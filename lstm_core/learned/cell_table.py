"""The cell finder's table for a text model: the top units of each label, r of C and of h."""

from __future__ import annotations

from dataclasses import dataclass

from lstm_core.analysis.cell_finder import correlations, ranked_units, varying_labels
from lstm_core.learned.charmodel import TextRun
from lstm_core.learned.labels import label_text


@dataclass(frozen=True)
class CellRow:
    """One unit's correlations with one label."""

    label: str
    rank: int  # 1 = the label's best unit by |r(C, label)|
    unit: int
    r_c: float  # r(C[unit], label)
    r_h: float  # r(h[unit], label)


def cell_table(run: TextRun, top: int = 3) -> list[CellRow]:
    """The `top` units of each label (LABEL_NAMES order) by |r(C, label)| on the run's text;
    a label with one value over the whole text has no rows (no unit can follow it)."""
    rows: list[CellRow] = []
    varying = varying_labels(label_text(run.text))
    for name, (r_c, r_h) in correlations(run.c, run.h, varying).items():
        for rank, unit in enumerate(ranked_units(r_c, top), start=1):
            rows.append(CellRow(name, rank, unit, float(r_c[unit]), float(r_h[unit])))
    return rows


def best_units(rows: list[CellRow]) -> dict[str, int]:
    """Each label's rank-1 unit."""
    return {row.label: row.unit for row in rows if row.rank == 1}
