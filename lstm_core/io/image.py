"""Static images of figures: PNG, SVG, PDF via kaleido and a headless Chromium.

No streamlit here. kaleido 1.x drives a Chrome/Chromium; this module finds one, wraps it in a
small script that adds the flags this machine needs (no sandbox, no GPU), and keeps one browser
open per process: each image costs one render, never a browser start.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import logging
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

IMAGE_FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
# Chromium must run with these flags here (no sandbox, no GPU, no network chatter).
BROWSER_FLAGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
BROWSER_CANDIDATES: tuple[str, ...] = (
    "/usr/bin/chromium",
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome",
)
INSTALL_HINT = (
    "Install one with `sudo apt-get install -y chromium` (Debian/Ubuntu), or run "
    "`scripts/setup.sh`, or point the environment variable BROWSER_PATH at a Chrome/Chromium "
    "executable. Everything else in the app works without it."
)
# Exported size in layout pixels when the figure sets none (Streamlit draws it container-wide).
DEFAULT_WIDTH = 1100
DEFAULT_HEIGHT = 500
# Height one vertical legend entry takes, and the title/margins around the legend.
LEGEND_ENTRY_PX = 30
LEGEND_MARGIN_PX = 150
# The template exports are drawn with: Streamlit's own template has placeholder colours that
# only its browser code fills in, and would come out black.
EXPORT_TEMPLATE = "plotly_white"


class ExportUnavailable(RuntimeError):
    """No Chrome/Chromium to render images with; the message says how to install one."""


class ExportFailed(RuntimeError):
    """The browser did not start or render in time; the next export starts a fresh one."""


# Seconds to wait for the browser to start, and for one image. A stuck browser must never
# hold an export (and every later one) forever.
START_TIMEOUT_S = 60.0
RENDER_TIMEOUT_S = 120.0

_LOCK = threading.Lock()  # one start, and one render at a time (one browser tab)
_renderer: _Renderer | None = None
_wrapper_dir: str | None = None


_LOG = logging.getLogger(__name__)


def report_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The export loop's exception handler: one log line, no traceback.

    asyncio's default handler formats the traceback of a failed task that nobody awaited (a
    render cut off when its browser closed). The garbage collector finalizes such a task in
    whatever thread it runs; on CPython 3.11, formatting a traceback parses source with
    ast.parse, and inside another ast.parse in that thread (Streamlit compiling a page) it
    breaks that compile with "SystemError: AST constructor recursion depth mismatch"
    (python/cpython#106905).
    """
    error = context.get("exception")
    detail = f" ({type(error).__name__}: {error})" if error is not None else ""
    _LOG.warning("image export: %s%s", context.get("message", "error"), detail)


class _Renderer:
    """One kaleido.Kaleido (one headless Chromium) on its own event-loop thread.

    Used instead of kaleido.start_sync_server, whose blocking queue has no timeout: a browser
    that died or stalled while starting left every later export waiting forever (seen once
    under heavy load in a Streamlit server). Every call here waits at most a timeout.
    """

    def __init__(self, browser_path: str) -> None:
        import kaleido

        self._loop = asyncio.new_event_loop()
        self._loop.set_exception_handler(report_loop_error)
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="lstm-export-kaleido", daemon=True
        )
        self._thread.start()

        async def open_browser() -> Any:
            instance = kaleido.Kaleido(mathjax=False, path=browser_path)
            await instance.open()
            return instance

        try:
            self._kaleido = self._call(open_browser(), START_TIMEOUT_S)
        except BaseException:
            self._loop.call_soon_threadsafe(self._loop.stop)
            raise

    def _call(self, coroutine: Any, timeout: float) -> Any:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    def render(self, spec: dict[str, Any], opts: dict[str, Any]) -> bytes:
        return self._call(self._kaleido.calc_fig(spec, opts=opts), RENDER_TIMEOUT_S)

    def close(self) -> None:
        """Close the browser (best effort, bounded) and stop the loop."""
        # Closing a broken browser may fail in many ways; it is being thrown away anyway.
        with contextlib.suppress(Exception):
            self._call(self._kaleido.close(), 10.0)
        self._loop.call_soon_threadsafe(self._loop.stop)


def _close_renderer() -> None:
    global _renderer
    if _renderer is not None:
        _renderer.close()
        _renderer = None


atexit.register(_close_renderer)


def find_browser() -> str | None:
    """Path of a Chrome/Chromium executable: $BROWSER_PATH, then the usual names; or None."""
    from_env = os.environ.get("BROWSER_PATH")
    if from_env:
        return from_env if os.path.isfile(from_env) and os.access(from_env, os.X_OK) else None
    for name in BROWSER_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _write_wrapper(browser: str) -> str:
    """A script in a fresh temp dir that execs `browser` with BROWSER_FLAGS (and kaleido's)."""
    global _wrapper_dir
    _wrapper_dir = tempfile.mkdtemp(prefix="lstm-export-")
    atexit.register(shutil.rmtree, _wrapper_dir, ignore_errors=True)
    path = Path(_wrapper_dir) / "chromium-wrapper"
    flags = " ".join(BROWSER_FLAGS)
    path.write_text(f'#!/bin/sh\nexec {shlex.quote(browser)} {flags} "$@"\n')
    path.chmod(0o755)
    return str(path)


def _ensure_renderer() -> _Renderer:
    """The process's renderer, started on first use on a wrapped browser. Hold _LOCK."""
    global _renderer
    if _renderer is not None:
        return _renderer
    browser = find_browser()
    if browser is None:
        where = os.environ.get("BROWSER_PATH")
        found = f"BROWSER_PATH={where!r} is not an executable file. " if where else ""
        raise ExportUnavailable(
            f"Image export needs Chrome or Chromium, and none was found. {found}{INSTALL_HINT}"
        )
    try:  # fail fast and clearly on a browser that cannot run at all
        subprocess.run([browser, "--version"], capture_output=True, timeout=20, check=True)
    except (OSError, subprocess.SubprocessError) as error:
        raise ExportUnavailable(f"{browser} does not run ({error}). {INSTALL_HINT}") from None
    try:
        _renderer = _Renderer(_write_wrapper(browser))
    except concurrent.futures.TimeoutError:
        raise ExportFailed(
            f"the browser did not start within {START_TIMEOUT_S:g} s; try again"
        ) from None
    return _renderer


def figure_bytes(figure: go.Figure, fmt: str, scale: float = 1.0) -> bytes:
    """The figure as PNG, SVG or PDF bytes. `scale` multiplies the pixel size (PNG).

    Raises ExportUnavailable when no browser is installed, ExportFailed when it does not
    start or render in time, ValueError on a bad format or scale.
    """
    fmt = fmt.lower()
    if fmt not in IMAGE_FORMATS:
        raise ValueError(f"format must be one of {', '.join(IMAGE_FORMATS)}, got {fmt!r}")
    if not 0 < scale <= 8:
        raise ValueError(f"scale must be in (0, 8], got {scale}")
    copy = go.Figure(figure).update_layout(template=EXPORT_TEMPLATE)  # the caller's stays as is
    layout = copy.layout
    # A file cannot scroll a long legend as the app does: make room for every entry.
    entries = sum(1 for trace in copy.data if trace.showlegend is not False and trace.name)
    legend_height = LEGEND_MARGIN_PX + LEGEND_ENTRY_PX * entries if entries > 1 else 0
    opts = {
        "format": fmt,
        "scale": scale,
        "width": layout.width or DEFAULT_WIDTH,
        "height": max(layout.height or DEFAULT_HEIGHT, legend_height),
    }
    with _LOCK:
        renderer = _ensure_renderer()
        try:
            return renderer.render(copy.to_dict(), opts)
        except concurrent.futures.TimeoutError:
            _close_renderer()  # a fresh browser for the next export
            raise ExportFailed(
                f"rendering took longer than {RENDER_TIMEOUT_S:g} s; try a smaller scale, "
                "fewer units or SVG"
            ) from None


def image_filename(basename: str, fmt: str, scale: float = 1.0) -> str:
    """`basename.png`, `basename@2x.png` for scale 2, `basename.svg`, ..."""
    suffix = f"@{scale:g}x" if fmt == "png" and scale != 1 else ""
    return f"{basename}{suffix}.{fmt}"


# At most this many characters of a user's own name go into a download's name.
MAX_NAME_CHARS = 60


def safe_name(name: str, fallback: str = "checkpoint") -> str:
    """`name` (e.g. an upload's file name without its suffix) made fit for a download's name:
    letters, digits, ".", "_" and "-" only (a run of others becomes "_"), at most
    MAX_NAME_CHARS characters; `fallback` when nothing is left."""
    kept = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")[:MAX_NAME_CHARS]
    return kept or fallback
