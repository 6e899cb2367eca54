"""What each character of Python source is: the quantities a character-level LSTM may learn.

Every label is one number per character, the state of the text *after* reading that character
(what a model that has read it could know):

- ``in_string``: 1 from a string's opening quote (its prefix too, ``f"``, ``rb'``) up to the
  character before its closing quote; the closing quote itself is 0 (the string is closed).
- ``in_comment``: 1 on the characters of a ``#`` comment (not its line's newline).
- ``bracket_depth``: brackets ``( [ {`` open after this character, brackets in strings and
  comments not counted.
- ``column``: characters since the last newline, this one included; 0 on the newline itself,
  so the count restarts there.
- ``indentation``: the width of the leading whitespace of the line this character is on
  (a tab counts 1).

Strings, comments and brackets come from the standard ``tokenize`` module. Text it cannot
tokenize (a pasted fragment, an unclosed string) is labelled by `scan_labels`, a small scanner
of Python's string, comment and bracket rules.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Mapping

import torch

LABEL_NAMES: tuple[str, ...] = (
    "in_string",
    "in_comment",
    "bracket_depth",
    "column",
    "indentation",
)
# The cells Karpathy, Johnson & Fei-Fei (2015) found in character LSTMs: quotes, bracket depth
# and the position in the line. The text view opens on the clearest of them.
KARPATHY_LABELS: tuple[str, ...] = ("in_string", "bracket_depth", "column")
# How each label reads in the app.
LABEL_TITLES: dict[str, str] = {
    "in_string": "inside a string",
    "in_comment": "inside a comment",
    "bracket_depth": "bracket depth",
    "column": "column in the line",
    "indentation": "indentation of the line",
}


def label_title(name: str) -> str:
    """How a page names label `name`: its LABEL_TITLES entry, or the name in words (a task's
    label: "depth", "stored value")."""
    return LABEL_TITLES.get(name, name.replace("_", " "))


def opening_label(best_r: Mapping[str, float]) -> str:
    """The label a view opens on, from each label's best r: the clearest of KARPATHY_LABELS
    (by |r|), or of all labels when none of those is there."""
    if not best_r:
        raise ValueError("no labels to open on")
    found = [name for name in best_r if name in KARPATHY_LABELS] or list(best_r)
    return max(found, key=lambda name: abs(best_r[name]))


OPENERS = "([{"
CLOSERS = ")]}"
# A string literal's prefix and opening quote, as the scanner meets them.
_STRING_START = re.compile(r"(?i:rb|br|fr|rf|r|b|f|u)?('''|\"\"\"|'|\")")


def _lines(text: str) -> list[str]:
    """The lines of `text`, each with its newline: split at "\\n" only, as tokenize reads."""
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def _line_offsets(text: str) -> list[int]:
    """Offset of the first character of each line (1-based rows, as tokenize counts)."""
    offsets = [0, 0]
    for line in _lines(text):
        offsets.append(offsets[-1] + len(line))
    return offsets


def _column_and_indentation(text: str) -> tuple[list[int], list[int]]:
    """Per character: characters since the last newline (0 on it), and its line's indent."""
    column = [0] * len(text)
    indentation = [0] * len(text)
    start = 0
    for line in _lines(text):
        indent = len(line) - len(line.lstrip(" \t"))
        for k, char in enumerate(line):
            column[start + k] = 0 if char == "\n" else k + 1
            indentation[start + k] = indent
        start += len(line)
    return column, indentation


def _token_types(*names: str) -> frozenset[int]:
    """The tokenize token types of these names that this Python has."""
    return frozenset(getattr(tokenize, name) for name in names if hasattr(tokenize, name))


def _spans_from_tokens(text: str) -> tuple[list[int], list[int], list[int]]:
    """in_string, in_comment and bracket-depth changes per character, from tokenize.

    Raises tokenize.TokenError or SyntaxError (IndentationError) on text it cannot read.
    """
    offsets = _line_offsets(text)
    n = len(text)
    in_string = [0] * n
    in_comment = [0] * n
    depth_change = [0] * n
    # From Python 3.12 an f-string (3.14: also a t-string) comes as several tokens, start,
    # parts and end (PEP 701); up to 3.11 it is one STRING token. Read either way, the whole
    # f-string is one string, brackets in its replacement fields included, so the labels do
    # not depend on the interpreter.
    opening_types = _token_types("FSTRING_START", "TSTRING_START")
    closing_types = _token_types("FSTRING_END", "TSTRING_END")
    nested = 0  # how deep inside f-strings the token is
    string_start = 0
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        start = offsets[token.start[0]] + token.start[1]
        end = offsets[token.end[0]] + token.end[1]
        if token.type in opening_types:
            if nested == 0:
                string_start = start
            nested += 1
        elif token.type in closing_types:
            nested -= 1
            if nested == 0:
                in_string[string_start : end - 1] = [1] * (end - 1 - string_start)
        elif nested:
            continue
        elif token.type == tokenize.STRING:
            in_string[start : end - 1] = [1] * (end - 1 - start)
        elif token.type == tokenize.COMMENT:
            in_comment[start:end] = [1] * (end - start)
        elif token.type == tokenize.OP and token.string in OPENERS:
            depth_change[start] = 1
        elif token.type == tokenize.OP and token.string in CLOSERS:
            depth_change[start] = -1
    return in_string, in_comment, depth_change


def _spans_from_scan(text: str) -> tuple[list[int], list[int], list[int]]:
    """The same three lists as `_spans_from_tokens`, by a scan that never fails.

    Strings: a prefix and quote open one, a backslash escapes the next character, a single
    quoted string also ends at its line's end; comments run from ``#`` to the newline.
    """
    n = len(text)
    in_string = [0] * n
    in_comment = [0] * n
    depth_change = [0] * n
    k = 0
    while k < n:
        char = text[k]
        previous = text[k - 1] if k > 0 else " "
        opening = None
        if not (previous.isalnum() or previous == "_"):
            opening = _STRING_START.match(text, k)
        if opening is not None:
            quote = opening.group(1)
            j = opening.end()
            while j < n:
                if text[j] == "\\":
                    j += 2
                    continue
                if text.startswith(quote, j):
                    j += len(quote)
                    break
                if len(quote) == 1 and text[j] == "\n":
                    break
                j += 1
            end = min(j, n)
            closed = text[end - 1 : end] == quote[-1] and end - len(quote) >= opening.end()
            last = end - 1 if closed else end
            in_string[k:last] = [1] * (last - k)
            k = end
            continue
        if char == "#":
            j = text.find("\n", k)
            j = n if j < 0 else j
            in_comment[k:j] = [1] * (j - k)
            k = j
            continue
        if char in OPENERS:
            depth_change[k] = 1
        elif char in CLOSERS:
            depth_change[k] = -1
        k += 1
    return in_string, in_comment, depth_change


def label_text(text: str) -> dict[str, torch.Tensor]:
    """Every label of LABEL_NAMES for every character of `text`: {name: (len(text),) float32}.

    Uses tokenize, or `scan_labels`'s scanner when tokenize cannot read the text. Bracket depth
    never goes below 0 (a stray closer in a fragment is ignored).
    """
    try:
        in_string, in_comment, depth_change = _spans_from_tokens(text)
    except (tokenize.TokenError, SyntaxError):
        in_string, in_comment, depth_change = _spans_from_scan(text)
    return _assemble(text, in_string, in_comment, depth_change)


def scan_labels(text: str) -> dict[str, torch.Tensor]:
    """The labels by the scanner alone (no tokenize): {name: (len(text),) float32}."""
    return _assemble(text, *_spans_from_scan(text))


def _assemble(
    text: str, in_string: list[int], in_comment: list[int], depth_change: list[int]
) -> dict[str, torch.Tensor]:
    depth = [0] * len(text)
    level = 0
    for k, change in enumerate(depth_change):
        level = max(0, level + change)
        depth[k] = level
    column, indentation = _column_and_indentation(text)
    values = {
        "in_string": in_string,
        "in_comment": in_comment,
        "bracket_depth": depth,
        "column": column,
        "indentation": indentation,
    }
    return {name: torch.tensor(values[name], dtype=torch.float32) for name in LABEL_NAMES}
