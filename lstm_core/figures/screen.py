"""Figures made ready for the screen: the same picture, drawn once per chart by plotly.js.

Streamlit mounts a new chart whenever its figure changes, then hands plotly.js the figure a
second time (a copy with its theme applied, also with `theme=None`). plotly.js compares the two
and redraws everything when it finds a change. Three things always looked changed:
`layout.template` (compared as a whole, by identity), typed arrays (`{"dtype", "bdata"}`, never
equal to the arrays decoded before, whatever the `datarevision`) and plain arrays without a
`layout.datarevision`. A screen figure therefore carries its template's values in its own
layout, and small figures (up to PLAIN_LIST_MAX_VALUES) carry plain lists and a `datarevision`
derived from their data: for them the second pass draws nothing. Bigger figures keep typed
arrays (small on the wire) and are still drawn twice, but no longer for their template.

The template values follow the page's theme (`screen_template_layout`): a transparent
background, and dark or light text and grid lines. Exports are drawn from the builders'
figures on white instead (lstm_core.io.image).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import pickle
import re
from collections.abc import Iterable
from typing import Any, NoReturn

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from lstm_core.io.image import EXPORT_TEMPLATE

# Up to this many array values in all traces a figure goes out as plain JSON lists (the default
# view among them: 16 lines of 100 steps with their hover numbers); above it as
# base64 typed arrays (plotly's own encoding), which keep big views small on the wire.
PLAIN_LIST_MAX_VALUES = 20_000
# Template parts for subplot kinds: filled in only where the figure has such a subplot.
_SUBPLOT_KINDS = ("polar", "ternary", "scene", "geo", "mapbox", "map", "smith", "coloraxis")
# The page themes a screen figure can be drawn for, and the plotly template each one's text,
# grid and line colours come from (light: the export's own).
SCREEN_THEMES: dict[str, str] = {"light": EXPORT_TEMPLATE, "dark": "plotly_dark"}
# Charts sit on the page's own background, whichever the theme.
TRANSPARENT = "rgba(0,0,0,0)"


@functools.cache
def screen_template_layout(theme: str) -> dict[str, Any]:
    """The template layout values a screen figure carries for `theme` ("light" or "dark").

    The theme's plotly template with a transparent background; tick labels may overflow into
    the margins (plotly.js's default, "hide past div", measures every label once more per
    draw). Shared between calls: read it, never change it.
    """
    if theme not in SCREEN_THEMES:
        raise ValueError(f"theme must be one of {', '.join(SCREEN_THEMES)}, got {theme!r}")
    layout = pio.templates[SCREEN_THEMES[theme]].layout.to_plotly_json()
    return {
        **layout,
        "paper_bgcolor": TRANSPARENT,
        "plot_bgcolor": TRANSPARENT,
        **{axis: {**layout[axis], "ticklabeloverflow": "allow"} for axis in ("xaxis", "yaxis")},
    }


class SharedList(list):  # type: ignore[type-arg]
    """A read-only list that plotly's defensive deep copies (`Figure.to_dict`) share instead of
    copying.

    Screen figures are cached, shared by every rerun and session, and only read; st.plotly_chart
    copies a figure twice per rerun, a noticeable part of a slider move even for the
    default view. So `to_dict()` of a screen figure hands out the cached lists themselves, and
    every way of changing one in place raises TypeError.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> SharedList:
        return self

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("a screen figure's arrays are shared between sessions: never change them")

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse


def _fill(explicit: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """`explicit` with `defaults` added where it sets nothing (nested dicts merged)."""
    for key, value in defaults.items():
        if key not in explicit:
            explicit[key] = copy.deepcopy(value)
        elif isinstance(value, dict) and isinstance(explicit[key], dict):
            _fill(explicit[key], value)
    return explicit


def layout_with_template(
    layout: dict[str, Any], template_layout: dict[str, Any], axes: Iterable[str] = ()
) -> dict[str, Any]:
    """A copy of `layout` with a template's layout values written in, as plotly.js applies them.

    Explicit values win; the template's `xaxis` / `yaxis` go to every x / y axis of the layout
    and to the ones named in `axes` (those the traces use, e.g. "xaxis2"), and
    `annotationdefaults` / `shapedefaults` to every annotation / shape. Checked against
    plotly.js's own resolution in tests/test_figures_screen.py.
    """
    out = copy.deepcopy(layout)
    out.pop("template", None)
    for name in axes:
        out.setdefault(name, {})
    for key, value in template_layout.items():
        if key in ("xaxis", "yaxis"):
            for name in [name for name in out if re.fullmatch(rf"{key}\d*", name)]:
                # plotly.js draws an axis line when linecolor / linewidth are set in the
                # layout, not when they come from a template: keep the template's choice.
                implied_line = "showline" not in out[name] and not (
                    {"linecolor", "linewidth"} & out[name].keys()
                )
                _fill(out[name], value)
                if implied_line:
                    out[name].setdefault("showline", False)
        elif key.endswith("defaults"):  # annotationdefaults -> annotations
            for item in out.get(key.removesuffix("defaults") + "s", []):
                _fill(item, value)
        elif key in _SUBPLOT_KINDS and key not in out:
            continue
        elif isinstance(value, dict):
            if isinstance(out.setdefault(key, {}), dict):
                _fill(out[key], value)
        elif key not in out:
            out[key] = copy.deepcopy(value)
    return out


# Trace types drawn on x / y axes (those the builders make, and their near kin).
_CARTESIAN_TYPES = ("scatter", "scattergl", "bar", "heatmap", "histogram", "box", "contour")


def _cartesian_axes(data: list[dict[str, Any]]) -> set[str]:
    """The layout names of the x / y axes the traces are drawn on ("x2" -> "xaxis2")."""
    names = set()
    for trace in data:
        if trace.get("type", "scatter") in _CARTESIAN_TYPES:
            for letter in ("x", "y"):
                names.add(trace.get(f"{letter}axis", letter).replace(letter, f"{letter}axis", 1))
    return names


def _array_values(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return value.size
    if isinstance(value, dict):
        return sum(_array_values(item) for item in value.values())
    if isinstance(value, list | tuple):
        return sum(_array_values(item) for item in value)
    return 0


def _as_lists(value: Any) -> Any:
    """Every numpy array in `value` as (nested) lists of the very same numbers: a float32
    value becomes the float64 that equals it, so the browser draws it bit for bit."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            value = value.astype(np.float64)
        if value.ndim > 1:
            return SharedList([SharedList(row) for row in value.tolist()])
        return SharedList(value.tolist())
    if isinstance(value, dict):
        return {key: _as_lists(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_as_lists(item) for item in value]
    return value


def screen_figure(figure: go.Figure, template_layout: dict[str, Any]) -> go.Figure:
    """`figure` as drawn on screen: `template_layout` (a template's `layout` part) written into
    its layout, its arrays as plain lists (small figures) or typed arrays, and a
    `layout.datarevision` that changes exactly when the data does. Not validated again
    (`_validate` is plotly's own switch): the builders' output is validated in the tests.
    """
    data = [trace.to_plotly_json() for trace in figure.data]  # numpy arrays as they are
    # Derived from the data itself (pickle writes numpy arrays as their raw bytes).
    revision = hashlib.blake2b(pickle.dumps(data, protocol=5), digest_size=8).hexdigest()
    if _array_values(data) <= PLAIN_LIST_MAX_VALUES:
        data = _as_lists(data)
    else:
        data = figure.to_dict()["data"]  # numpy arrays -> {"dtype", "bdata"}
    layout = layout_with_template(
        figure.layout.to_plotly_json(), template_layout, _cartesian_axes(data)
    )
    layout["datarevision"] = revision
    screen = go.Figure({"data": data, "layout": layout}, _validate=False)
    # plotly.py gives every new Figure its default template (Streamlit's, once streamlit is
    # imported); `null` goes out instead, so plotly.js has no template object to compare.
    screen.layout.template = None
    return screen
