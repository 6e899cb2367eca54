"""The cell update written out as LaTeX, the same on every page that writes one out."""

from __future__ import annotations

from lstm_core.model.cell import CellUpdate


def term(value: float, digits: int = 4) -> str:
    """A number as it reads after × or +, with `digits` decimals: negatives in brackets."""
    text = f"{value:.{digits}f}"
    return f"({text})" if value < 0 else text


def update_latex(update: CellUpdate, index: int, given_digits: int = 4) -> tuple[str, str]:
    """The update of the unit at `index` of `update`, with its numbers, as two LaTeX lines:
    C_t = f_t ⊙ C_{t-1} + i_t ⊙ g_t = ..., then h_t = o_t ⊙ tanh(C_t) = .... The gates and
    C_{t-1} get `given_digits` decimals (fewer where a person set them), what the update makes
    of them four."""
    f, i, g, o = update.f[index], update.i[index], update.g[index], update.o[index]
    c_prev, c = update.c_prev[index], update.c[index]
    cell = (
        rf"C_t = f_t \odot C_{{t-1}} + i_t \odot g_t = {f:.{given_digits}f} \times "
        rf"{term(c_prev, given_digits)} + {i:.{given_digits}f} \times {term(g, given_digits)}"
        rf" = {update.kept[index]:.4f} + {term(update.written[index])} = {c:.4f}"
    )
    hidden = (
        rf"h_t = o_t \odot \tanh(C_t) = {o:.{given_digits}f} \times \tanh({c:.4f}) = "
        rf"{o:.{given_digits}f} \times {term(update.tanh_c[index])} = {update.h[index]:.4f}"
    )
    return cell, hidden
