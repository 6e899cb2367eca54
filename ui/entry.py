"""Make every page run inside app.py, even when a deep link is a fresh server's first request.

Streamlit still knows the old multipage mode: while a folder named `pages/` sits beside the
entry script, a server's first session runs `/memory` as pages/memory.py on its own (no
sidebar, no page config) until app.py has once called st.navigation, which switches the whole
process over. A page that finds itself outside app.py switches the process over itself and
reruns; app.py then resolves the same URL to the same page.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import streamlit as st

APP_SCRIPT = str(Path(__file__).resolve().parents[1] / "app.py")
# AppTest's runner: `at.switch_page` runs a page alone on purpose (tests rely on it).
_APPTEST_RUNNER = str(Path("streamlit", "testing", "v1", "local_script_runner.py"))
_startup_objects_frozen = False


def running_inside_app() -> bool:
    """Whether app.py (or AppTest) is on the call stack: app.py runs pages via st.navigation."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename == APP_SCRIPT or filename.endswith(_APPTEST_RUNNER):
            return True
        frame = frame.f_back
    return False


def require_app() -> None:
    """Call first on every page: rerun through app.py when a page was started on its own."""
    if running_inside_app():
        return
    # Private, but the only switch there is: st.navigation itself sets it to False.
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def freeze_startup_objects() -> None:
    """Once per process: leave the objects alive after the imports out of garbage collection.

    Streamlit runs gc.collect(2) after every script run (runner.postScriptGC). With torch,
    plotly and pandas imported that walks every object they made, at every rerun, holding the
    GIL while the server still has the page's last messages to send and competing with the
    browser's redraw for the cores. Frozen (gc.freeze), the collection walks only what later
    runs create (README, Performance: A quiet server). What is frozen is never collected as cyclic
    garbage: the modules' own objects, alive as long as the process, and those of the first
    session, whose first run this is (kept if they end up in reference cycles: one session's
    state, once per process).
    """
    global _startup_objects_frozen
    if not _startup_objects_frozen:
        gc.collect()
        gc.freeze()
        _startup_objects_frozen = True
