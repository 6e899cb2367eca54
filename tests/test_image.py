"""lstm_core.io.image: real PNG/SVG/PDF bytes with the real colours, file names, the toolbar
config (ui.export), and a missing or stuck browser."""

from __future__ import annotations

import asyncio
import gc
import io
import logging

import numpy as np
import plotly.io as pio
import pytest
import streamlit  # noqa: F401  (sets plotly's default template to "streamlit", as in the app)
from PIL import Image

from lstm_core import RunConfig, simulate
from lstm_core.figures.states import state_figure, unit_color
from lstm_core.io import image as export_module
from lstm_core.io.image import (
    MAX_NAME_CHARS,
    ExportFailed,
    ExportUnavailable,
    figure_bytes,
    image_filename,
    safe_name,
)
from ui.export import plotly_config

CONFIG = RunConfig(hidden_dim=3, seq_len=30, seed=1)


@pytest.fixture(scope="module")
def figure():
    return state_figure(simulate(CONFIG))


def _rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return tuple(int(color[k : k + 2], 16) for k in (0, 2, 4))  # type: ignore[return-value]


def _pack(rgb: tuple[int, int, int]) -> int:
    return (rgb[0] << 16) + (rgb[1] << 8) + rgb[2]


def test_the_app_template_is_the_one_that_exports_black() -> None:
    # The reason exports set their own template: importing streamlit switched the default.
    assert pio.templates.default == "streamlit"


@pytest.mark.parametrize("scale", [1, 2])
def test_png_is_white_with_the_unit_colours(figure, scale: int) -> None:
    data = figure_bytes(figure, "png", scale)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(data)).convert("RGB")
    width, height = image.size
    assert (width, height) == (1100 * scale, 430 * scale)  # default width, the figure's height
    pixels = np.asarray(image).reshape(-1, 3).astype(np.int64)
    packed = pixels @ np.array([1 << 16, 1 << 8, 1])  # one int per colour: fast np.unique
    colours, counts = np.unique(packed, return_counts=True)
    white = _pack((255, 255, 255))
    assert colours[counts.argmax()] == white  # the background
    assert packed[2] == white  # the top-left corner: white, not black
    for unit in range(CONFIG.hidden_dim):
        assert _pack(_rgb(unit_color(unit))) in colours, f"unit {unit}'s line colour is missing"
    dark = np.all(pixels < 30, axis=1).mean()
    assert dark < 0.05


def test_svg_is_vector_with_the_lines(figure) -> None:
    data = figure_bytes(figure, "svg")
    text = data.decode()
    assert text.startswith("<svg") and "</svg>" in text
    for unit in range(CONFIG.hidden_dim):
        rgb = ", ".join(str(v) for v in _rgb(unit_color(unit)))
        assert f"rgb({rgb})" in text
    assert 'class="scatterlayer' in text
    assert "rgb(255, 255, 255)" in text  # white paper


def test_pdf_is_a_pdf(figure) -> None:
    data = figure_bytes(figure, "pdf")
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert len(data) > 5_000


def test_bad_format_and_scale(figure) -> None:
    with pytest.raises(ValueError, match="format"):
        figure_bytes(figure, "gif")
    with pytest.raises(ValueError, match="scale"):
        figure_bytes(figure, "png", 0)


def test_original_figure_untouched(figure) -> None:
    before = figure.to_json()
    figure_bytes(figure, "svg")
    assert figure.to_json() == before


def test_no_browser_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, figure) -> None:
    monkeypatch.setattr(export_module, "_renderer", None)
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    with pytest.raises(ExportUnavailable, match="apt-get install -y chromium") as info:
        figure_bytes(figure, "png")
    assert "BROWSER_PATH='/nonexistent/chromium'" in str(info.value)
    assert "scripts/setup.sh" in str(info.value)


def test_a_stuck_render_times_out_and_the_next_export_works(
    monkeypatch: pytest.MonkeyPatch, figure
) -> None:
    figure_bytes(figure, "svg")  # the browser is up
    with monkeypatch.context() as patch:
        patch.setattr(export_module, "RENDER_TIMEOUT_S", 0.001)
        with pytest.raises(ExportFailed, match=r"longer than 0\.001 s"):
            figure_bytes(figure, "png", 4)
    assert figure_bytes(figure, "png")[:8] == b"\x89PNG\r\n\x1a\n"  # a fresh browser


def test_a_failed_task_nobody_awaited_on_the_export_loop_is_logged_in_one_line(
    figure, caplog: pytest.LogCaptureFixture
) -> None:
    # Such a task is what a render cut off by a closing browser leaves; its traceback must not
    # be formatted where the garbage collector happens to finalize it (see report_loop_error).
    figure_bytes(figure, "svg")  # the browser is up, its event loop running
    loop = export_module._renderer._loop

    async def fails() -> None:
        raise RuntimeError("the browser closed")

    async def start_and_forget() -> None:
        asyncio.ensure_future(fails())  # noqa: RUF006  (unreferenced on purpose)

    with caplog.at_level(logging.WARNING):
        asyncio.run_coroutine_threadsafe(start_and_forget(), loop).result(10)
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0.1), loop).result(10)  # it has failed
        gc.collect()
    # (an earlier test's cut-off render may be collected here too: it must be one line as well)
    records = [r for r in caplog.records if "never retrieved" in r.getMessage()]
    assert any("RuntimeError: the browser closed" in r.getMessage() for r in records)
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in records)


def test_file_names_and_toolbar_config() -> None:
    base = f"lstm_states_{RunConfig(input_dim=3).label()}"
    assert base == "lstm_states_I3_H8_T100_seed0"
    assert image_filename(base, "png", 1) == "lstm_states_I3_H8_T100_seed0.png"
    assert image_filename(base, "png", 4) == "lstm_states_I3_H8_T100_seed0@4x.png"
    assert image_filename(base, "pdf") == "lstm_states_I3_H8_T100_seed0.pdf"
    options = plotly_config(base)["toImageButtonOptions"]
    assert options == {"format": "png", "filename": base, "scale": 2}


def test_a_users_file_name_is_made_fit_for_a_download() -> None:
    assert safe_name("my model (v2)") == "my_model_v2"
    assert safe_name("résumé #1 50%") == "r_sum_1_50"
    assert safe_name("") == safe_name("###") == "checkpoint"  # nothing of it is left
    assert safe_name("..", fallback="upload") == "upload"
    assert len(safe_name("x" * 300)) == MAX_NAME_CHARS
    assert safe_name("brackets_H16_T64_seed0_steps200") == "brackets_H16_T64_seed0_steps200"
