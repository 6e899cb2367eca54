"""AppTest of the "Inside the cell" pages: gates, step-through, playground, shapes."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import APP, APPTEST_TIMEOUT, ROOT, chart_specs, decode
from streamlit.testing.v1 import AppTest
from torch import nn

from lstm_core import RunConfig, simulate
from lstm_core.figures.downsample import heatmap_columns
from lstm_core.model.cell import WORKED_EXAMPLE, cell_update


def open_page(page: str, **settings: object) -> AppTest:
    """Run `page` with sidebar values given through session_state (AppTest reruns only the page)."""
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    for key, value in settings.items():
        at.session_state[key] = value
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, at.exception
    return at


def test_gates_page_draws_every_figure() -> None:
    at = open_page("gates", hidden_dim=6, seq_len=40)
    assert not at.error
    specs = chart_specs(at)
    assert len(specs) == 4  # heatmaps, picked-unit lines, saturation, mean forget gate
    heatmaps, lines, _saturation, forget = specs
    assert [trace["name"] for trace in heatmaps["data"]] == ["i", "f", "g", "o"]
    assert decode(heatmaps["data"][0]["x"]).size == 40
    assert {trace["name"] for trace in lines["data"]} == {f"unit {u}" for u in range(4)}
    assert len(decode(forget["data"][0]["y"])) == 6
    at.multiselect(key="gates_units").set_value([5]).run()
    assert {trace["name"] for trace in chart_specs(at)[1]["data"]} == {"unit 5"}


def test_gates_page_bins_long_runs_for_the_screen() -> None:
    at = open_page("gates", hidden_dim=64, seq_len=3000)
    heatmaps = chart_specs(at)[0]
    columns = heatmap_columns(3000, 64)  # 768: the cell cap, not the 1000-column cap, binds
    assert columns < 1000
    for trace in heatmaps["data"]:
        assert decode(trace["z"]).size == 64 * columns
    assert any(f"averaged over {columns}" in caption.value for caption in at.caption)


def step_numbers(at: AppTest) -> dict[str, np.ndarray]:
    table = at.dataframe[0].value  # the page's only table
    return {column: table[column].to_numpy() for column in table.columns}


def check_step(at: AppTest, result, t: int, units: list[int]) -> None:
    """The written-out numbers on the page equal the run's tensors at step t."""
    assert at.session_state["step_t"] == t
    numbers = step_numbers(at)
    assert numbers["unit"].tolist() == units
    manual_c = result.manual_c[0, 0, t, units].double().numpy()
    np.testing.assert_array_equal(numbers["C_t"], manual_c)
    np.testing.assert_array_equal(numbers["h_t"], result.manual_h[0, 0, t, units].double().numpy())
    np.testing.assert_array_equal(numbers["nn.LSTM C_t"], result.c[0, 0, t, units].double().numpy())
    for name in "ifgo":
        np.testing.assert_array_equal(
            numbers[f"{name}_t"], result.gates[name][0, 0, t, units].double().numpy()
        )
    previous = np.zeros(len(units)) if t == 0 else result.manual_c[0, 0, t - 1, units].double()
    np.testing.assert_array_equal(numbers["C_{t-1}"], np.asarray(previous))
    np.testing.assert_allclose(numbers["f⊙C_{t-1}"] + numbers["i⊙g"], numbers["C_t"], rtol=1e-6)
    latex = " ".join(element.value for element in at.latex)
    assert f"= {manual_c[0]:.4f}" in latex
    assert f"Step t = {t} of" in at.subheader[0].value


def test_time_control_previous_next_slider_and_play() -> None:
    config = RunConfig(hidden_dim=5, seq_len=12)
    result = simulate(config)
    at = open_page("step", hidden_dim=5, seq_len=12)
    units = [0, 1, 2]
    # It opens on t = 1: C_{t-1} is a state of the run, not the zero start.
    check_step(at, result, 1, units)
    assert np.all(step_numbers(at)["C_{t-1}"] != 0)
    at.button(key="step_prev").click().run()
    check_step(at, result, 0, units)
    at.button(key="step_next").click().run()
    at.button(key="step_next").click().run()
    at.button(key="step_next").click().run()
    check_step(at, result, 3, units)
    at.button(key="step_prev").click().run()
    check_step(at, result, 2, units)
    at.slider(key="step_t").set_value(11).run()
    check_step(at, result, 11, units)
    at.button(key="step_next").click().run()  # stays on the last step
    check_step(at, result, 11, units)
    at.multiselect(key="step_units").set_value([4, 1]).run()
    check_step(at, result, 11, [4, 1])
    # The diagram shows the picked unit's numbers at that step.
    flow = chart_specs(at)[0]
    texts = " ".join(a["text"] for a in flow["layout"]["annotations"])
    assert f"C<sub>t</sub> = {result.manual_c[0, 0, 11, 4].item():.4f}" in texts
    # Play from the last step starts again at 0 and moves one step per frame; Stop stops.
    at.button(key="step_play").click().run()
    assert at.session_state["step_playing"] is True
    assert at.button(key="step_play").label == "⏸ Stop"
    check_step(at, result, 1, [4, 1])
    at.button(key="step_play").click().run()
    assert at.session_state["step_playing"] is False
    check_step(at, result, 1, [4, 1])


def test_time_control_on_a_later_layer_and_a_single_step_run() -> None:
    at = open_page("step", hidden_dim=3, seq_len=1, num_layers=2, batch_size=2)
    assert "single step" in " ".join(m.value for m in at.markdown)
    at.selectbox(key="step_layer").set_value(1).run()
    at.selectbox(key="step_batch").set_value(1).run()
    result = simulate(RunConfig(hidden_dim=3, seq_len=1, num_layers=2, batch_size=2))
    numbers = step_numbers(at)
    np.testing.assert_array_equal(numbers["h_t"], result.manual_h[1, 1, 0].double().numpy())


def test_step_clamps_t_when_the_run_gets_shorter() -> None:
    at = open_page("step", seq_len=30)
    at.slider(key="step_t").set_value(25).run()
    at.session_state["seq_len"] = 10
    at.run()
    assert not at.exception
    assert at.session_state["step_t"] == 9


def playground_numbers(at: AppTest) -> dict[str, list[float]]:
    table = at.dataframe[0].value  # the page's only table
    return {column: table[column].tolist() for column in table.columns}


def test_playground_opens_on_the_worked_example() -> None:
    at = open_page("playground")
    numbers = playground_numbers(at)
    expected = cell_update(**WORKED_EXAMPLE)
    assert numbers["C_t"] == pytest.approx([0.66, -0.04])
    assert numbers["C_t"] == expected.c and numbers["h_t (exposed)"] == expected.h
    assert numbers["f⊙C_{t-1} (kept)"] == pytest.approx([0.24, 0.0])
    assert numbers["i⊙g (written)"] == pytest.approx([0.42, -0.04])
    assert expected.h == pytest.approx([0.9 * math.tanh(0.66), 0.3 * math.tanh(-0.04)])
    readings = " ".join(m.value for m in at.markdown)
    assert "Unit 0." in readings and "forgets 20%" in readings
    assert [trace["name"] for trace in chart_specs(at)[0]["data"]] == ["unit 0", "unit 1"]


def test_playground_follows_the_controls() -> None:
    at = open_page("playground")
    at.number_input(key="playground_units").set_value(3).run()
    at.slider(key="playground_f_0").set_value(0.25).run()
    at.slider(key="playground_g_2").set_value(-0.75).run()
    at.number_input(key="playground_c_prev_2").set_value(2.0).run()
    assert not at.exception
    values = {
        name: [at.session_state[f"playground_{name}_{u}"] for u in range(3)]
        for name in ("c_prev", "f", "i", "g", "o")
    }
    assert values["f"][0] == 0.25 and values["g"][2] == -0.75 and values["c_prev"][2] == 2.0
    expected = cell_update(**values)
    numbers = playground_numbers(at)
    assert numbers["C_t"] == expected.c and numbers["h_t (exposed)"] == expected.h
    at.button(key="playground_example").click().run()
    assert playground_numbers(at)["C_t"] == cell_update(**WORKED_EXAMPLE).c


def plain_lstm_shapes(config: RunConfig) -> dict[str, tuple[int, ...]]:
    """Shapes from plain PyTorch, independent of the app's code."""
    torch.manual_seed(0)
    lstm = nn.LSTM(config.input_dim, config.hidden_dim, config.num_layers, batch_first=True)
    x = torch.randn(config.batch_size, config.seq_len, config.input_dim)
    output, (h_n, c_n) = lstm(x)
    shapes = {"input x": x.shape, "output": output.shape, "h_n": h_n.shape, "c_n": c_n.shape}
    shapes.update({name: p.shape for name, p in lstm.named_parameters()})
    return {name: tuple(shape) for name, shape in shapes.items()}


def page_shapes(at: AppTest) -> dict[str, tuple[int, ...]]:
    rows = {}
    # The page's two tables: input and outputs first, then the weights.
    for index, column in ((0, "tensor"), (1, "parameter")):
        table = at.dataframe[index].value
        for name, text in zip(table[column], table["shape"], strict=True):
            rows[name] = tuple(int(n) for n in text.strip("(,)").split(",") if n.strip())
    return rows


@pytest.mark.parametrize(
    "sizes",
    [
        {"batch_size": 1, "seq_len": 7, "input_dim": 3, "hidden_dim": 2, "num_layers": 1},
        {"batch_size": 3, "seq_len": 5, "input_dim": 4, "hidden_dim": 6, "num_layers": 3},
        {"batch_size": 8, "seq_len": 2, "input_dim": 1, "hidden_dim": 9, "num_layers": 2},
    ],
)
def test_shapes_equal_real_tensor_shapes(sizes: dict[str, int]) -> None:
    at = open_page("shapes", **sizes)
    assert page_shapes(at) == plain_lstm_shapes(RunConfig(**sizes))


def test_shapes_preset_button_loads_the_brief_example() -> None:
    at = open_page("shapes", hidden_dim=3)
    at.button(key="shapes_preset").click().run()
    assert not at.exception
    assert (at.session_state["batch_size"], at.session_state["seq_len"]) == (2, 4)
    shapes = page_shapes(at)
    assert shapes["input x"] == (2, 4, 5)
    assert shapes["output"] == (2, 4, 8)
    assert shapes["h_n"] == (1, 2, 8) and shapes["c_n"] == (1, 2, 8)
    assert shapes["weight_ih_l0"] == (32, 5) and shapes["weight_hh_l0"] == (32, 8)
    assert shapes["bias_ih_l0"] == (32,)


def test_cli_gates_reproduce_a_real_step() -> None:
    """`python -m lstm_core gates` fed a run's gates at step t gives that run's C_t and h_t."""
    config = RunConfig(input_dim=3, hidden_dim=4, seq_len=9, dtype="float64")
    result = simulate(config)
    t = 6
    vectors = {
        "--c-prev": result.c[0, 0, t - 1],
        "--f": result.gates["f"][0, 0, t],
        "--i": result.gates["i"][0, 0, t],
        "--g": result.gates["g"][0, 0, t],
        "--o": result.gates["o"][0, 0, t],
    }
    # flag=value: argparse would take a leading "-0.3,..." for an option name.
    args = [f"{flag}={','.join(map(repr, v.tolist()))}" for flag, v in vectors.items()]
    done = subprocess.run(
        [sys.executable, "-m", "lstm_core", "gates", *args, "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    torch.testing.assert_close(torch.tensor(payload["c"], dtype=torch.float64), result.c[0, 0, t])
    torch.testing.assert_close(torch.tensor(payload["h"], dtype=torch.float64), result.h[0, 0, t])
