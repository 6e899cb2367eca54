"""The code model's character labels against snippets labelled by hand."""

from __future__ import annotations

import pytest

from lstm_core.learned.corpus import read_source, stdlib_files
from lstm_core.learned.labels import (
    LABEL_NAMES,
    label_text,
    label_title,
    opening_label,
    scan_labels,
)


def _row(labels: dict, name: str) -> list[int]:
    return [int(value) for value in labels[name].tolist()]


def _marks(text: str, marked: str) -> list[int]:
    """1 under every "^" of `marked` (a line drawn under `text`), 0 elsewhere."""
    return [1 if k < len(marked) and marked[k] == "^" else 0 for k in range(len(text))]


def test_every_label_has_one_value_per_character() -> None:
    text = "a = (1, 2)\n"
    labels = label_text(text)
    assert tuple(labels) == LABEL_NAMES
    assert all(values.shape == (len(text),) for values in labels.values())


def test_a_string_is_open_from_its_quote_to_the_character_before_the_closing_one() -> None:
    text = "x = \"a(b\" + rb'c'\n"
    marked = "    ^^^^    ^^^^  "
    assert _row(label_text(text), "in_string") == _marks(text, marked)


def test_a_triple_quoted_string_runs_over_lines() -> None:
    text = 's = """q\n(x"""\ny = 1\n'
    marked = "    ^^^^^^^^^        "
    assert _row(label_text(text), "in_string") == _marks(text, marked)


def test_a_comment_runs_to_its_line_end_without_the_newline() -> None:
    text = "a = 1  # b (c\nd = 2\n"
    marked = "       ^^^^^^       "
    assert _row(label_text(text), "in_comment") == _marks(text, marked)


def test_bracket_depth_counts_open_brackets_after_each_character() -> None:
    text = "f(a[1], {2})\n"
    assert _row(label_text(text), "bracket_depth") == [0, 1, 1, 2, 2, 1, 1, 1, 2, 2, 1, 0, 0]


def test_brackets_in_strings_and_comments_are_not_counted() -> None:
    text = 'g("(", 1)  # ((\n'
    depth = _row(label_text(text), "bracket_depth")
    assert max(depth) == 1
    assert depth[-1] == 0


def test_an_f_string_is_one_string_whatever_the_python() -> None:
    # Python 3.12+ tokenizes f-strings into parts (PEP 701); the labels read them as 3.11 does.
    text = 'x = f"a{b[1]}{c(d)}" + (1)\n'
    labels = label_text(text)
    closing = text.index('" +')
    assert _row(labels, "in_string") == [
        1 if text.index('f"') <= k < closing else 0 for k in range(len(text))
    ]
    depth = _row(labels, "bracket_depth")
    assert max(depth[:closing]) == 0 and depth[text.index("(1)")] == 1


def test_column_counts_characters_since_the_newline() -> None:
    text = "ab\n  c\n"
    assert _row(label_text(text), "column") == [1, 2, 0, 1, 2, 3, 0]


def test_indentation_is_the_lines_leading_width() -> None:
    text = "if x:\n    y = 1\nz\n"
    expected = [0] * 6 + [4] * 10 + [0] * 2
    assert _row(label_text(text), "indentation") == expected


def test_text_tokenize_cannot_read_is_labelled_by_the_scanner() -> None:
    text = 'f(x, "open string\n'  # an unclosed string: tokenize gives up
    labels = label_text(text)
    assert _row(labels, "in_string") == _marks(text, "     ^^^^^^^^^^^^ ")
    assert _row(labels, "bracket_depth") == [0] + [1] * (len(text) - 1)


@pytest.mark.parametrize("index", [3, 40, 120, 300])
def test_the_scanner_agrees_with_tokenize_on_library_source(index: int) -> None:
    files = stdlib_files()
    text = read_source(files[index % len(files)])[:20_000]
    tokenized, scanned = label_text(text), scan_labels(text)
    for name in LABEL_NAMES:
        agreement = (tokenized[name] == scanned[name]).float().mean().item()
        assert agreement > 0.97, name


def test_a_view_opens_on_the_clearest_of_the_quote_depth_and_column_cells() -> None:
    best_r = {"indentation": 0.9, "column": -0.88, "bracket_depth": -0.79, "in_string": 0.69}
    assert opening_label(best_r) == "column"  # indentation is clearer, but not one of the three
    assert opening_label({"stored_value": -0.97, "current_input": 0.99}) == "current_input"
    with pytest.raises(ValueError, match="no labels"):
        opening_label({})
    assert label_title("bracket_depth") == "bracket depth"
    assert label_title("stored_value") == "stored value"
