"""AppTest: the text view opens on the shipped code model, and the controls redraw its strips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import APP, APPTEST_TIMEOUT, chart_specs, warm_code_model_views
from streamlit.testing.v1 import AppTest

from lstm_core.learned.charmodel import CharConfig, CharLSTM, unit_name, weights_to_bytes
from lstm_core.learned.labels import KARPATHY_LABELS, LABEL_TITLES
from lstm_core.learned.shipped import SHIPPED_MODELS
from lstm_core.model.source import TRAINED_MODELS
from ui.model_source import (
    FOCUS_KEY,
    MODEL_KEY,
    layer_key,
    units_key,
)
from ui.text_model import MAX_TEXT_CHARS, held_out_table, loaded_model


@pytest.fixture(scope="module", autouse=True)
def loaded_once() -> None:
    """Load the shipped model and its held-out table into the process cache before the page
    runs, as a server does on its first visit: each AppTest run then redraws from the cache."""
    held_out_table("code")
    warm_code_model_views()  # the Explorer's run of it (the last test)


def open_text_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.switch_page("pages/text.py")
    return at.run()


def strip_values(at: AppTest) -> list[np.ndarray]:
    """The C strip's and the h strip's cell values, each flattened (gaps are NaN)."""
    out = []
    for spec in chart_specs(at):
        rows = spec["data"][0]["z"]
        out.append(np.array([np.nan if v is None else v for row in rows for v in row], float))
    return out


def test_the_page_draws_the_c_and_h_strips_of_the_best_unit() -> None:
    at = open_text_page()
    assert not at.exception
    assert not at.error
    assert len(chart_specs(at)) == 2
    table = at.dataframe[0].value
    assert set(table["label"]) == set(LABEL_TITLES.values())
    outside = table["r(C), outside strings"]
    in_string = table["label"] == LABEL_TITLES["in_string"]
    assert outside[in_string].isna().all() and outside[~in_string].notna().all()
    karpathy = [LABEL_TITLES[name] for name in KARPATHY_LABELS]
    firsts = table[(table["rank"] == 1) & table["label"].isin(karpathy)]
    clearest = firsts.loc[firsts["r(C, label)"].abs().idxmax()]
    # It opens on the clearest of the quote, depth and line-position cells, at its best unit.
    label = {title: name for name, title in LABEL_TITLES.items()}[clearest["label"]]
    assert at.selectbox(key="text_label").value == label
    assert at.number_input(key=f"text_unit_code_{label}").value == clearest["unit"]


def test_another_text_changes_the_strips() -> None:
    at = open_text_page()
    before = strip_values(at)
    at.text_area(key="text_input").input('x = ("a", [1, 2])\n').run()
    assert not at.exception
    after = strip_values(at)
    assert all(
        b.shape != a.shape or not np.allclose(b, a, equal_nan=True)
        for b, a in zip(before, after, strict=True)
    )
    assert np.count_nonzero(~np.isnan(after[0])) == len('x = ("a", [1, 2])\n')
    assert any("Loss on this text: " in caption.value for caption in at.caption)


def test_one_character_has_strips_and_no_loss() -> None:
    at = open_text_page()
    at.text_area(key="text_input").input("x").run()
    assert not at.exception and not at.error
    assert [np.count_nonzero(~np.isnan(values)) for values in strip_values(at)] == [1, 1]
    captions = " ".join(caption.value for caption in at.caption)
    assert "Loss: none for one character" in captions and "nan" not in captions


def test_another_label_starts_at_its_best_unit() -> None:
    at = open_text_page()
    at.selectbox(key="text_label").set_value("bracket_depth").run()
    assert not at.exception
    table = at.dataframe[0].value
    best = table[(table["label"] == "bracket depth") & (table["rank"] == 1)]["unit"].item()
    assert at.number_input(key="text_unit_code_bracket_depth").value == best
    title = chart_specs(at)[0]["layout"]["title"]["text"]
    config = loaded_model("code").model.config
    assert title.startswith(f"{unit_name(best, config)}: C<sub>t</sub>")


def pick_row(at: AppTest, row: int, how: str = "rows") -> AppTest:
    """Pick a row of the cell finder's table as a click does: its box ("rows") or a cell."""
    table = at.dataframe[0]
    picked = {"rows": [row], "columns": [], "cells": []}
    if how == "cells":
        picked = {"rows": [], "columns": [], "cells": [(row, "unit")]}
    at.session_state[table.key] = {"selection": picked}
    return at.run()


def test_a_row_picked_in_the_table_shows_its_unit_and_the_pickers_move_on_from_it() -> None:
    at = open_text_page()
    config = loaded_model("code").model.config
    table = at.dataframe[0].value
    row = int(table.index[(table["label"] == "column in the line") & (table["rank"] == 2)][0])
    unit = int(table["unit"][row])
    pick_row(at, row)
    assert not at.exception
    assert at.selectbox(key="text_label").value == "column"
    assert at.number_input(key="text_unit_code_column").value == unit
    assert (at.query_params["cell_label"], at.query_params["cell_unit"]) == ("column", str(unit))
    title = chart_specs(at)[0]["layout"]["title"]["text"]
    assert title.startswith(f"{unit_name(unit, config)}: C<sub>t</sub>")
    first_table = at.dataframe[0].key
    # Moving on with the unit picker: the view is the picker's, and the table is drawn afresh
    # with nothing picked, so a click on the same row shows it again.
    at.number_input(key="text_unit_code_column").set_value(unit + 1).run()
    assert at.number_input(key="text_unit_code_column").value == unit + 1
    assert at.query_params["cell_unit"] == str(unit + 1)
    assert at.dataframe[0].key != first_table
    pick_row(at, row, how="cells")
    assert at.number_input(key="text_unit_code_column").value == unit
    # Another label's row: both pickers follow, in one link.
    depth = int(table.index[(table["label"] == "bracket depth") & (table["rank"] == 1)][0])
    pick_row(at, depth)
    assert at.selectbox(key="text_label").value == "bracket_depth"
    assert at.query_params["cell_unit"] == str(int(table["unit"][depth]))


def test_a_link_opens_on_its_label_and_unit_and_follows_the_controls() -> None:
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.switch_page("pages/text.py")
    at.query_params.update({"cell_label": "column", "cell_unit": "7"})
    at.run()
    assert not at.exception
    assert not at.warning
    assert at.selectbox(key="text_label").value == "column"
    assert at.number_input(key="text_unit_code_column").value == 7
    config = loaded_model("code").model.config
    assert chart_specs(at)[0]["layout"]["title"]["text"].startswith(f"{unit_name(7, config)}:")
    # Later runs keep what the user picks, and the address bar follows it.
    at.number_input(key="text_unit_code_column").set_value(9).run()
    assert (at.query_params["cell_label"], at.query_params["cell_unit"]) == ("column", "9")
    # The sidebar's run settings do not apply here, so the link leaves them out.
    assert set(at.query_params) == {"cell_label", "cell_unit"}
    at.selectbox(key="text_label").set_value("in_string").run()
    assert at.query_params["cell_label"] == "in_string"
    table = at.dataframe[0].value
    best_row = table[(table["label"] == LABEL_TITLES["in_string"]) & (table["rank"] == 1)]
    assert at.query_params["cell_unit"] == str(best_row["unit"].item())


def test_the_address_bar_is_read_again_when_the_page_did_not_write_it() -> None:
    # The browser's Back and Forward, or an edited address, change the URL under a session.
    at = open_text_page()
    label = at.selectbox(key="text_label").value
    at.query_params["cell_unit"] = "5"
    at.run()
    assert not at.exception
    assert at.number_input(key=f"text_unit_code_{label}").value == 5
    assert at.query_params["cell_unit"] == "5"


def test_the_label_and_unit_survive_a_visit_to_another_page() -> None:
    at = open_text_page()
    at.selectbox(key="text_label").set_value("column").run()
    at.number_input(key="text_unit_code_column").set_value(11).run()
    at.switch_page("pages/explorer.py").run()
    assert not at.exception
    at.query_params.clear()  # a page switch in the browser clears the page's own parameters
    at.switch_page("pages/text.py").run()
    assert not at.exception
    assert at.selectbox(key="text_label").value == "column"
    assert at.number_input(key="text_unit_code_column").value == 11


@pytest.mark.parametrize(
    ("params", "ignored"),
    [
        ({"cell_label": "nonsense"}, "cell_label: 'nonsense'"),
        ({"cell_unit": "-1"}, "cell_unit: '-1'"),
        ({"cell_unit": "100000"}, "cell_unit: '100000'"),
        ({"cell_unit": "3.0"}, "cell_unit: '3.0'"),
        ({"cell_unit": "\u00b2"}, "cell_unit: '\u00b2'"),
        ({"cell_unit": "9" * 5000}, "is not a number from 0 to"),
    ],
)
def test_a_bad_link_value_is_named_and_the_page_opens_on_its_defaults(
    params: dict[str, str], ignored: str
) -> None:
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.switch_page("pages/text.py")
    at.query_params.update(params)
    at.run()
    assert not at.exception
    assert any(ignored in warning.value for warning in at.warning)
    assert len(chart_specs(at)) == 2
    rows = held_out_table("code")
    firsts = [row for row in rows if row.rank == 1 and row.label in KARPATHY_LABELS]
    clearest = max(firsts, key=lambda row: abs(row.r_c))
    assert at.selectbox(key="text_label").value == clearest.label
    assert at.number_input(key=f"text_unit_code_{clearest.label}").value == clearest.unit
    assert at.query_params["cell_unit"] == str(clearest.unit)


def test_a_text_over_the_limit_is_cut_to_what_the_view_draws() -> None:
    at = open_text_page()
    # The box takes no more than the view draws (a browser stops a longer paste there, with
    # its count of characters in view), whichever way the text comes.
    assert at.text_area(key="text_input").max_chars == MAX_TEXT_CHARS
    at.session_state["text_input"] = "x = 1\n" * 400
    at.run()
    assert not at.exception and not at.error
    drawn = strip_values(at)
    assert all(np.count_nonzero(~np.isnan(values)) == MAX_TEXT_CHARS for values in drawn)


def test_a_stacked_model_s_units_are_named_by_layer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = CharConfig(hidden_dim=4, embedding_dim=3, num_layers=2)
    weights = tmp_path / "stacked.safetensors"
    model = CharLSTM(config, torch.Generator().manual_seed(5))
    weights.write_bytes(weights_to_bytes(model, {"seed": "0", "steps": "0"}))
    monkeypatch.setitem(SHIPPED_MODELS, "stacked-test", weights)
    at = open_text_page()
    at.selectbox(key="text_model").set_value("stacked-test").run()
    assert not at.exception
    assert any("2 layers of 4 units, numbered 0 to 7" in caption.value for caption in at.caption)
    table = at.dataframe[0].value
    assert set(table["layer"]) <= {0, 1}
    assert (table["layer"] == table["unit"] // 4).all()
    label = at.selectbox(key="text_label").value
    unit_input = at.number_input(key=f"text_unit_stacked-test_{label}")
    assert unit_input.max == 7
    unit_input.set_value(6).run()
    assert not at.exception
    chart_titles = [spec["layout"]["title"]["text"] for spec in chart_specs(at)]
    assert "unit 6 (layer 1, its unit 2): C<sub>t</sub> after each character" in chart_titles
    assert "unit 6 (layer 1, its unit 2): h<sub>t</sub> after each character" in chart_titles


def test_open_in_the_explorer_shows_the_unit_on_the_code_model() -> None:
    at = open_text_page()
    at.selectbox(key="text_label").set_value("column").run()
    at.number_input(key="text_unit_code_column").set_value(300).run()  # layer 1's unit 44
    at.button(key="text_to_explorer").click().run()
    assert not at.exception
    # A page run alone (AppTest's switch_page) has no navigation to switch in; the Explorer
    # the button asks for, run next, opens on that model, label, layer and unit.
    assert at.session_state[MODEL_KEY] == TRAINED_MODELS["code"]
    at.switch_page("pages/explorer.py").run()
    assert not at.exception and not at.error and not at.warning
    assert at.selectbox(key=FOCUS_KEY).value == "column"
    assert at.selectbox(key=layer_key("column")).value == 1
    assert at.multiselect(key=units_key("column")).value == [44]
    assert "unit 44 of layer 1's C" in chart_specs(at)[1]["layout"]["title"]["text"]
