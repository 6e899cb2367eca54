"""The one way a page shows a figure: `show_figure`.

Every figure on every page goes through it, so each gets the same pieces:
- screen preparation (`lstm_core.figures.screen.screen_figure`): the page theme's template
  values written into the layout, a `datarevision`, arrays encoded once, so plotly.js draws
  the chart once per change;
- caching: the screen figure is kept in the byte-bounded VIEWS cache (ui/caches.py) as an
  object shared by every rerun and session, never pickled (a go.Figure taken out of
  st.cache_data is rebuilt through plotly's validating constructor on every rerun). Its lists
  are read-only (`screen.SharedList`);
- the theme: the page's (ui.state.screen_theme), drawn with `theme=None` so that Streamlit
  does not merge its own theme into the figure in the browser at every redraw;
- the toolbar's image file name and the download menu (PNG, SVG, PDF), whose files are
  rebuilt from the builder on click, on white whatever the page's theme.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from lstm_core import RunConfig
from lstm_core.figures.screen import screen_figure, screen_template_layout
from lstm_core.figures.states import mark_window
from ui.caches import VIEWS
from ui.export import figure_downloads, plotly_config
from ui.runs import cached_simulate
from ui.state import screen_theme


def _builder_input(source: Any) -> Any:
    """What the builder draws: a RunConfig stands for its cached run."""
    return cached_simulate(source) if isinstance(source, RunConfig) else source


def show_figure(
    build: Callable[..., go.Figure],
    source: Any,
    *args: Hashable,
    name: str,
    key: str,
    source_key: Hashable | None = None,
    themed: bool = False,
    downloads: bool = True,
    shade: tuple[int, int] | None = None,
    spinner: str | None = None,
    **kwargs: Hashable,
) -> None:
    """Show `build(source, *args, **kwargs)`, a pure builder from lstm_core.figures, on the page.

    `source` is what the figure draws: a RunConfig stands for its cached run (the builder gets
    the SimulationResult, also when a download is clicked); anything else is passed as it is,
    and `source_key` (hashable, default: the source itself) names it in the view cache.
    `args` and `kwargs` must be hashable. `name` names the toolbar's image and the download
    files (no extension); `key` is the chart's widget key, unique on the page, and prefixes
    the download menu's. `themed`: the builder takes `theme="light" | "dark"` (the screen gets
    the page's, the downloads the light one). `downloads=False` leaves out the download menu
    (a figure shown only as context for another on the page). `shade=(start, stop)` shades
    those steps on every x axis (`figures.states.mark_window`), without a new cache entry.
    """
    theme = screen_theme()
    if source_key is None:
        source_key = source
    view_key = (
        "screen_figure",
        build.__module__,
        build.__qualname__,
        source_key,
        args,
        tuple(sorted(kwargs.items())),
        theme,
    )

    def compute() -> go.Figure:
        extra = {"theme": theme} if themed else {}
        if spinner is None:
            built = build(_builder_input(source), *args, **kwargs, **extra)
        else:
            with st.spinner(spinner):
                built = build(_builder_input(source), *args, **kwargs, **extra)
        return screen_figure(built, screen_template_layout(theme))

    screen = VIEWS.get_or_compute(view_key, compute)
    if shade is not None:
        screen = mark_window(screen, *shade)
    st.plotly_chart(screen, key=key, config=plotly_config(name), theme=None)
    if downloads:
        figure_downloads(
            lambda: build(_builder_input(source), *args, **kwargs), name, key=f"{key}_download"
        )
