"""ui.entry: the objects alive after the app's start are left out of garbage collection, so the
collection Streamlit runs after every script run walks only what later runs create; once per
process, so objects made after the start stay collectable."""

from __future__ import annotations

import gc

import torch
from conftest import APP, APPTEST_TIMEOUT
from streamlit.testing.v1 import AppTest


def _walked(thing: object) -> bool:
    """Whether a garbage collection would examine `thing` (frozen objects are not listed)."""
    return any(candidate is thing for candidate in gc.get_objects())


def test_startup_objects_are_left_out_and_later_objects_stay_collectable() -> None:
    AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT).run()
    startup_object = vars(torch.nn)  # a module namespace, alive since the imports
    assert gc.is_tracked(startup_object) and not _walked(startup_object)
    made_later: list[object] = [object()]
    assert _walked(made_later)
    AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT).run()  # a second session's start
    assert _walked(made_later)  # not frozen again: later objects stay collectable
