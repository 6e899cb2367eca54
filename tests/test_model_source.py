"""The model source: a loaded checkpoint or a trained task model, run and shown on every page."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import APP, APPTEST_TIMEOUT, chart_specs, decode, warm_code_model_views
from safetensors.torch import save
from streamlit.testing.v1 import AppTest
from torch import nn

from lstm_core.analysis.cell_finder import unit_r
from lstm_core.figures.text import text_around
from lstm_core.io.reproduce_source import source_script, source_script_name
from lstm_core.learned import held_out_text, label_text, load_text_model
from lstm_core.learned.charmodel import encode, expected_next, quoted_char, stacked_unit_name
from lstm_core.learned.labels import KARPATHY_LABELS, LABEL_TITLES
from lstm_core.learned.outcome import TrainOutcome, weights_file_name
from lstm_core.learned.tasks import (
    get_task,
    held_out_batch,
    model_from_state,
    task_spec,
    train_task,
)
from lstm_core.model.source import (
    CODE_VIEW_CHARS,
    ModelSource,
    SourceRun,
    rank_cells,
    run_source,
    sha256,
)
from lstm_core.model.trace import UNPROJECTED_HEADING, step_rows
from ui.model_source import (
    FOCUS_KEY,
    INPUT_KEY,
    MODEL_KEY,
    OWN_WEIGHTS_KEY,
    PREFIX_KEY,
    SHIPPED,
    TRAINED_HERE,
    TRAINED_HERE_KEY,
    WEIGHTS_KEY,
    layer_key,
    source_cells_or_stop,
    units_key,
)


@pytest.fixture(scope="module", autouse=True)
def code_model_run_once() -> None:
    warm_code_model_views()


def projected_bidirectional() -> tuple[nn.LSTM, bytes]:
    """A 2-layer bidirectional nn.LSTM with proj_size 3 (hidden 5, input 4), as safetensors."""
    torch.manual_seed(7)
    lstm = nn.LSTM(4, 5, num_layers=2, bidirectional=True, proj_size=3, batch_first=True)
    return lstm, save(lstm.state_dict())


def test_a_checkpoint_source_equals_plain_pytorch() -> None:
    lstm, data = projected_bidirectional()
    source = ModelSource(kind="file", file_sha256=sha256(data), seq_len=12, batch_size=2, seed=3)
    run = run_source(source, data)
    x = torch.randn(2, 12, 4, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        output, (h_n, c_n) = lstm(x)
    torch.testing.assert_close(run.trace.x, x)
    torch.testing.assert_close(run.trace.h_n, h_n)
    torch.testing.assert_close(run.trace.c_n, c_n)
    torch.testing.assert_close(run.trace.output, output)
    assert run.trace.h.shape == (2, 2, 2, 12, 3) and run.trace.c.shape == (2, 2, 2, 12, 5)


def test_a_checkpoint_source_checks_the_input_and_the_bytes() -> None:
    _, data = projected_bidirectional()
    source = ModelSource(kind="file", file_sha256=sha256(data), input_sha256="x")
    with pytest.raises(ValueError, match="features per step but the LSTM reads 4"):
        run_source(source, data, np.zeros((6, 2)))
    with pytest.raises(ValueError, match="beyond float32's range"):
        run_source(source, data, np.full((6, 4), 1e39))
    with pytest.raises(ValueError, match="not the file"):
        run_source(source, data + b"0")


def test_the_shipped_brackets_model_counts_in_c() -> None:
    run = run_source(ModelSource(kind="brackets", batch_size=2))
    depth = rank_cells(ModelSource(kind="brackets")).cells["depth"]
    assert abs(depth.r_c) >= 0.99  # the bar for a counting cell
    assert abs(depth.best_r_h) < abs(depth.r_c)  # h shows a squashed view
    # x is what the nn.LSTM reads: the embedded held-out tokens
    assert run.trace.x.shape == (2, 64, run.spec.input_size)
    assert run.labels["depth"].shape == (2, 64)


def assert_script_reruns(script: Path, run: SourceRun, *args: str) -> None:
    """Run a reproduce script that imports this repository's lstm_core; its printed final
    states must be the app's."""
    repository = str(Path(__file__).resolve().parents[1])
    done = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": repository},
    )
    printed = json.loads(done.stdout.strip().splitlines()[-1])
    torch.testing.assert_close(torch.tensor(printed["h_n"]), run.trace.h_n)
    torch.testing.assert_close(torch.tensor(printed["c_n"]), run.trace.c_n)


@pytest.fixture(scope="module")
def recall_trained_here() -> TrainOutcome:
    """A recall model as the Memory lab trains one: seed 3, T = 20, a few steps."""
    return train_task(task_spec("recall", seed=3, hidden_dim=5, steps=30, seq_len=20))


def test_a_task_model_trained_in_a_session_reads_the_held_out_data_of_its_own_seed(
    recall_trained_here: TrainOutcome,
) -> None:
    weights = recall_trained_here.to_bytes()
    source = ModelSource(kind="recall", file_sha256=sha256(weights), batch_size=3)
    run = run_source(source, weights)
    task = get_task("recall")
    model = model_from_state("recall", recall_trained_here.state)
    test = held_out_batch(task, 3, 20)  # its seed and length, not the shipped model's
    with torch.no_grad():
        output, (h_n, c_n) = model.recurrent(test.inputs[:3])
    torch.testing.assert_close(run.trace.x, test.inputs[:3])
    torch.testing.assert_close(run.trace.output, output)
    torch.testing.assert_close(run.trace.h_n, h_n)
    torch.testing.assert_close(run.trace.c_n, c_n)
    assert "trained in the app's Memory lab (seed 3, 5 units, 30 steps)" in run.description
    # Ranked on all of its held-out sequences: the cells the training itself found.
    ranking = rank_cells(source, weights)
    for label, match in recall_trained_here.cells.items():
        assert ranking.cells[label].unit == match.unit
        assert ranking.cells[label].r_c == pytest.approx(match.r_c, abs=1e-5)
    with pytest.raises(ValueError, match="not the weights the source names"):
        run_source(source, weights + b"0")
    with pytest.raises(ValueError, match="not the weights the source names"):
        rank_cells(source)
    brackets = ModelSource(kind="brackets", file_sha256=sha256(weights))
    with pytest.raises(ValueError, match="hold a recall model, not a brackets one"):
        run_source(brackets, weights)


def test_a_task_models_reproduce_script_reads_its_own_seed(
    tmp_path: Path, recall_trained_here: TrainOutcome
) -> None:
    weights = recall_trained_here.to_bytes()
    run = run_source(ModelSource(kind="recall", file_sha256=sha256(weights), batch_size=2), weights)
    path = tmp_path / weights_file_name(recall_trained_here.metadata)
    assert path.name == "recall_H5_T20_seed3_steps30.safetensors"
    path.write_bytes(weights)
    script = tmp_path / source_script_name(run)
    script.write_text(source_script(run, path.name))
    assert_script_reruns(script, run, str(path))


def test_a_shipped_models_script_runs_as_downloaded_and_says_what_it_needs(
    tmp_path: Path,
) -> None:
    run = run_source(ModelSource(kind="brackets"))
    script = tmp_path / source_script_name(run)
    script.write_text(source_script(run, "brackets.safetensors"))
    assert_script_reruns(script, run)  # no argument: the shipped file
    # Without this repository on the path, or with a wrong file: one line that says what to do.
    outside = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    for args, env, said in (
        ([], outside, "needs the LSTM State Explorer's lstm_core: run it as PYTHONPATH="),
        (["missing.safetensors"], None, "No weights file missing.safetensors"),
    ):
        done = subprocess.run(
            [sys.executable, str(script), *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env or {**outside, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        )
        assert done.returncode == 1 and said in done.stderr, done.stderr


def test_the_sidebar_switches_between_the_shipped_model_and_the_one_trained_here(
    recall_trained_here: TrainOutcome,
) -> None:
    weights = recall_trained_here.to_bytes()
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.session_state[MODEL_KEY] = "Trained: recall"
    at.session_state[TRAINED_HERE_KEY] = {"recall": (sha256(weights), weights)}
    at.run()
    assert not at.exception
    weights_switch = at.radio(key=OWN_WEIGHTS_KEY + "recall")
    assert weights_switch.value == SHIPPED  # the switch's default, before any choice
    shipped = "trained by `python -m lstm_core train --task recall`"
    assert any(shipped in c.value for c in at.caption)
    weights_switch.set_value(TRAINED_HERE).run()
    assert not at.exception
    assert any("Memory lab (seed 3, 5 units, 30 steps)" in c.value for c in at.caption)


def test_the_learned_counter_shows_the_shipped_counter_after_one_trained_here() -> None:
    weights = train_task(
        task_spec("brackets", seed=1, hidden_dim=4, steps=5, seq_len=16)
    ).to_bytes()
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.session_state[MODEL_KEY] = "Trained: brackets"
    at.session_state[TRAINED_HERE_KEY] = {"brackets": (sha256(weights), weights)}
    at.session_state[OWN_WEIGHTS_KEY + "brackets"] = TRAINED_HERE
    at.run()
    assert any("Memory lab (seed 1, 4 units, 5 steps)" in c.value for c in at.caption)
    at.button(key="preset_learned_counter").click().run()
    assert not at.exception
    assert any(
        "trained by `python -m lstm_core train --task brackets`" in c.value for c in at.caption
    )


def test_the_code_model_reads_its_held_out_source_as_plain_pytorch_does() -> None:
    run = run_source(ModelSource(kind="code"))
    model, metadata = load_text_model("code")
    source = held_out_text(int(metadata["seed"]))
    text = source.text[:CODE_VIEW_CHARS]
    assert run.text == text and run.trace.seq_len == len(text)
    with torch.no_grad():
        x = model.embedding(encode(text)[None])  # (1, T, E)
        output, (h_n, c_n) = model.lstm(x)
    torch.testing.assert_close(run.trace.x, x)
    torch.testing.assert_close(run.trace.output, output)
    torch.testing.assert_close(run.trace.h_n, h_n)
    torch.testing.assert_close(run.trace.c_n, c_n)
    # After each step: the model's own likeliest next characters, and the one that comes,
    # also after the last character shown (the source goes on).
    with torch.no_grad():
        logits, _ = model(encode(text)[None])  # (1, T, V)
    assert run.step_answers == (tuple(expected_next(logits[0], source.text[1 : len(text) + 1])),)
    assert run.step_answers[0][-1].endswith(f"· next: {quoted_char(source.text[len(text)])}")
    # Each label over the characters read, as labelled within the whole held-out source.
    for name, values in label_text(source.text).items():
        torch.testing.assert_close(run.labels[name], values[None, : len(text)])
    # Ranked over all of the held-out source, best |r(C)| first, units layer by layer.
    ranking = source_cells_or_stop(ModelSource(kind="code"))
    assert source.source in ranking.over and f"{len(source.text):,}" in ranking.over
    strengths = [abs(match.r_c) for match in ranking.cells.values()]
    assert strengths == sorted(strengths, reverse=True)
    assert set(ranking.cells) <= set(run.labels)
    units = model.config.units
    assert all(0 <= match.unit < units for match in ranking.cells.values())


def test_the_explorer_on_the_code_model_opens_on_its_best_cell_and_follows_the_label() -> None:
    at = app_on("Trained: code")
    assert not at.exception and not at.error
    run = run_source(ModelSource(kind="code"))
    cells = source_cells_or_stop(ModelSource(kind="code")).cells
    hidden = run.trace.hidden_size
    picker = at.selectbox(key=FOCUS_KEY)
    assert picker.options[0].startswith(LABEL_TITLES[next(iter(cells))])  # best |r(C)| first
    # It opens on the clearest of the quote, depth and column cells, as the text view does.
    clearest = max(KARPATHY_LABELS, key=lambda name: abs(cells[name].r_c))
    assert picker.value == clearest
    # The r on the characters drawn, beside the ranking's over the whole file.
    layer, unit = divmod(cells[clearest].unit, hidden)
    drawn_r = unit_r(run.trace.c[layer, 0, 0, :, unit], run.labels[clearest][0])
    assert any(
        c.value.startswith(
            f"Over the {run.trace.seq_len:,} characters drawn, "
            f"{stacked_unit_name(cells[clearest].unit, hidden, run.trace.num_layers)} has "
            f"r(C, {clearest}) = {drawn_r:+.3f} and r(h, {clearest}) = "
        )
        for c in at.caption
    )
    for label in ("bracket_depth", "column"):
        picker.set_value(label).run()
        assert not at.exception and not at.error
        match = cells[label]
        layer, unit = divmod(match.unit, hidden)
        assert at.multiselect(key=units_key(label)).value == [unit]
        assert at.selectbox(key=layer_key(label)).value == layer
        caption = next(c.value for c in at.caption if f"r(C, {label})" in c.value)
        named = stacked_unit_name(match.unit, hidden, run.trace.num_layers)
        assert f"{match.r_c:+.3f}" in caption and f"unit is {named}," in caption
        assert "The chart below draws" not in caption  # it draws the cell finder's unit
        label_view = chart_specs(at)[1]
        label_line = label_view["data"][0]
        c_line = next(line for line in label_view["data"] if line["name"].startswith("C "))
        np.testing.assert_array_equal(decode(label_line["y"]), run.labels[label][0])
        np.testing.assert_allclose(
            decode(c_line["y"]), run.trace.c[layer, 0, 0, :, unit].numpy(), atol=1e-6
        )
        # hover names the character read at each step
        assert label_line["customdata"][0] == f"'{run.text[0]}'"


def app_on(kind_label: str, data: bytes | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.session_state[MODEL_KEY] = kind_label
    at.session_state["seq_len"] = 20
    at.session_state["batch_size"] = 2
    if data is not None:
        at.session_state[WEIGHTS_KEY] = ("mine.safetensors", sha256(data), data)
    return at.run()


def test_explorer_draws_both_directions_of_a_projected_checkpoint() -> None:
    lstm, data = projected_bidirectional()
    at = app_on("Your checkpoint", data)
    assert not at.exception and not at.error
    figure = chart_specs(at)[0]
    assert "forward direction" in figure["layout"]["title"]["text"]
    at.selectbox(key="explorer_src_direction").set_value(1).run()
    assert not at.exception
    figure = chart_specs(at)[0]
    assert "reverse direction" in figure["layout"]["title"]["text"]
    x = torch.randn(2, 20, 4, generator=torch.Generator().manual_seed(0))
    # Layer 0 is shown: a one-layer nn.LSTM with layer 0's weights gives its output, whose
    # columns P.. 2P are the reverse direction's h.
    first = nn.LSTM(4, 5, bidirectional=True, proj_size=3, batch_first=True)
    first.load_state_dict({k: v for k, v in lstm.state_dict().items() if "_l0" in k})
    with torch.no_grad():
        layer0, _ = first(x)
    drawn = {t["name"]: decode(t["y"]) for t in figure["data"]}
    np.testing.assert_allclose(drawn["h unit 1"], layer0[0, :, 3 + 1].numpy(), atol=1e-5)
    assert any("proj_size 3" in c.value for c in at.caption)


def test_the_learned_counter_button_shows_the_depth_unit() -> None:
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT).run()
    at.button(key="preset_learned_counter").click().run()
    assert not at.exception and not at.error
    run = run_source(ModelSource(kind="brackets", batch_size=1))
    depth = rank_cells(ModelSource(kind="brackets")).cells["depth"]
    unit = depth.unit
    assert at.multiselect(key=units_key("depth")).value == [unit]
    caption = next(c.value for c in at.caption if "r(C, depth)" in c.value)
    assert f"{depth.r_c:+.3f}" in caption
    figure = chart_specs(at)[0]
    drawn = [decode(t["y"]) for t in figure["data"]]
    np.testing.assert_allclose(drawn[1], run.trace.c[0, 0, 0, :, unit].numpy(), atol=1e-6)
    # the depth itself beside that unit's C and h
    depth_view = chart_specs(at)[1]
    np.testing.assert_array_equal(decode(depth_view["data"][0]["y"]), run.labels["depth"][0])
    # The memory metrics beside that one unit are its layer's medians, and say so.
    assert any(
        f"Over all {run.trace.hidden_size:,} units of layer 0" in c.value
        and "their median" in c.value
        for c in at.caption
    )
    assert "memory time C (steps, layer median)" in [metric.label for metric in at.metric]


@pytest.mark.parametrize(
    "page", ["pages/gates.py", "pages/shapes.py", "pages/step.py", "pages/memory.py"]
)
@pytest.mark.parametrize("kind", ["Your checkpoint", "Trained: brackets", "Trained: code"])
def test_every_page_runs_on_a_loaded_model(page: str, kind: str) -> None:
    _, data = projected_bidirectional()
    at = app_on(kind, data if kind == "Your checkpoint" else None)
    at.switch_page(page).run()
    assert not at.exception and not at.error
    if page.endswith("gates.py"):
        title = chart_specs(at)[0]["layout"]["title"]["text"]
        # The title names the model shown: the user's file, or the trained task's model.
        named = "Your LSTM · " if kind == "Your checkpoint" else f"Trained {kind[9:]} model · "
        assert title.startswith(named)
    elif page.endswith("shapes.py"):
        table = at.table[0].value
        assert "h_n" in set(table.index)
        # Only the checkpoint here reads both ways; the trained models read forward only.
        both = "both directions" in table.loc["output", "what"]
        assert both == (kind == "Your checkpoint")
    elif page.endswith("step.py"):
        # A task model's input around the step comes first; a checkpoint's W_hr step after.
        cells = at.dataframe[1 if kind == "Trained: brackets" else 0].value
        np.testing.assert_allclose(cells["f⊙C_{t-1}"] + cells["i⊙g"], cells["C_t"], atol=1e-5)
        assert len(at.dataframe) == (1 if kind == "Trained: code" else 2)
        if kind == "Trained: code":  # the character that step reads, in its line
            run = run_source(ModelSource(kind="code"))
            assert at.code[0].value == text_around(run.text, 1)
            # then what the model expects after it, and the character that does come
            assert at.code[1].value == run.step_answers[0][1]
            assert at.code[1].value.endswith(f"· next: '{run.text[2]}'")
    else:
        assert any("seeded nn.LSTM only" in i.value for i in at.info)
    if page.endswith(("gates.py", "step.py")):  # shown in part, and the page says which part
        assert any("drawn for the seeded nn.LSTM only" in c.value for c in at.caption)


def test_step_through_on_a_task_model_names_the_input_and_the_cells_first() -> None:
    at = app_on("Trained: recall")
    at.switch_page("pages/step.py").run()
    at.slider(key="step_src_t").set_value(6).run()
    assert not at.exception and not at.error
    run = run_source(ModelSource(kind="recall", batch_size=2))
    read = at.dataframe[0].value
    assert list(read.index) == [str(t) for t in range(3, 10)]  # three steps either side
    assert list(read["reads"]) == list(run.step_words[0][3:10])
    assert list(read["answers"]) == list(run.step_answers[0][3:10])
    np.testing.assert_allclose(
        read["current input"].astype(float), run.labels["current_input"][0, 3:10], atol=5.1e-3
    )
    caption = next(c.value for c in at.caption if f"reads `{run.step_words[0][6]}`" in c.value)
    # The blank cells are explained where the table has some.
    assert ("(blank: the label is not defined there" in caption) == bool(
        (read == "").any(axis=None)
    )
    cells = at.dataframe[1].value
    found = rank_cells(ModelSource(kind="recall")).cells
    first = sorted({found["stored_value"].unit, found["current_input"].unit})
    assert list(cells.index[: len(first)]) == first
    assert cells.loc[found["stored_value"].unit, "cell for"] == "stored value"
    assert sorted(cells.index) == list(range(run.trace.hidden_size))  # every unit still there
    np.testing.assert_allclose(
        cells["C_t"].loc[list(range(run.trace.hidden_size))],
        run.trace.c[0, 0, 0, 6].numpy(),
        atol=1e-5,
    )


def test_a_link_with_model_brackets_opens_the_trained_model_and_keeps_it() -> None:
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.query_params["model"] = "brackets"
    at.run()
    assert not at.exception and not at.error
    assert at.session_state[MODEL_KEY] == "Trained: brackets"
    assert at.query_params["model"] == "brackets"
    assert any("brackets task's model" in c.value for c in at.caption)
    assert chart_specs(at)[0]["layout"]["title"]["text"].startswith("Trained brackets model:")
    downloads = {b.proto.label: b.proto.disabled for b in at.get("download_button")}
    assert downloads["⬇ Data as CSV"] is False and downloads["⬇ Data as Parquet"] is False


def test_the_explorer_link_holds_a_trained_models_label_and_unit() -> None:
    warm_code_model_views()
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.query_params.update({"model": "code", "cell_label": "bracket_depth", "cell_unit": "300"})
    at.run()
    assert not at.exception and not at.error and not at.warning
    assert at.selectbox(key=FOCUS_KEY).value == "bracket_depth"
    # Unit 300, numbered layer by layer: layer 1's unit 44.
    hidden = run_source(ModelSource(kind="code")).trace.hidden_size
    assert at.selectbox(key=layer_key("bracket_depth")).value == 300 // hidden
    assert at.multiselect(key=units_key("bracket_depth")).value == [300 % hidden]
    assert (at.query_params["cell_label"], at.query_params["cell_unit"]) == ("bracket_depth", "300")
    # The caption names the cell finder's unit, and says the chart draws the linked one.
    caption = next(c.value for c in at.caption if "r(C, bracket_depth)" in c.value)
    named = stacked_unit_name(300, hidden, run_source(ModelSource(kind="code")).trace.num_layers)
    assert caption.endswith(f"The chart below draws the first unit picked above, {named}.")
    # The pickers move the link.
    at.selectbox(key=FOCUS_KEY).set_value("column").run()
    column = rank_cells(ModelSource(kind="code")).cells["column"]
    assert at.query_params["cell_label"] == "column"
    assert at.query_params["cell_unit"] == str(column.unit)
    # Back can reach another model's link while the sidebar keeps this model: its label and
    # unit are not this model's, so the view stays and the link is written afresh.
    at.query_params.update({"model": "recall", "cell_label": "stored_value", "cell_unit": "4"})
    at.run()
    assert not at.exception and not at.warning
    assert at.selectbox(key=FOCUS_KEY).value == "column"
    assert (at.query_params["cell_label"], at.query_params["cell_unit"]) == (
        "column",
        str(column.unit),
    )
    # The seeded model has no labels: the link drops them.
    at.session_state[MODEL_KEY] = "Seeded nn.LSTM"
    at.run()
    assert not at.exception
    assert chart_specs(at)[0]["layout"]["title"]["text"].startswith("LSTM states:")
    assert "cell_label" not in at.query_params and "cell_unit" not in at.query_params


def test_a_checkpoint_waiting_for_its_file_takes_the_label_out_of_the_link() -> None:
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.query_params.update({"model": "brackets"})
    at.run()
    assert at.query_params["cell_label"] == "depth"
    at.session_state[MODEL_KEY] = "Your checkpoint"
    at.run()
    assert not at.exception
    assert any("Upload" in i.value for i in at.info)  # the page stops, asking for the file
    assert "cell_label" not in at.query_params and "cell_unit" not in at.query_params


def test_an_explorer_link_to_a_label_the_model_lacks_is_warned_about() -> None:
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.query_params.update({"model": "brackets", "cell_label": "column", "cell_unit": "99"})
    at.run()
    assert not at.exception and not at.error
    warnings = [w.value for w in at.warning]
    # A unit goes with its label: it is dropped with it, in the same warning.
    assert len(warnings) == 1
    assert "cell_label: 'column' is not depth (the one), and cell_unit with it" in warnings[0]
    depth = rank_cells(ModelSource(kind="brackets")).cells["depth"]
    assert at.multiselect(key=units_key("depth")).value == [depth.unit]
    assert at.query_params["cell_unit"] == str(depth.unit)


def test_a_link_with_model_file_asks_for_the_file() -> None:
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.query_params["model"] = "file"
    at.run()
    assert not at.exception
    assert any("upload the .safetensors or .pt file" in i.value for i in at.info)


def test_choosing_your_checkpoint_before_any_upload_asks_for_the_file() -> None:
    at = app_on("Your checkpoint")
    assert not at.exception
    assert any("Upload it in the sidebar" in i.value for i in at.info)
    assert not any("A link holds" in i.value for i in at.info)


def test_a_bad_checkpoint_gets_one_sentence() -> None:
    at = app_on("Your checkpoint", b"not a checkpoint at all")
    assert not at.exception
    assert at.error and at.error[0].value.startswith("This model cannot run:")


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_the_reproduce_script_loads_the_same_file(tmp_path: Path, suffix: str) -> None:
    lstm, data = projected_bidirectional()
    if suffix == ".pt":
        buffer = io.BytesIO()
        torch.save(
            {"model": {"encoder.lstm." + k: v for k, v in lstm.state_dict().items()}}, buffer
        )
        data = buffer.getvalue()
    source = ModelSource(kind="file", file_sha256=sha256(data), seq_len=9, batch_size=2, seed=5)
    run = run_source(source, data)
    weights = tmp_path / f"mine{suffix}"
    weights.write_bytes(data)
    script = tmp_path / source_script_name(run)
    script.write_text(source_script(run, weights.name))
    done = subprocess.run(
        [sys.executable, str(script), str(weights)], capture_output=True, text=True, check=True
    )
    printed = json.loads(done.stdout.strip().splitlines()[-1])
    torch.testing.assert_close(torch.tensor(printed["h_n"]), run.trace.h_n)
    torch.testing.assert_close(torch.tensor(printed["c_n"]), run.trace.c_n)


def test_the_code_models_reproduce_script_reads_the_same_text(tmp_path: Path) -> None:
    run = run_source(ModelSource(kind="code"))
    script = tmp_path / source_script_name(run)
    script.write_text(source_script(run, "code.safetensors"))
    assert_script_reruns(script, run)
    repository = str(Path(__file__).resolve().parents[1])
    done = subprocess.run(
        [sys.executable, str(script), "missing.safetensors"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": repository},
    )
    assert done.returncode == 1
    assert done.stderr.startswith("Cannot read missing.safetensors: "), done.stderr


def test_step_rows_follow_each_direction_and_the_projection() -> None:
    lstm, data = projected_bidirectional()
    run = run_source(ModelSource(kind="file", file_sha256=sha256(data), seq_len=8), data)
    t = run.trace
    rows, projected = step_rows(t, layer=1, direction=1, batch=0, step=3)
    # the reverse direction's previous state is the one after step 4
    np.testing.assert_allclose([r["C_{t-1}"] for r in rows], t.c[1, 1, 0, 4].numpy(), atol=1e-6)
    np.testing.assert_allclose([r["C_t"] for r in rows], t.c[1, 1, 0, 3].numpy(), atol=1e-6)
    weight_hr = lstm.weight_hr_l1_reverse.detach()  # (P, H)
    o_tanh_c = torch.tensor([r[UNPROJECTED_HEADING] for r in rows])
    h = [r["h_t = (W_hr (o ⊙ tanh C_t))_j"] for r in projected]
    np.testing.assert_allclose(h, (weight_hr @ o_tanh_c).numpy(), atol=1e-5)
    np.testing.assert_allclose(h, t.h[1, 1, 0, 3].numpy(), atol=1e-5)
    # Without a projection the last column is h_t itself, nn.LSTM's.
    plain = run_source(ModelSource(kind="brackets", batch_size=1)).trace
    rows, projected = step_rows(plain, layer=0, direction=0, batch=0, step=5)
    assert projected == [] and list(rows[0])[-1] == "h_t"
    np.testing.assert_allclose([r["h_t"] for r in rows], plain.h[0, 0, 0, 5].numpy(), atol=1e-6)


class _TwoLSTMs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.LSTM(2, 3, batch_first=True)
        self.decoder = nn.LSTM(3, 4, batch_first=True)


def test_a_file_with_two_lstms_gets_a_picker_and_an_input_of_its_size() -> None:
    torch.manual_seed(2)
    model = _TwoLSTMs()
    data = save(model.state_dict())
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.session_state[MODEL_KEY] = "Your checkpoint"
    at.session_state[WEIGHTS_KEY] = ("two.safetensors", sha256(data), data)
    x = np.linspace(-1, 1, 30).reshape(10, 3)  # (T, I): the decoder's input size
    at.session_state[INPUT_KEY] = ("x.npy", sha256(x.tobytes()), x[None])
    at.run()
    picker = at.selectbox(key=PREFIX_KEY)
    assert picker.options == ["decoder", "encoder"]
    assert not at.exception and not at.error  # the decoder reads 3 features
    with torch.no_grad():
        expected, _ = model.decoder(torch.tensor(x[None], dtype=torch.float32))
    h_panel = [t for t in chart_specs(at)[0]["data"] if t.get("xaxis", "x") == "x"]
    drawn = {t["name"]: decode(t["y"]) for t in h_panel}
    np.testing.assert_allclose(drawn["unit 2"], expected[0, :, 2].numpy(), atol=1e-5)
    picker.set_value("encoder.").run()  # the encoder reads 2: one sentence, the app goes on
    assert not at.exception
    assert "features per step but the LSTM reads 2" in at.error[0].value


def test_a_seeded_starting_point_goes_back_to_the_seeded_model() -> None:
    at = app_on("Trained: brackets")
    at.button(key="preset_PyTorch default").click().run()
    assert not at.exception
    assert at.session_state[MODEL_KEY] == "Seeded nn.LSTM"
    assert at.session_state["forget_bias"] == 0.0


def test_the_explorers_picks_outlive_a_page_switch_and_a_starting_point_resets_them() -> None:
    at = app_on("Trained: code")
    batch = next(w for w in [*at.slider, *at.number_input] if w.key == "batch_size")
    assert batch.disabled  # one text: the batch setting does not apply
    at.selectbox(key=FOCUS_KEY).set_value("bracket_depth").run()
    at.multiselect(key=units_key("bracket_depth")).set_value([3, 42]).run()
    at.switch_page("pages/gates.py").run()
    at.switch_page("pages/explorer.py").run()
    assert not at.exception and not at.warning
    assert at.session_state[MODEL_KEY] == "Trained: code"
    assert at.selectbox(key=FOCUS_KEY).value == "bracket_depth"
    assert at.multiselect(key=units_key("bracket_depth")).value == [3, 42]
    # On the brackets model, a pick beside the depth unit; the starting point shows it alone.
    depth_unit = rank_cells(ModelSource(kind="brackets")).cells["depth"].unit
    other = (depth_unit + 1) % run_source(ModelSource(kind="brackets")).trace.hidden_size
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.session_state[MODEL_KEY] = "Trained: brackets"
    at.session_state[units_key("depth")] = [depth_unit, other]
    at.run()
    assert at.multiselect(key=units_key("depth")).value == [depth_unit, other]
    # (After a rerun AppTest's tree holds no sidebar elements here: clicked after the first run.)
    at.button(key="preset_learned_counter").click().run()
    assert not at.exception and not at.warning
    assert at.multiselect(key=units_key("depth")).value == [depth_unit]


def test_a_label_held_for_a_whole_sequence_says_where_its_correlation_shows() -> None:
    recall = app_on("Trained: recall")
    recall.selectbox(key=FOCUS_KEY).set_value("stored_value").run()
    assert not recall.exception
    note = "Within one sequence the stored value is one value"
    assert any(note in caption.value for caption in recall.caption)
    recall.selectbox(key=FOCUS_KEY).set_value("current_input").run()
    assert not any("Within one sequence" in caption.value for caption in recall.caption)
