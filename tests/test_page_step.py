"""pages/step.py (AppTest): the time control (previous, next, slider, play) steps through a run."""

from __future__ import annotations

import numpy as np
from conftest import chart_specs, open_page
from streamlit.testing.v1 import AppTest

from lstm_core import RunConfig, simulate


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
    assert f"Step t = {t} (of 0 to" in at.subheader[0].value


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
