"""lstm_core.trace on modules in memory, its tidy frame, the figures on it, the README example."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from lstm_steps import one_thread, step_plain
from torch import nn

import lstm_core
from lstm_core import trace
from lstm_core.figures.states import state_figure
from lstm_core.figures.traced import (
    FLIP_MIN_R,
    defined_label,
    label_figure,
    projected_states_figure,
    trace_view,
)
from lstm_core.model.trace import step_rows

pytestmark = pytest.mark.usefixtures(one_thread.__name__)
ROOT = Path(__file__).resolve().parents[1]


def _bidirectional_projected() -> nn.LSTM:
    torch.manual_seed(0)
    return nn.LSTM(3, 5, 2, bidirectional=True, proj_size=2)


def test_batch_first_or_not_or_unbatched_give_the_same_trace() -> None:
    lstm = _bidirectional_projected()
    x = torch.randn(6, 2, 3, generator=torch.Generator().manual_seed(1))  # (T, B, I)
    seq_first = trace(lstm, x)
    batch_first = nn.LSTM(3, 5, 2, bidirectional=True, proj_size=2, batch_first=True)
    batch_first.load_state_dict(lstm.state_dict())
    assert torch.equal(trace(batch_first, x.transpose(0, 1)).h, seq_first.h)
    single = trace(lstm, x[:, 1])  # (T, I): one batch item
    torch.testing.assert_close(single.h[:, :, 0], seq_first.h[:, :, 1])
    h_plain, c_plain = step_plain(batch_first, x.transpose(0, 1).contiguous())
    torch.testing.assert_close(seq_first.manual_h, h_plain, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(seq_first.c, c_plain, rtol=1e-5, atol=1e-5)
    output, (h_n, c_n) = lstm(x)
    torch.testing.assert_close(seq_first.output, output.detach().transpose(0, 1))
    torch.testing.assert_close(seq_first.h_n, h_n.detach())
    torch.testing.assert_close(seq_first.c_n, c_n.detach())


def test_an_initial_state_and_float64() -> None:
    lstm = _bidirectional_projected().double()
    generator = torch.Generator().manual_seed(2)
    x = torch.randn(4, 3, 3, dtype=torch.float64, generator=generator)
    state = (
        torch.randn(4, 3, 2, dtype=torch.float64, generator=generator),
        torch.randn(4, 3, 5, dtype=torch.float64, generator=generator),
    )
    traced = trace(lstm, x, initial_state=state)
    output, (_, c_n) = lstm(x, state)
    torch.testing.assert_close(traced.output, output.detach().transpose(0, 1))
    torch.testing.assert_close(traced.c_n, c_n.detach())
    assert traced.max_abs_diff["h"] <= 1e-12 and traced.max_abs_diff["c"] <= 1e-12
    # Where a direction begins, its C_{t-1} is the given c_0 (slot k·D + d: layer k, direction
    # d), in the step table and in the chart's hover alike.
    for direction, first in ((0, 0), (1, traced.seq_len - 1)):
        rows, _ = step_rows(traced, layer=1, direction=direction, batch=2, step=first)
        start = state[1][2 + direction, 2]  # (H,)
        np.testing.assert_allclose([row["C_{t-1}"] for row in rows], start.numpy())
        c_line = lstm_core.states_figure(traced, 1, direction, 2, units=[4]).data[1]
        f, c_prev, i, g = np.asarray(c_line.customdata, dtype=np.float64).T
        assert c_prev[first] == pytest.approx(float(start[4]), rel=1e-6)
        np.testing.assert_allclose(f * c_prev + i * g, c_line.y, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"h_0 has shape \(4, 3, 5\); this LSTM needs \(4, 3, 2\)"):
        trace(lstm, x, initial_state=(state[1], state[1]))


def test_bad_input_is_refused_in_one_sentence() -> None:
    lstm = _bidirectional_projected()
    with pytest.raises(ValueError, match="x has 4 features per step but the LSTM reads 3"):
        trace(lstm, torch.zeros(5, 1, 4))
    with pytest.raises(ValueError, match=r"trace takes an nn\.LSTM, got GRU"):
        trace(nn.GRU(3, 5), torch.zeros(5, 1, 3))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="100 states is above max_states = 99"):
        trace(lstm, torch.zeros(5, 1, 3), max_states=99)
    with pytest.raises(ValueError, match="float32 or float64"):
        trace(nn.LSTM(3, 5).half(), torch.zeros(5, 1, 3))


def test_the_mean_forget_gate_of_a_gate_set_by_its_bias_alone() -> None:
    lstm = nn.LSTM(2, 3, num_layers=2, bidirectional=True, batch_first=True)
    with torch.no_grad():
        for name, parameter in lstm.named_parameters():
            parameter.zero_()
            if name.startswith("bias_ih_l1_reverse"):
                parameter[3:6] = 2.0  # PyTorch's gate order i, f, g, o: the f block
    t = trace(lstm, torch.randn(2, 5, 2, generator=torch.Generator().manual_seed(0)))
    assert t.mean_forget(1, 1, 0) == pytest.approx(1 / (1 + np.exp(-2.0)))  # σ(2)
    assert t.mean_forget(0, 0, 1) == pytest.approx(0.5)  # σ(0)


def test_the_frame_has_one_row_per_state_value() -> None:
    lstm = _bidirectional_projected()
    traced = trace(lstm, torch.randn(4, 2, 3, generator=torch.Generator().manual_seed(3)))
    frame = traced.frame()
    assert len(frame) == 2 * 2 * 2 * 4 * 5  # layers, directions, batch, steps, units
    assert list(frame.columns[:5]) == ["layer", "direction", "batch", "t", "unit"]
    assert {"h", "c", "i", "f", "g", "o", "manual_h", "manual_c", "o_tanh_c"} <= set(frame)
    row = frame[(frame.layer == 1) & (frame.direction == 1) & (frame.batch == 0) & (frame.t == 2)]
    np.testing.assert_array_equal(row.c.to_numpy(), traced.c[1, 1, 0, 2].numpy())
    np.testing.assert_array_equal(row.f.to_numpy(), traced.gates["f"][1, 1, 0, 2].numpy())
    np.testing.assert_array_equal(row.h.to_numpy()[:2], traced.h[1, 1, 0, 2].numpy())
    assert row.h.isna().sum() == 3  # h is proj_size = 2 wide, C 5


def test_the_explorer_figure_on_a_trace_draws_that_layer_and_direction() -> None:
    lstm = nn.LSTM(3, 4, 2, bidirectional=True)
    traced = trace(lstm, torch.randn(1, 8, 3), initial_state=None)
    figure = lstm_core.states_figure(traced, layer=1, direction=1, batch=0, units=[2])
    h_line, c_line = figure.data[0], figure.data[1]
    np.testing.assert_allclose(h_line.y, traced.h[1, 1, 0, :, 2].numpy())
    np.testing.assert_allclose(c_line.y, traced.c[1, 1, 0, :, 2].numpy())
    assert "layer 1, reverse direction" in figure.layout.title.text
    assert "seed" not in figure.layout.title.text
    # The same builder as the Explorer's: equal traces, only the title names the model.
    same = state_figure(trace_view(traced, 1), layer=1, batch=0, units=[2])  # type: ignore[arg-type]
    assert len(same.data) == len(figure.data)
    for ours, explorers in zip(figure.data, same.data, strict=True):
        for key in ("x", "y", "customdata", "hovertemplate", "name"):
            np.testing.assert_array_equal(ours[key], explorers[key])
    # The hover's update adds up in both directions: f_t C_prev + i_t g_t = C_t, where the
    # reverse direction's C_prev is the state at t + 1 (0 after the last step).
    steps = trace(lstm, torch.randn(6, 1, 3, generator=torch.Generator().manual_seed(4)))
    for direction in (0, 1):
        c_trace = lstm_core.states_figure(steps, 1, direction, 0, units=[2]).data[1]
        f, c_prev, i, g = np.asarray(c_trace.customdata, dtype=np.float64).T
        np.testing.assert_allclose(f * c_prev + i * g, c_trace.y, rtol=1e-4, atol=1e-5)
        assert c_prev[0 if direction == 0 else -1] == 0.0
    for build in (lstm_core.states_heatmap, lstm_core.gates_figure, lstm_core.gate_lines_figure):
        assert "reverse direction" in build(traced, 0, 1).layout.title.text
    with pytest.raises(ValueError, match=r"direction must be in 0\.\.1"):
        lstm_core.states_figure(traced, direction=2)


def test_a_projected_trace_draws_o_tanh_c_and_says_so() -> None:
    traced = trace(_bidirectional_projected(), torch.randn(7, 1, 3))
    figure = lstm_core.states_figure(traced, layer=0, direction=0, units=[4])
    np.testing.assert_allclose(figure.data[0].y, traced.unprojected_h[0, 0, 0, :, 4].numpy())
    assert "before its projection" in figure.layout.annotations[0].text
    torch.testing.assert_close(
        traced.manual_h[0, 0],
        traced.unprojected_h[0, 0] @ _bidirectional_projected().weight_hr_l0.detach().t(),
    )


def test_a_projected_lstms_h_and_c_panels_do_not_share_unit_colours() -> None:
    traced = trace(_bidirectional_projected(), torch.randn(7, 1, 3))  # P = 2, H = 5
    figure = projected_states_figure(traced, layer=1, direction=0)
    lines = {line.name: line for line in figure.data}
    assert set(lines) == {"h unit 0", "h unit 1", *(f"C unit {k}" for k in range(5))}
    np.testing.assert_allclose(lines["h unit 1"].y, traced.h[1, 0, 0, :, 1].numpy())
    np.testing.assert_allclose(lines["C unit 4"].y, traced.c[1, 0, 0, :, 4].numpy())
    h_colours = {lines[f"h unit {k}"].line.color for k in range(2)}
    assert len(h_colours) == 2
    assert not h_colours & {lines[f"C unit {k}"].line.color for k in range(5)}


def test_the_label_chart_draws_the_label_and_the_units_c_and_h_on_its_own_axis() -> None:
    torch.manual_seed(0)
    traced = trace(nn.LSTM(3, 4, 2), torch.randn(12, 1, 3))  # (T, B, I)
    cell_state = traced.c[1, 0, 0, :, 2]  # (T,)
    for sign in (1.0, -1.0):
        label = (sign * cell_state)[None].clone()  # (B, T): a label that C follows exactly
        label[0, :3] = float("nan")  # undefined steps are left out of the sign
        figure = label_figure(traced, label, "depth", unit=2, layer=1)
        drawn_label, c_line, second_label, h_line = figure.data  # C's row, then h's
        np.testing.assert_allclose(drawn_label.y[3:], label[0, 3:].numpy())
        np.testing.assert_allclose(second_label.y[3:], label[0, 3:].numpy())
        np.testing.assert_allclose(c_line.y, cell_state.numpy())
        np.testing.assert_allclose(h_line.y, traced.h[1, 0, 0, :, 2].numpy())
        assert c_line.line.color != h_line.line.color
        # Each state on its own right axis, beside the label on the left.
        assert (drawn_label.yaxis, c_line.yaxis, second_label.yaxis, h_line.yaxis) == (
            "y",
            "y2",
            "y3",
            "y4",
        )
        c_axis = figure.layout.yaxis2
        assert c_axis.showgrid is False and c_axis.tickmode == "auto"
        if sign > 0:
            assert c_axis.autorange is True and "upside down" not in c_axis.title.text
        else:
            assert c_axis.autorange == "reversed"
            assert c_axis.title.text == "C (upside down)"
            assert "r(C, depth) = -1.00" in figure.layout.title.text
    # A weak r's sign says nothing: the axis stays the right way up.
    noise = torch.randn(12, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    label = (noise - 0.05 * cell_state.double())[None]  # (B, T)
    drawn_r = float(np.corrcoef(cell_state.double(), label[0])[0, 1])
    assert -FLIP_MIN_R < drawn_r < 0
    figure = label_figure(traced, label, "depth", unit=2, layer=1)
    assert figure.layout.yaxis2.autorange is True
    assert "r(C, depth)" not in figure.layout.title.text
    with pytest.raises(ValueError, match=r"label must be \(B, T\)"):
        label_figure(traced, cell_state[None, :5], "depth", unit=2)


def test_the_readme_notebook_example_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- notebook-example -->\n```python\n(.*?)```", readme, re.DOTALL)
    assert found, "README.md has no notebook example after <!-- notebook-example -->"
    namespace: dict[str, object] = {}
    exec(compile(found.group(1), "README.md", "exec"), namespace)
    traced = namespace["t"]
    assert isinstance(traced, lstm_core.Trace)
    assert traced.h.shape == (2, 2, 2, 50, 4) and traced.c.shape == (2, 2, 2, 50, 8)
    assert traced.max_abs_diff["h"] <= 1e-5 and traced.max_abs_diff["c"] <= 1e-5
    assert len(namespace["frame"]) == 2 * 2 * 2 * 50 * 8  # type: ignore[arg-type]
    assert namespace["figure"].data  # type: ignore[attr-defined]


def test_a_label_is_read_where_it_is_defined() -> None:
    label = torch.tensor([[0.0, float("nan"), 2.0], [float("nan")] * 3])  # (B, T)
    assert defined_label(label, 0).tolist() == [0.0, 2.0]
    assert defined_label(label, 1).numel() == 0
