"""ui.equations: one unit's update written out with its numbers."""

from __future__ import annotations

from lstm_core.model.cell import WORKED_EXAMPLE, cell_update
from ui.equations import term, update_latex


def test_terms_put_negatives_in_brackets() -> None:
    assert (term(0.25), term(-0.1, 3)) == ("0.2500", "(-0.100)")


def test_the_worked_examples_second_unit_reads_as_computed() -> None:
    # f 0.2 keeps nothing of C 0 and i 0.4 writes g -0.1: C_t = -0.04; o 0.3 shows tanh of it.
    cell, hidden = update_latex(cell_update(**WORKED_EXAMPLE), 1, given_digits=3)
    assert cell == (
        r"C_t = f_t \odot C_{t-1} + i_t \odot g_t = 0.200 \times 0.000 + 0.400 \times (-0.100)"
        r" = 0.0000 + (-0.0400) = -0.0400"
    )
    assert hidden == (
        r"h_t = o_t \odot \tanh(C_t) = 0.300 \times \tanh(-0.0400) = 0.300 \times (-0.0400)"
        r" = -0.0120"
    )
