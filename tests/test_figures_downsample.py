"""lstm_core.figures.downsample: what the browser gets is bounded by the screen, true to the data.

Lines are downsampled (MinMaxLTTB) with each series' minimum and maximum kept and the hover
numbers taken at the very steps drawn; the overview heatmap holds the binned means of the real
states; the chart data of a page stays under 2 MB at the largest allowed size.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from streamlit.testing.v1 import AppTest

from lstm_core import LIMITS, RunConfig, SimulationResult, simulate
from lstm_core.figures.downsample import (
    MAX_HEATMAP_COLUMNS,
    MAX_POINTS_PER_LINE,
    bin_time,
    bin_widths,
    bin_widths_text,
    heatmap_columns,
    line_indices,
    points_per_line,
)
from lstm_core.figures.states import (
    MAX_LINE_UNITS,
    overview_bins,
    persistence_figure,
    state_figure,
    state_heatmap,
)
from tests.conftest import APP, APPTEST_TIMEOUT, chart_specs, decode

PAGE_BUDGET_BYTES = 2_000_000  # issue 6: chart data per page


def largest_result() -> SimulationResult:
    """A result of the largest allowed shape with random states (the payload depends on shapes
    only; running the LSTM at this size would take seconds)."""
    config = RunConfig(
        input_dim=LIMITS["input_dim"][1],
        hidden_dim=LIMITS["hidden_dim"][1],
        seq_len=LIMITS["seq_len"][1],
    )
    generator = torch.Generator().manual_seed(0)
    shape = (1, 1, config.seq_len, config.hidden_dim)

    def draw() -> torch.Tensor:
        return torch.randn(shape, generator=generator).cumsum(dim=2) / 30

    c = draw()
    h = torch.tanh(c) * torch.rand(shape, generator=generator)
    gates = {name: torch.rand(shape, generator=generator) for name in "ifgo"}
    return SimulationResult(
        config=config,
        x=torch.randn(1, config.seq_len, config.input_dim, generator=generator),
        h=h,
        c=c,
        manual_h=h,
        manual_c=c,
        gates=gates,
        output=h[-1],
        h_n=h[:, :, -1],
        c_n=c[:, :, -1],
        parameters={},
    )


@pytest.fixture(scope="module")
def small_run() -> SimulationResult:
    return simulate(RunConfig(input_dim=4, hidden_dim=20, seq_len=3000, seed=5))


@pytest.mark.parametrize("steps", [10, 2000, 2001, 10_000])
def test_line_indices_keep_first_last_min_max(steps: int) -> None:
    y = np.random.default_rng(steps).standard_normal(steps).cumsum()
    index = line_indices(y, 500)
    assert np.all(np.diff(index) > 0)  # sorted, unique
    assert {0, steps - 1, int(y.argmin()), int(y.argmax())} <= set(index.tolist())
    assert len(index) <= max(steps if steps <= 500 else 0, 504)
    if steps <= 500:
        np.testing.assert_array_equal(index, np.arange(steps))


def test_line_indices_keep_a_lone_spike_lttb_alone_might_drop() -> None:
    y = np.zeros(50_000)
    y[12_345] = 7.0
    y[40_000] = -3.0
    index = line_indices(y, 100)
    assert 12_345 in index and 40_000 in index


def test_line_indices_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        line_indices(np.array([]), 100)
    with pytest.raises(ValueError, match="at least 3"):
        line_indices(np.arange(10.0), 2)


def test_points_per_line_shrinks_with_many_lines() -> None:
    assert points_per_line(1) == MAX_POINTS_PER_LINE
    assert points_per_line(MAX_LINE_UNITS) < MAX_POINTS_PER_LINE
    assert points_per_line(10_000) == 100


def test_drawn_lines_keep_every_units_extremes_and_true_hover(small_run: SimulationResult) -> None:
    units = [0, 3, 19]
    figure = state_figure(small_run, 0, 0, units, max_points=300)
    h = small_run.h[0, 0].numpy()  # (T, H)
    c = small_run.c[0, 0].numpy()
    gates = {name: g[0, 0].numpy() for name, g in small_run.gates.items()}
    assert len(figure.data) == 2 * len(units)
    for n, unit in enumerate(units):
        h_trace, c_trace = figure.data[2 * n], figure.data[2 * n + 1]
        for trace, full in ((h_trace, h[:, unit]), (c_trace, c[:, unit])):
            steps = np.asarray(trace.x)
            y = np.asarray(trace.y)
            assert y.dtype == np.float32 and len(y) <= 304
            np.testing.assert_array_equal(y, full[steps].astype(np.float32))
            assert y.max() == np.float32(full.max()) and y.min() == np.float32(full.min())
        steps = np.asarray(h_trace.x)
        np.testing.assert_array_equal(
            np.asarray(h_trace.customdata),
            np.stack([gates["o"][steps, unit], c[steps, unit]], axis=1).astype(np.float32),
        )
        steps = np.asarray(c_trace.x)
        c_prev = np.concatenate([[0.0], c[:-1, unit]])[steps]
        np.testing.assert_array_equal(
            np.asarray(c_trace.customdata),
            np.stack(
                [gates["f"][steps, unit], c_prev, gates["i"][steps, unit], gates["g"][steps, unit]],
                axis=1,
            ).astype(np.float32),
        )
        # The hover reading is the update itself: C = f * C_{t-1} + i * g at every drawn step.
        f, prev, i, g = np.asarray(c_trace.customdata, dtype=np.float64).T
        np.testing.assert_allclose(f * prev + i * g, np.asarray(c_trace.y), atol=1e-5)


def test_builders_output_passes_plotlys_validation(small_run: SimulationResult) -> None:
    """state_figure and state_heatmap skip plotly's validation for speed: validate here."""
    for figure in (state_figure(small_run, 0, 0, [0, 3, 19]), state_heatmap(small_run)):
        spec = figure.to_dict()
        validated = go.Figure(spec)  # raises on any property plotly does not know
        assert len(validated.data) == len(figure.data)
        assert json.loads(validated.to_json())["data"] == json.loads(figure.to_json())["data"]
    titles = [a["text"] for a in state_figure(small_run, 0, 0, [1]).layout.annotations]
    assert titles[0].startswith("Hidden state h<sub>t</sub>") and "Cell state" in titles[1]


def test_short_runs_are_drawn_whole(small_run: SimulationResult) -> None:
    figure = state_figure(small_run, 0, 0, [1], max_points=5000)
    np.testing.assert_array_equal(np.asarray(figure.data[0].x), np.arange(3000))
    assert not figure.layout.title.subtitle.text


def test_a_downsampled_figure_says_so_under_its_title(small_run: SimulationResult) -> None:
    drawn = state_figure(small_run, 0, 0, [1], max_points=500)
    assert len(drawn.data[0].x) <= 502
    assert drawn.layout.title.subtitle.text == (
        "Downsampled: each line's shape, min and max kept (≤ 502 points per line)"
    )
    window = state_figure(small_run, 0, 0, [1], max_points=500, window=(100, 400))
    assert not window.layout.title.subtitle.text  # 300 steps: every one drawn


def test_heatmap_cells_are_the_binned_means_of_the_states(small_run: SimulationResult) -> None:
    figure = state_heatmap(small_run, 0, 0)
    bins = overview_bins(3000, 20)
    assert bins == 600
    for trace, states in zip(figure.data, (small_run.h, small_run.c), strict=True):
        z = np.asarray(trace.z)
        assert z.shape == (20, bins) and z.dtype == np.float32
        full = states[0, 0].double().numpy()  # (T, H)
        edges = np.linspace(0, 3000, bins + 1).round().astype(int)
        means = np.stack([full[a:b].mean(axis=0) for a, b in itertools.pairwise(edges)], axis=1)
        np.testing.assert_allclose(z, means, rtol=1e-6, atol=1e-7)
        assert trace.dx == 3000 / bins and trace.x0 == (trace.dx - 1) / 2  # cell k: its bin
        np.testing.assert_array_equal(z, bin_time(full, bins).values.astype(np.float32))


def test_largest_size_page_charts_stay_under_2_mb() -> None:
    result = largest_result()
    config = result.config
    lines = state_figure(result, 0, 0, list(range(MAX_LINE_UNITS)))
    overview = state_heatmap(result, 0, 0)
    bars = persistence_figure(np.zeros(config.hidden_dim), np.zeros(config.hidden_dim))
    sizes = [len(figure.to_json()) for figure in (lines, overview, bars)]
    assert sum(sizes) < PAGE_BUDGET_BYTES, sizes
    assert all(isinstance(trace, go.Scatter) for trace in lines.data)
    assert max(len(trace.x) for trace in lines.data) <= points_per_line(MAX_LINE_UNITS) + 4
    # Every unit's global extremes are still drawn at this size.
    c = result.c[0, 0].numpy()
    for unit in range(MAX_LINE_UNITS):
        drawn = np.asarray(lines.data[2 * unit + 1].y)
        assert drawn.max() == np.float32(c[:, unit].max())
        assert drawn.min() == np.float32(c[:, unit].min())


def test_explorer_sends_downsampled_lines_and_an_overview() -> None:
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.session_state["seq_len"] = 6000
    at.session_state["hidden_dim"] = 24
    at.session_state["explorer_units"] = list(range(MAX_LINE_UNITS))
    at.run()
    assert not at.exception and not at.error
    specs = chart_specs(at)
    assert sum(len(json.dumps(spec)) for spec in specs) < PAGE_BUDGET_BYTES
    lines, overview = specs[0], specs[1]
    assert len(lines["data"]) == 2 * MAX_LINE_UNITS
    assert all(trace["type"] == "scatter" for trace in lines["data"])
    assert all(len(decode(trace["y"])) < 6000 for trace in lines["data"])
    assert all(decode(trace["y"]).dtype == np.float32 for trace in lines["data"])
    assert [trace["type"] for trace in overview["data"]] == ["heatmap", "heatmap"]
    assert "units" in at.multiselect(key="explorer_units").help


def test_bin_time_averages_consecutive_steps() -> None:
    values = np.arange(10, dtype=float)[:, None] * np.array([1.0, -1.0])  # (T=10, H=2)
    bins = bin_time(values, 5)
    np.testing.assert_allclose(
        bins.values, [[0.5, 2.5, 4.5, 6.5, 8.5], [-0.5, -2.5, -4.5, -6.5, -8.5]]
    )
    assert bins.start.tolist() == [0, 2, 4, 6, 8] and bins.stop.tolist() == [2, 4, 6, 8, 10]
    assert bins.binned


def test_bin_time_uneven_bins_cover_every_step_once() -> None:
    values = np.random.default_rng(0).random((1003, 3))
    bins = bin_time(values, 10)
    assert bins.start[0] == 0 and bins.stop[-1] == 1003
    np.testing.assert_array_equal(bins.start[1:], bins.stop[:-1])
    weights = (bins.stop - bins.start)[None, :]
    np.testing.assert_allclose((bins.values * weights).sum(axis=1), values.sum(axis=0))
    # 1003 steps in 10 bins: 100 or 101 steps each, as the gate page's caption says.
    assert bin_widths(1003, 10) == (100, 101) == (weights.min(), weights.max())
    assert bin_widths(10, 5) == (2, 2) and bin_widths(7, 1000) == (1, 1)
    assert (bin_widths_text(1003, 10), bin_widths_text(10, 5)) == ("100-101", "2")


def test_a_heatmap_of_uneven_bins_names_their_whole_step_counts() -> None:
    figure = state_heatmap(simulate(RunConfig(hidden_dim=2, seq_len=1000)), 0, 0)  # 600 bins
    assert figure.layout.title.subtitle.text == "each column is the mean of 1-2 steps"
    assert "mean over 1-2 steps" in figure.data[0].hovertemplate


def test_bin_time_without_binning_is_the_identity() -> None:
    values = np.random.default_rng(1).random((7, 4))
    bins = bin_time(values, 1000)
    np.testing.assert_array_equal(bins.values, values.T)
    assert not bins.binned


def test_heatmap_columns_cap_the_cells() -> None:
    assert heatmap_columns(100, 8) == 100
    assert heatmap_columns(10_000, 8) == MAX_HEATMAP_COLUMNS
    columns = heatmap_columns(10_000, 512)
    assert columns * 512 <= 131_072 and columns >= 50
