"""Text coloured by one unit's state: a character per cell, laid out as the text's own lines.

Like Karpathy et al. 2015's figures and LSTMVis: every character is a cell of a heatmap whose
colour is the unit's C_t (or h_t) after reading it; the hover gives the value and the unit's
gates at that character. A newline is drawn as "↵" at its line's end, a tab as "→", so every
character's state is visible. Lines longer than WRAP_COLUMNS continue on the next row, after
a "↪" (CONTINUED).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import plotly.graph_objects as go
import torch

from lstm_core.figures.colors import DIVERGING_COLORSCALE, NEUTRAL_COLOR
from lstm_core.learned.charmodel import SHOWN
from lstm_core.model.simulate import GATE_NAMES

WRAP_COLUMNS = 100  # a longer source line continues on the next row
CELL_PX = (9, 19)  # (width, height) of one character's cell on screen
CONTINUED = "↪"  # first cell of a row that carries on the line above (no state of its own)
STATE_NAMES = {"c": "C<sub>t</sub>", "h": "h<sub>t</sub>"}


@dataclass(frozen=True)
class _Grid:
    """Where each character goes: rows of cells, and each character's (row, column)."""

    rows: int
    columns: int
    positions: list[tuple[int, int]]
    lines: list[int]  # the source line (1-based) of each character
    line_columns: list[int]  # the column in its source line (1-based) of each character
    continued: list[tuple[int, int]]  # (row, source line) of each row carrying on a long line


def _grid(text: str) -> _Grid:
    positions: list[tuple[int, int]] = []
    lines: list[int] = []
    line_columns: list[int] = []
    continued: list[tuple[int, int]] = []
    row, column, line, line_column = 0, 0, 1, 1
    for char in text:
        if column == WRAP_COLUMNS:
            # The continuation starts one cell in, after CONTINUED, so it does not read as
            # a new line at column 1.
            row, column = row + 1, 1
            continued.append((row, line))
        positions.append((row, column))
        lines.append(line)
        line_columns.append(line_column)
        if char == "\n":
            row, column, line, line_column = row + 1, 0, line + 1, 1
        else:
            column += 1
            line_column += 1
    used_rows = max(r for r, _ in positions) + 1
    used_columns = max(c for _, c in positions) + 1
    return _Grid(used_rows, used_columns, positions, lines, line_columns, continued)


def text_around(text: str, index: int, before: int = 40, after: int = 20) -> str:
    """Character `index` of `text` in its surroundings, as two lines for a monospace block: the
    text around it (up to `before` characters before it and `after` after; a newline and a tab
    shown as the strips show them), and a caret under it. Nothing marks where the text goes
    on: a mark of another width would move the caret in some fonts."""
    if not 0 <= index < len(text):
        raise ValueError(f"index must be in 0..{len(text) - 1}, got {index}")

    def shown(piece: str) -> str:
        return "".join(SHOWN.get(char, char) for char in piece)

    start = max(0, index - before)
    lead = shown(text[start:index])
    line = lead + shown(text[index]) + shown(text[index + 1 : index + 1 + after])
    return line + "\n" + " " * len(lead) + "^"


def _values_list(values: torch.Tensor | Sequence[float], length: int, name: str) -> list[float]:
    tensor = torch.as_tensor(values, dtype=torch.float64)
    if tensor.ndim != 1 or tensor.shape[0] != length:
        raise ValueError(
            f"{name} must hold one value per character ({length}), got {tuple(tensor.shape)}"
        )
    if not torch.isfinite(tensor).all():
        raise ValueError(f"{name} holds non-finite values")
    return tensor.tolist()


def text_state_figure(
    text: str,
    values: torch.Tensor | Sequence[float],
    *,
    state: str,
    unit: int,
    gates: Mapping[str, torch.Tensor | Sequence[float]] | None = None,
    unit_title: str | None = None,
) -> go.Figure:
    """`text` with each character coloured by `values` (T,) (unit `unit`'s C_t or h_t).

    `state` is "c" or "h"; `gates` ({"i", "f", "g", "o"} -> (T,)), if given, go in the hover;
    `unit_title` names the unit in the title (default "unit {unit}"; a stacked model's page
    passes the unit's layer too).
    The colour scale is the app's diverging one, symmetric about 0 (zero is white), its range
    the largest |value| (at least 1 for h, whose range is [-1, 1]).
    """
    if not text:
        raise ValueError("the text is empty")
    if state not in STATE_NAMES:
        raise ValueError(f"state must be 'c' or 'h', got {state!r}")
    numbers = _values_list(values, len(text), "values")
    gate_numbers: dict[str, list[float]] = {}
    if gates is not None:
        if set(gates) != set(GATE_NAMES):
            raise ValueError(f"gates must be {GATE_NAMES}, got {tuple(gates)}")
        gate_numbers = {name: _values_list(gates[name], len(text), name) for name in GATE_NAMES}
    grid = _grid(text)
    z: list[list[float | None]] = [[None] * grid.columns for _ in range(grid.rows)]
    shown: list[list[str]] = [[""] * grid.columns for _ in range(grid.rows)]
    hover: list[list[str]] = [[""] * grid.columns for _ in range(grid.rows)]
    label = STATE_NAMES[state]
    for k, (char, (row, column)) in enumerate(zip(text, grid.positions, strict=True)):
        z[row][column] = numbers[k]
        shown[row][column] = SHOWN.get(char, char)
        gate_text = "  ".join(f"{name} {gate_numbers[name][k]:.3f}" for name in gate_numbers)
        hover[row][column] = (
            f"{char!r} line {grid.lines[k]}, col {grid.line_columns[k]} (text[{k}])<br>"
            f"{label}[{unit}] = {numbers[k]:+.4f}" + (f"<br>{gate_text}" if gate_text else "")
        )
    for row, line in grid.continued:
        hover[row][0] = f"line {line} continues"
    bound = max(abs(value) for value in numbers)
    bound = max(bound, 1.0) if state == "h" else max(bound, 1e-6)
    figure = go.Figure(
        go.Heatmap(
            z=z,
            text=shown,
            texttemplate="%{text}",
            # No font colour: plotly picks dark or light ink per cell for contrast.
            textfont={"family": "monospace", "size": 13},
            hovertext=hover,
            hovertemplate="%{hovertext}<extra></extra>",
            colorscale=DIVERGING_COLORSCALE,
            zmin=-bound,
            zmax=bound,
            zmid=0.0,
            xgap=0,
            ygap=1,
            # The title beside the bar: above it, it met the top tick on a one-row strip.
            colorbar={"title": {"text": f"{label}[{unit}]", "side": "right"}, "thickness": 12},
        )
    )
    width_px, height_px = CELL_PX
    figure.update_layout(
        title={"text": f"{unit_title or f'unit {unit}'}: {label} after each character"},
        height=max(160, grid.rows * height_px + 90),
        width=max(420, grid.columns * width_px + 140),
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )
    # The marker is drawn over the empty cell in a grey of its own: the heatmap's automatic ink
    # for a cell without a value is pale on a dark page.
    for row, _ in grid.continued:
        figure.add_annotation(
            x=0,
            y=row,
            text=CONTINUED,
            showarrow=False,
            font={"size": 15, "color": NEUTRAL_COLOR},
        )
    figure.update_xaxes(visible=False, range=[-0.5, grid.columns - 0.5])
    figure.update_yaxes(visible=False, autorange="reversed")
    return figure
