"""lstm_core.figures.gates and figures.updates (the "Inside the cell" figures): each builder's
numbers against the run's tensors; bad input rejected first."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from lstm_core import RunConfig, simulate
from lstm_core.figures.gates import (
    forget_mean_figure,
    gate_heatmaps,
    gate_lines,
    saturation_figure,
)
from lstm_core.figures.states import unit_color
from lstm_core.figures.updates import cell_flow_figure, playground_figure
from lstm_core.model.cell import WORKED_EXAMPLE, cell_update, step_update


@pytest.fixture(scope="module")
def result():
    return simulate(RunConfig(input_dim=3, hidden_dim=6, seq_len=30, batch_size=2, num_layers=2))


def test_heatmaps_hold_every_gate_with_fixed_colour_scales(result) -> None:
    figure = gate_heatmaps(result, layer=1, batch=1)
    assert [trace.name for trace in figure.data] == ["i", "f", "g", "o"]
    for trace, name in zip(figure.data, "ifgo", strict=True):
        expected = result.gates[name][1, 1].numpy().T  # (H, T)
        np.testing.assert_allclose(np.asarray(trace.z), expected, rtol=1e-6)
        assert trace.coloraxis == ("coloraxis2" if name == "g" else "coloraxis")
    assert (figure.layout.coloraxis.cmin, figure.layout.coloraxis.cmax) == (0.0, 1.0)
    assert (figure.layout.coloraxis2.cmin, figure.layout.coloraxis2.cmax) == (-1.0, 1.0)


def test_long_runs_are_binned_for_the_screen() -> None:
    long = simulate(RunConfig(input_dim=2, hidden_dim=4, seq_len=2500))
    figure = gate_heatmaps(long, max_columns=100)
    z = np.asarray(figure.data[1].z)
    assert z.shape == (4, 100)
    expected = long.gates["f"][0, 0].double().numpy().reshape(100, 25, 4).mean(axis=1).T
    np.testing.assert_allclose(z, expected, rtol=1e-5)
    assert "mean of 25 steps" in figure.layout.title.subtitle.text
    lines = gate_lines(long, units=[0, 3], max_points=200)
    assert all(len(trace.x) <= 202 for trace in lines.data)
    assert "min and max kept (≤ 202 points per line)" in lines.layout.title.subtitle.text
    for trace, unit in zip(lines.data[2:4], [0, 3], strict=True):  # f of units 0 and 3
        f = long.gates["f"][0, 0, :, unit].double().numpy()
        np.testing.assert_array_equal(np.asarray(trace.y), f[np.asarray(trace.x)])
        assert max(trace.y) == f.max() and min(trace.y) == f.min()


def test_gate_lines_use_unit_colours_and_the_gate_values(result) -> None:
    figure = gate_lines(result, layer=0, batch=1, units=[5, 2])
    assert len(figure.data) == 8  # 4 gates x 2 units
    for n, name in enumerate("ifgo"):
        for k, unit in enumerate([5, 2]):
            trace = figure.data[2 * n + k]
            assert trace.name == f"unit {unit}" and trace.line.color == unit_color(unit)
            np.testing.assert_allclose(
                np.asarray(trace.y), result.gates[name][0, 1, :, unit].double().numpy()
            )


def test_saturation_figure_matches_hand_counts(result) -> None:
    figure = saturation_figure(result, layer=0, batch=0)
    points = [trace for trace in figure.data if trace.mode == "markers"]
    assert [trace.name for trace in points] == ["i", "f", "g", "o"]
    f = result.gates["f"][0, 0]  # (T, H)
    np.testing.assert_allclose(np.asarray(points[1].x), (f < 0.1).double().mean(0).numpy())
    np.testing.assert_allclose(np.asarray(points[1].y), (f > 0.9).double().mean(0).numpy())
    g = result.gates["g"][0, 0]
    np.testing.assert_allclose(np.asarray(points[2].x), (g < -0.9).double().mean(0).numpy())


def test_forget_mean_figure(result) -> None:
    figure = forget_mean_figure(result, layer=1, batch=0)
    bars = figure.data[0]
    np.testing.assert_allclose(
        np.asarray(bars.y), result.gates["f"][1, 0].double().mean(0).numpy(), rtol=1e-12
    )
    assert list(bars.marker.color) == [unit_color(u) for u in range(6)]
    mean = float(np.asarray(bars.y)[0])
    assert bars.customdata[0] == f"≈ {math.log(0.5) / math.log(mean):.1f} steps"
    # A forget gate of exactly 1 never lets C decay: no half-life, not "0.0 steps".
    gates = dict(result.gates, f=torch.ones_like(result.gates["f"]))
    latched = forget_mean_figure(dataclasses.replace(result, gates=gates), layer=1, batch=0)
    assert set(latched.data[0].customdata) == {"never (f̄ = 1)"}


def test_flow_figure_shows_the_numbers_of_the_step(result) -> None:
    breakdown = step_update(result, 1, 0, 17, [1, 4])
    figure = cell_flow_figure(breakdown, 4)
    texts = " ".join(a.text for a in figure.layout.annotations)
    c = result.manual_c[1, 0, 17, 4].item()
    h = result.manual_h[1, 0, 17, 4].item()
    c_prev = result.manual_c[1, 0, 16, 4].item()
    f = result.gates["f"][1, 0, 17, 4].item()
    assert f"C<sub>t</sub> = {c:.4f}" in texts
    assert f"h<sub>t</sub> = {h:.4f}" in texts
    assert f"C<sub>t-1</sub> = {c_prev:.4f}" in texts
    assert f"{f:.4f}" in texts
    assert "step t = 17, unit 4" in figure.layout.title.text
    shapes = {shape.type for shape in figure.layout.shapes}
    assert shapes == {"line", "circle", "rect"}


def test_flow_and_bars_from_the_playground() -> None:
    update = cell_update(**WORKED_EXAMPLE)
    flow = cell_flow_figure(update, 0)
    texts = " ".join(a.text for a in flow.layout.annotations)
    assert "C<sub>t</sub> = 0.6600" in texts and "i ⊙ g = 0.4200" in texts
    assert "f ⊙ C<sub>t-1</sub> = 0.2400" in texts
    bars = playground_figure(update)
    assert [trace.name for trace in bars.data] == ["unit 0", "unit 1"]
    np.testing.assert_allclose(
        np.asarray(bars.data[1].y),
        [
            update.c_prev[1],
            update.kept[1],
            update.written[1],
            update.c[1],
            update.tanh_c[1],
            update.h[1],
        ],
    )
    assert bars.data[1].marker.color == unit_color(1)


def test_builders_validate_their_inputs_first(result) -> None:
    with pytest.raises(ValueError, match="layer must be in"):
        gate_heatmaps(result, layer=2)
    with pytest.raises(ValueError, match="batch item must be in"):
        saturation_figure(result, batch=5)
    with pytest.raises(ValueError, match="units must be in"):
        gate_lines(result, units=[6])
    with pytest.raises(ValueError, match="max_columns"):
        gate_heatmaps(result, max_columns=0)
    with pytest.raises(ValueError, match="not among"):
        cell_flow_figure(step_update(result, 0, 0, 3, [0]), 1)
    with pytest.raises(ValueError, match="not among"):
        cell_flow_figure(cell_update(**WORKED_EXAMPLE), 2)
    with pytest.raises(TypeError):
        playground_figure({"c": [1.0]})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cell_flow_figure(torch.zeros(3), 0)  # type: ignore[arg-type]
