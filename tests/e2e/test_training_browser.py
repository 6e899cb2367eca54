"""Training in a real browser: the expected time before the click, progress from the first
step, another session's chart drawn meanwhile, and the stop button."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page

from lstm_core import RunConfig

from .support import (
    CHART_TIMEOUT_MS,
    NAV_LINKS,
    PageErrors,
    StreamlitServer,
    assert_page_draws_run,
    open_app,
    screenshot,
    wait_for_url_query,
)

pytestmark = pytest.mark.browser

# The adding problem's expected time (the task section below it has its own).
ADDING_EXPECTED = re.compile(r"^Expected training time: .* for both models")


def test_a_training_runs_beside_another_session_and_stops_on_request(
    page: Page, new_context, streamlit_server: StreamlitServer, page_errors: PageErrors
) -> None:
    open_app(page, streamlit_server)
    page.locator(NAV_LINKS).filter(has_text="Memory lab").click()
    page.get_by_text(ADDING_EXPECTED).wait_for(timeout=CHART_TIMEOUT_MS)
    steps = page.get_by_role("spinbutton", name="optimiser steps").first  # the adding problem's
    steps.fill("5000")  # long: it is stopped, never finished
    steps.press("Enter")
    page.get_by_text(ADDING_EXPECTED).wait_for(timeout=CHART_TIMEOUT_MS)
    page.get_by_role("button", name="Train LSTM and RNN").click()
    progress = page.get_by_text("Training the LSTM: step")
    progress.wait_for(timeout=CHART_TIMEOUT_MS)
    # Another session loads and draws its own run while the training goes on.
    context: BrowserContext = new_context()
    other = context.new_page()
    open_app(other, streamlit_server, "?seed=77&seq_len=12&hidden_dim=3")
    assert_page_draws_run(other, RunConfig(seed=77, seq_len=12, hidden_dim=3))
    assert progress.count() == 1  # still training
    # Only progress and the stop button while it trains: a second click on Train would have
    # no meaning, and the expected time is no longer ahead.
    assert page.get_by_role("button", name="Train LSTM and RNN").count() == 0
    assert page.get_by_text(ADDING_EXPECTED).count() == 0
    screenshot(page, "training_in_progress")
    page.get_by_role("button", name="Stop the training").click()
    page.get_by_text("Training stopped").wait_for(timeout=CHART_TIMEOUT_MS)
    # The message comes first in the page; the button is drawn after it in the same run.
    page.get_by_role("button", name="Train LSTM and RNN").wait_for(timeout=CHART_TIMEOUT_MS)
    # The stop button goes when that run ends (Streamlit clears a run's leftovers at its end).
    page.get_by_role("button", name="Stop the training").wait_for(
        state="detached", timeout=CHART_TIMEOUT_MS
    )
    assert not page_errors.all(), page_errors.all()


def test_a_counter_trained_here_opens_in_the_explorer(
    page: Page, streamlit_server: StreamlitServer, page_errors: PageErrors
) -> None:
    open_app(page, streamlit_server)
    page.locator(NAV_LINKS).filter(has_text="Memory lab").click()
    page.get_by_text("brackets: a counter").click()
    train = page.get_by_role("button", name="Train the brackets LSTM")
    shown = page.get_by_role("button", name="Show the trained model")  # trained by another test
    train.or_(shown).click()
    explorer = page.get_by_role("button", name=re.compile(r"^Open it in the Explorer \(unit"))
    explorer.wait_for(timeout=CHART_TIMEOUT_MS)
    assert page.get_by_text("it keeps the count").count() == 1
    explorer.click()
    page.get_by_text("The brackets task's model, trained in the app's Memory lab").wait_for(
        timeout=CHART_TIMEOUT_MS
    )
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=CHART_TIMEOUT_MS)
    wait_for_url_query(page, "model=brackets")
    # The sidebar says which weights run, and goes back to the shipped ones.
    page.get_by_text("shipped", exact=True).click()
    page.get_by_text("trained by `python -m lstm_core train --task brackets`").or_(
        page.get_by_text("trained by python -m lstm_core train --task brackets")
    ).wait_for(timeout=CHART_TIMEOUT_MS)
    screenshot(page, "counter_trained_here")
    assert not page_errors.all(), page_errors.all()
