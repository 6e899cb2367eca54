"""The cell update written out as LaTeX, the same on every page that writes one out."""

from __future__ import annotations


def term(value: float, digits: int = 4) -> str:
    """A number as it reads after × or +, with `digits` decimals: negatives in brackets."""
    text = f"{value:.{digits}f}"
    return f"({text})" if value < 0 else text
