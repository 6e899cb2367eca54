"""In a real browser: upload a bidirectional projected checkpoint, see both directions drawn."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from playwright.sync_api import Browser, Page
from safetensors.torch import save
from torch import nn

from lstm_core.model.source import ModelSource, rank_cells, run_source, sha256

from .support import (
    CHART_TIMEOUT_MS,
    PageErrors,
    StreamlitServer,
    choose_option,
    open_app,
    screenshot,
    wait_for_url_query,
    wait_until_idle,
)

# The h panel's lines of the page's first chart as plotly.js drew them: (name, values).
DRAWN_H_LINES = """() => {
    const gd = document.querySelectorAll('.js-plotly-plot')[0];
    return gd._fullData
        .filter(t => (t.xaxis || 'x') === 'x')
        .map(t => [String(t.name), Array.from(t.y, Number)]);
}"""
SEQ_LEN = 100  # the sidebar's default steps: the seeded noise the file's LSTM reads


def _checkpoint() -> bytes:
    torch.manual_seed(11)
    lstm = nn.LSTM(4, 6, num_layers=2, bidirectional=True, proj_size=3, batch_first=True)
    return save(lstm.state_dict())


def _load_checkpoint(page: Page, data: bytes) -> None:
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Your checkpoint", exact=True).click()
    wait_until_idle(page)
    uploader = page.locator('[data-testid="stFileUploader"]').filter(has_text="Checkpoint")
    uploader.locator('input[type="file"]').set_input_files(
        files=[{"name": "bi.safetensors", "mimeType": "application/octet-stream", "buffer": data}]
    )
    page.wait_for_function(
        # Optional chaining: while the page redraws, a chart's div may not exist yet or not be
        # plotted yet, and a predicate that throws ends the wait at once instead of retrying.
        """() => [...document.querySelectorAll('.js-plotly-plot')].some(
            gd => (gd?._fullLayout?.title?.text || '').includes('forward direction'))""",
        timeout=CHART_TIMEOUT_MS,
    )
    wait_until_idle(page)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_an_uploaded_bidirectional_projected_checkpoint_draws_both_directions(
    browser: Browser,
    browser_context_args: dict[str, Any],
    streamlit_server: StreamlitServer,
    scheme: str,
) -> None:
    data = _checkpoint()
    run = run_source(
        ModelSource(kind="file", file_sha256=sha256(data), seq_len=SEQ_LEN, batch_size=1), data
    )
    context = browser.new_context(**browser_context_args, color_scheme=scheme)
    try:
        page = context.new_page()
        errors = PageErrors().attach(page)
        open_app(page, streamlit_server)
        _load_checkpoint(page, data)
        for direction in (0, 1):
            if direction:
                choose_option(page, "direction", "1: reverse")
                page.wait_for_function(
                    """() => (document.querySelectorAll('.js-plotly-plot')[0]?._fullLayout
                        ?.title?.text || '').includes('reverse direction')""",
                    timeout=CHART_TIMEOUT_MS,
                )
            drawn = dict(page.evaluate(DRAWN_H_LINES))
            assert set(drawn) == {f"h unit {u}" for u in range(3)}
            for unit in range(3):
                expected = run.trace.h[0, direction, 0, :, unit].numpy()
                np.testing.assert_allclose(drawn[f"h unit {unit}"], expected, atol=1e-5)
        screenshot(page, f"checkpoint_explorer_{scheme}")
        page.locator('[data-testid="stSidebarNav"]').get_by_text("Tensor shapes").click()
        page.get_by_text("Bidirectional").first.wait_for(timeout=CHART_TIMEOUT_MS)
        wait_until_idle(page)
        table = page.locator('[data-testid="stTable"]').inner_text()
        assert "weight_hr_l1_reverse" in table and "(4, 1, 3)" in table  # h_n: (D·L, B, P)
        screenshot(page, f"checkpoint_shapes_{scheme}")
        assert not errors.all(), errors.all()
    finally:
        context.close()


def test_the_learned_counter_button_draws_the_depth_unit(
    page: Page, streamlit_server: StreamlitServer, page_errors: PageErrors
) -> None:
    run = run_source(ModelSource(kind="brackets", batch_size=1))
    unit = rank_cells(ModelSource(kind="brackets")).cells["depth"].unit
    open_app(page, streamlit_server)
    page.get_by_role("button", name="Learned counter (brackets)").click()
    page.get_by_text("r(C, depth)").first.wait_for(timeout=CHART_TIMEOUT_MS)
    wait_until_idle(page)
    wait_for_url_query(page, "model=brackets")
    drawn = page.evaluate(
        """() => document.querySelectorAll('.js-plotly-plot')[0]._fullData
            .filter(t => t.xaxis === 'x2').map(t => Array.from(t.y, Number))"""
    )
    np.testing.assert_allclose(drawn[0], run.trace.c[0, 0, 0, :, unit].numpy(), atol=1e-6)
    screenshot(page, "learned_counter_explorer")
    assert not page_errors.all(), page_errors.all()


def test_a_link_to_the_code_model_follows_the_label_picked(
    page: Page, streamlit_server: StreamlitServer, page_errors: PageErrors
) -> None:
    run = run_source(ModelSource(kind="code"))
    match = rank_cells(ModelSource(kind="code")).cells["bracket_depth"]
    layer, unit = divmod(match.unit, run.trace.hidden_size)
    open_app(page, streamlit_server, "?model=code")
    choose_option(page, "label", f"bracket depth (best unit's r(C) {match.r_c:+.2f})")
    page.get_by_text(f"unit {unit} of layer {layer}'s C").first.wait_for(timeout=CHART_TIMEOUT_MS)
    wait_until_idle(page)
    wait_for_url_query(page, "model=code")
    # The label figure as plotly.js drew it: the depth, each character named, and that unit's C.
    drawn = page.evaluate(
        """() => document.querySelectorAll('.js-plotly-plot')[1]._fullData.map(t => ({
            name: t.name, y: Array.from(t.y, Number), customdata: t.customdata || null}))"""
    )
    label_line = drawn[0]
    c_line = next(line for line in drawn if line["name"].startswith("C "))
    np.testing.assert_array_equal(label_line["y"], run.labels["bracket_depth"][0].numpy())
    np.testing.assert_allclose(c_line["y"], run.trace.c[layer, 0, 0, :, unit].numpy(), atol=1e-6)
    assert label_line["customdata"][:3] == [f"'{char}'" for char in run.text[:3]]
    screenshot(page, "code_model_explorer")
    assert not page_errors.all(), page_errors.all()
