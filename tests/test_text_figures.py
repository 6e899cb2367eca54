"""The text strip: one cell per character, laid out as the text's lines, hover with the gates."""

from __future__ import annotations

import pytest
import torch

from lstm_core.figures.colors import DIVERGING_COLORSCALE
from lstm_core.figures.text import CONTINUED, WRAP_COLUMNS, text_around, text_state_figure

TEXT = "ab(\n  'c'\n"


def _cells(figure) -> list[tuple[int, int, float, str]]:
    trace = figure.data[0]
    return [
        (row, column, value, trace.text[row][column])
        for row, values in enumerate(trace.z)
        for column, value in enumerate(values)
        if value is not None
    ]


def test_each_character_is_a_cell_on_its_own_line_with_its_value() -> None:
    values = torch.arange(len(TEXT), dtype=torch.float32) / 10
    figure = text_state_figure(TEXT, values, state="c", unit=3)
    cells = _cells(figure)
    assert len(cells) == len(TEXT)
    assert [(row, column) for row, column, _, _ in cells] == [
        (0, 0), (0, 1), (0, 2), (0, 3),
        (1, 0), (1, 1), (1, 2), (1, 3), (1, 4), (1, 5),
    ]  # fmt: skip
    assert [value for *_, value, _ in cells] == pytest.approx(values.tolist())
    assert [shown for *_, shown in cells] == ["a", "b", "(", "↵", " ", " ", "'", "c", "'", "↵"]


def test_the_colour_scale_is_the_apps_diverging_one_centred_on_zero() -> None:
    figure = text_state_figure(TEXT, [-2.0] + [0.5] * (len(TEXT) - 1), state="c", unit=0)
    trace = figure.data[0]
    assert [list(stop) for stop in trace.colorscale] == DIVERGING_COLORSCALE
    assert (trace.zmin, trace.zmid, trace.zmax) == (-2.0, 0.0, 2.0)
    assert (trace.colorbar.title.text, trace.colorbar.title.side) == ("C<sub>t</sub>[0]", "right")


def test_the_title_names_the_unit_as_the_caller_asks() -> None:
    plain = text_state_figure(TEXT, [0.1] * len(TEXT), state="c", unit=5)
    named = text_state_figure(
        TEXT, [0.1] * len(TEXT), state="c", unit=5, unit_title="unit 5 (layer 1, its unit 1)"
    )
    assert plain.layout.title.text == "unit 5: C<sub>t</sub> after each character"
    assert (
        named.layout.title.text
        == "unit 5 (layer 1, its unit 1): C<sub>t</sub> after each character"
    )


def test_h_keeps_its_whole_range_on_the_colour_bar() -> None:
    figure = text_state_figure(TEXT, [0.1] * len(TEXT), state="h", unit=1)
    assert (figure.data[0].zmin, figure.data[0].zmax) == (-1.0, 1.0)


def test_the_hover_gives_the_value_and_the_four_gates() -> None:
    gates = {name: [0.25] * len(TEXT) for name in "ifgo"}
    figure = text_state_figure(TEXT, [0.5] * len(TEXT), state="h", unit=7, gates=gates)
    hover = figure.data[0].hovertext[1][3]
    assert "'c'" in hover and "line 2, col 4 (text[" in hover
    assert "h<sub>t</sub>[7] = +0.5000" in hover
    assert all(f"{name} 0.250" in hover for name in "ifgo")


def test_a_long_line_wraps_onto_the_next_row_after_a_marker() -> None:
    text = "a\n" + "x" * (WRAP_COLUMNS + 5)
    figure = text_state_figure(text, [0.0] * len(text), state="c", unit=0)
    cells = _cells(figure)
    assert len(cells) == len(text)
    assert max(column for _, column, _, _ in cells) == WRAP_COLUMNS - 1
    assert [column for row, column, *_ in cells if row == 2] == [1, 2, 3, 4, 5]
    trace = figure.data[0]
    assert (trace.z[2][0], trace.text[2][0]) == (None, "")
    markers = [(note.x, note.y, note.text) for note in figure.layout.annotations]
    assert markers == [(0, 2, CONTINUED)]
    assert trace.hovertext[2][0] == "line 2 continues"
    assert "line 2, col 101 (text[102])" in trace.hovertext[2][1]


@pytest.mark.parametrize(
    ("text", "values", "kwargs", "message"),
    [
        ("", [], {"state": "c"}, "empty"),
        ("ab", [0.0], {"state": "c"}, "one value per character"),
        ("ab", [0.0, float("nan")], {"state": "c"}, "non-finite"),
        ("ab", [0.0, 1.0], {"state": "x"}, "'c' or 'h'"),
        ("ab", [0.0, 1.0], {"state": "c", "gates": {"i": [0, 0]}}, "gates must be"),
    ],
)
def test_bad_inputs_are_refused_with_a_reason(text, values, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        text_state_figure(text, values, unit=0, **kwargs)


def test_text_around_puts_a_caret_under_the_character_and_shows_newlines_as_the_strips_do() -> None:
    text = "def f(x):\n    return x + 1\n"
    assert text_around(text, 21, before=7, after=3) == "return x + \n       ^"
    assert text_around(text, 0, before=5, after=100) == "def f(x):↵    return x + 1↵\n^"
    assert text_around(text, 9, before=1, after=0) == ":↵\n ^"
    with pytest.raises(ValueError, match=r"index must be in 0\.\.26"):
        text_around(text, 27)
