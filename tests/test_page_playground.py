"""pages/playground.py (AppTest): opens on the worked example, follows the controls, and reads the
update in plain words."""

from __future__ import annotations

import math

import pytest
from conftest import APP, APPTEST_TIMEOUT, chart_specs, open_page
from streamlit.testing.v1 import AppTest

from lstm_core.model.cell import GATE_RANGES, WORKED_EXAMPLE, cell_update


def reading(**gates: float) -> str:
    """The page's sentence for unit 0 with its gates set to `gates`."""
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.switch_page("pages/playground.py")
    at.run()
    for name, value in gates.items():
        at.session_state[f"playground_{name}_0"] = value
    at.run()
    assert not at.exception, at.exception
    return next(m.value for m in at.markdown if m.value.startswith("**Unit 0.**"))


def test_the_reading_names_what_the_update_did() -> None:
    # The worked example's unit 0: keeps 80 % of C 0.3, writes 0.6 × 0.7, shows 90 % of tanh.
    text = reading()
    assert "forgets 20%" in text and "writes +0.42" in text and "shows 90%" in text
    text = reading(c_prev=1.0, f=0.99, i=0.0, o=0.0)
    assert "keeps almost all" in text and "writes almost nothing" in text
    assert "keeps C_t = 0.99 hidden" in text
    assert "wipes almost all" in reading(f=0.05)


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


def test_each_gate_slider_spans_that_gates_range() -> None:
    at = open_page("playground")
    for name, (low, high) in GATE_RANGES.items():
        slider = at.slider(key=f"playground_{name}_0")
        assert (slider.min, slider.max) == (low, high)
