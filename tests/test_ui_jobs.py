"""ui.jobs: a training's expected duration in round words."""

from __future__ import annotations

from ui.jobs import duration_text


def test_durations_are_given_in_round_words() -> None:
    assert duration_text(2) == "a few seconds"
    assert duration_text(41) == "about 40 s"
    assert duration_text(89) == "about 1 min 30 s"
    assert duration_text(61) == "about 1 min"
    assert duration_text(118) == "about 2 min"
