"""Browser sessions at once, each drawing exactly the numbers of a lone run."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext

from lstm_core import RunConfig

from .support import (
    CHART_TIMEOUT_MS,
    DRAWN_H,
    StreamlitServer,
    assert_page_draws_run,
    screenshot,
    wait_until_idle,
)

pytestmark = pytest.mark.browser


# Browser sessions at once, each its own websocket session on one server, loading together.
# Five real browsers prove that the websocket sessions of a live server keep their numbers
# apart; twenty sessions at once are tests/test_sessions.py's AppTest threads, which cost a
# fraction of a Chromium page each (every page here parses Streamlit's and plotly's bundles).
SESSIONS = 5


def test_browser_sessions_at_once_draw_their_own_numbers(
    context: BrowserContext, new_context, streamlit_server: StreamlitServer
) -> None:
    # Small runs: the point is sessions side by side on one server, not their size.
    seeds = [500 + 31 * k for k in range(SESSIONS)]
    contexts = [context] + [new_context() for _ in range(SESSIONS - 1)]
    pages = [c.new_page() for c in contexts]
    # Start every load before waiting for any, so the server runs the sessions together.
    for page, seed in zip(pages, seeds, strict=True):
        page.goto(
            f"{streamlit_server.url}/?seed={seed}&seq_len=12&hidden_dim=3", wait_until="commit"
        )
    drawn_first_values = set()
    for page, seed in zip(pages, seeds, strict=True):
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=CHART_TIMEOUT_MS)
        wait_until_idle(page, timeout_ms=CHART_TIMEOUT_MS)
        assert_page_draws_run(page, RunConfig(seed=seed, seq_len=12, hidden_dim=3))
        drawn_first_values.add(str(page.evaluate(DRAWN_H)[0][2]))
        if page is not pages[-1]:
            page.close()  # frees the CPU for the pages still loading
    # Different seeds really drew different numbers (no page showed another session's run).
    assert len(drawn_first_values) == SESSIONS
    screenshot(pages[-1], "hardening_session_last")
