"""The Gate playground's plain-words reading of an update (pages/playground.py), in the page."""

from __future__ import annotations

from conftest import APP, APPTEST_TIMEOUT
from streamlit.testing.v1 import AppTest


def reading(**gates: float) -> str:
    """The page's sentence for unit 0 with its gates set to `gates`."""
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.switch_page("pages/playground.py")
    at.run()
    for name, value in gates.items():
        at.session_state[f"playground_{name}_0"] = value
    at.run()
    assert not at.exception, at.exception
    return next(m.value for m in at.markdown if m.value.startswith("**Unit 0.**"))


def test_the_reading_names_what_the_update_did() -> None:
    # The worked example's unit 0: keeps 80 % of C 0.3, writes 0.6 × 0.7, shows 90 % of tanh.
    text = reading()
    assert "forgets 20%" in text and "writes +0.42" in text and "shows 90%" in text
    text = reading(c_prev=1.0, f=0.99, i=0.0, o=0.0)
    assert "keeps almost all" in text and "writes almost nothing" in text
    assert "keeps C_t = 0.99 hidden" in text
    assert "wipes almost all" in reading(f=0.05)
