"""What a figure draws of a long run, bounded by the screen: lines downsampled, heatmaps binned.

One line downsampler (`line_indices`: MinMaxLTTB, the engine behind plotly-resampler, plus each
series' own extremes) and one time binning (`bin_time`: means of consecutive bins) for every
figure. The full-resolution numbers stay in the SimulationResult (and its data export).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from tsdownsample import MinMaxLTTBDownsampler

# Points per line at most: about two per pixel of a panel (two panels beside the sidebar). SVG
# lines of this size draw faster than WebGL ones in a browser without a GPU.
MAX_POINTS_PER_LINE = 1000
# Points per panel, all lines together: keeps a figure of many lines small on the wire (with
# its hover numbers) at every allowed size.
LINE_POINTS_PER_PANEL = 12_000
# Heatmap cells sent to the browser per gate panel at most (units x time columns): four gate
# panels stay within the chart data a page may send.
MAX_HEATMAP_CELLS = 49_152
# Time columns per heatmap at most, whatever the number of units.
MAX_HEATMAP_COLUMNS = 1000
_DOWNSAMPLER = MinMaxLTTBDownsampler()


def points_per_line(lines_per_panel: int) -> int:
    """How many points each of `lines_per_panel` lines may draw (at least 100)."""
    return max(100, min(MAX_POINTS_PER_LINE, LINE_POINTS_PER_PANEL // max(1, lines_per_panel)))


def line_indices(y: np.ndarray, points: int) -> np.ndarray:
    """Sorted int64 indices of the points of y (T,) to draw, at most `points` + 2.

    Every index when T <= points. Otherwise MinMaxLTTB's choice (per bucket the min and max
    are the candidates, then largest-triangle selection), plus the series' own minimum and
    maximum, which LTTB alone may drop. The first and last steps are always kept.
    """
    y = np.ascontiguousarray(y)
    if y.ndim != 1 or y.size == 0:
        raise ValueError("y must be a non-empty 1-D array")
    if points < 3:
        raise ValueError(f"points must be at least 3, got {points}")
    if y.size <= points:
        return np.arange(y.size)
    chosen = _DOWNSAMPLER.downsample(y, n_out=points).astype(np.int64)
    return np.union1d(chosen, [0, y.size - 1, int(y.argmin()), int(y.argmax())])


def downsampled_note(steps: int, points: int) -> str:
    """A figure's subtitle when lines of `steps` steps are drawn with `line_indices(.., points)`:
    "" when every step is drawn."""
    if steps <= points:
        return ""
    return f"Downsampled: each line's shape, min and max kept (≤ {points + 2} points per line)"


def heatmap_columns(steps: int, units: int) -> int:
    """How many time columns a units x time heatmap may have on screen (1 <= n <= steps)."""
    if steps < 1 or units < 1:
        raise ValueError("steps and units must be at least 1")
    return max(1, min(steps, MAX_HEATMAP_COLUMNS, max(50, MAX_HEATMAP_CELLS // units)))


@dataclass(frozen=True)
class TimeBins:
    """Means of consecutive time bins. values: (H, n) float64; start, stop: (n,) step ranges."""

    values: np.ndarray
    start: np.ndarray  # first step of each bin
    stop: np.ndarray  # one past the last step of each bin

    @property
    def binned(self) -> bool:
        return bool(np.any(self.stop - self.start > 1))


def _bin_edges(steps: int, columns: int) -> np.ndarray:
    """The edges of `columns` <= `steps` near-equal consecutive bins: (columns + 1,), rising."""
    return np.linspace(0, steps, columns + 1).round().astype(np.int64)


def bin_widths(steps: int, columns: int) -> tuple[int, int]:
    """The fewest and the most steps in one of bin_time's bins over `steps` steps."""
    widths = np.diff(_bin_edges(steps, min(columns, steps)))
    return int(widths.min()), int(widths.max())


def bin_widths_text(steps: int, columns: int) -> str:
    """bin_widths as words: "25" when every bin has 25 steps, "1-2" when they differ."""
    shortest, longest = bin_widths(steps, columns)
    return f"{shortest}" if shortest == longest else f"{shortest}-{longest}"


def bin_time(values: torch.Tensor | np.ndarray, columns: int) -> TimeBins:
    """Average (T, H) values over `columns` near-equal consecutive time bins -> (H, columns).

    With columns >= T nothing is averaged: each column is one step.
    """
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] == 0:
        raise ValueError(f"values must be (T, H) with T >= 1, got shape {array.shape}")
    if columns < 1:
        raise ValueError(f"columns must be at least 1, got {columns}")
    steps = array.shape[0]
    n = min(columns, steps)
    edges = _bin_edges(steps, n)  # (n + 1,)
    sums = np.add.reduceat(array, edges[:-1], axis=0)  # (n, H)
    counts = np.diff(edges)[:, None]
    return TimeBins(values=(sums / counts).T, start=edges[:-1], stop=edges[1:])
