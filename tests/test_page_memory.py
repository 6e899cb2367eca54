"""pages/memory.py (AppTest): half-lives and both charts, a tiny pair trained, bad input refused."""

from __future__ import annotations

from conftest import APP, APPTEST_TIMEOUT, chart_specs
from streamlit.testing.v1 import AppTest

from lstm_core.analysis.training import DEFAULT_TRAINING_RATE, TrainSpec, rate_key, training_work
from lstm_core.learned.tasks import get_task, task_rate_key, task_spec, task_work
from ui.jobs import duration_text, job_runner
from ui.model_source import (
    MODEL_KEY,
    OWN_WEIGHTS_KEY,
    SHIPPED,
    TRAINED_HERE,
    TRAINED_HERE_KEY,
    units_key,
)
from ui.source_pages import picks_suffix


def memory_page(**state: object) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=APPTEST_TIMEOUT)
    at.switch_page("pages/memory.py")
    for key, value in {"input_dim": 3, "hidden_dim": 6, "seq_len": 40, **state}.items():
        at.session_state[key] = value
    return at.run()


def test_memory_page_shows_half_lives_and_both_charts() -> None:
    at = memory_page()
    assert not at.exception
    labels = [metric.label for metric in at.metric]
    assert labels[:2] == ["mean forget gate f̄", "predicted: LSTM C"]
    assert [label for label in labels if label.startswith("measured")] == [
        "measured: LSTM C",
        "measured: LSTM h",
        "measured: GRU h",
        "measured: RNN h",
    ]
    specs = chart_specs(at)
    assert len(specs) == 3  # the perturbation, the gradients, the latch
    assert specs[0]["layout"]["yaxis"]["type"] == "log"


def _latch_chart(at: AppTest) -> dict:
    return next(
        spec for spec in chart_specs(at) if spec["layout"]["title"]["text"].startswith("Stored")
    )


def test_memory_page_shows_the_latch_beside_the_trained_recall_model() -> None:
    at = memory_page()
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["latch: largest |h| in the gap"] == "0"
    r_h_label = next(label for label in metrics if label.endswith("r(h, value)"))
    first = _latch_chart(at)
    assert [trace["name"] for trace in first["data"]][:2] == ["C_t (latch)", "h_t (latch)"]
    at.number_input(key="latch_sequence").set_value(5).run()
    assert not at.exception
    moved = _latch_chart(at)
    # Another sequence, another stored value; the exposure is measured over all of them.
    assert moved["layout"]["title"]["text"] != first["layout"]["title"]["text"]
    assert {metric.label: metric.value for metric in at.metric}[r_h_label] == metrics[r_h_label]


def test_memory_page_trains_a_tiny_pair_and_shows_the_trained_states() -> None:
    at = memory_page(train_seq_len=10, train_hidden=3, train_steps=2)
    at.button(key="memory_train").click().run()
    assert not at.exception
    # Finished: no stop button left, and no button for the models already drawn below.
    assert [button.key for button in at.button if button.key == "memory_train_stop"] == []
    assert [button.key for button in at.button if button.key == "memory_train"] == []
    assert any(note.value.startswith("These settings' models are trained") for note in at.caption)
    labels = [metric.label for metric in at.metric]
    assert {"LSTM test MSE", "RNN test MSE", "training time"} <= set(labels)
    names = [spec["layout"]["title"]["text"] for spec in chart_specs(at)]
    assert any(name.startswith("Adding problem, T = 10") for name in names)
    assert any(name.startswith("Trained LSTM on a test sequence") for name in names)
    # Two steps teach nothing: the page says so instead of naming a memory unit, and what
    # to try.
    assert any("has not learned the task" in warning.value for warning in at.warning)
    assert any("has not left the baseline in 2 steps" in info.value for info in at.info)
    # Another seed has no trained pair yet: the button is back.
    at.number_input(key="train_seed").set_value(1).run()
    assert at.button(key="memory_train").label == "Train LSTM and RNN"
    # Another session finds the pair trained: one click draws it, in place of the button.
    other = memory_page(train_seq_len=10, train_hidden=3, train_steps=2)
    assert other.button(key="memory_train").label == "Use the trained models"
    other.button(key="memory_train").click().run()
    assert not other.exception
    assert [button.key for button in other.button if button.key == "memory_train"] == []
    assert any(note.value.startswith("These settings' models") for note in other.caption)
    assert {"LSTM test MSE", "RNN test MSE"} <= {metric.label for metric in other.metric}


def test_too_large_a_run_gets_a_warning_not_a_hang() -> None:
    at = memory_page(seq_len=5000)
    assert not at.exception
    assert any("The lab runs up to" in warning.value for warning in at.warning)


def test_a_wrong_weights_file_gets_an_error_and_the_page_goes_on() -> None:
    at = memory_page()
    at.file_uploader(key="memory_weights_file").upload("model.safetensors", b"not weights" * 4)
    at.run()
    assert not at.exception
    assert any(
        error.value.startswith("Cannot load model.safetensors: this is not a safetensors")
        for error in at.error
    )
    assert len(chart_specs(at)) == 3  # the lab charts and the latch are still there


def test_the_expected_training_time_is_shown_before_the_click() -> None:
    at = memory_page(train_seq_len=100, train_hidden=32, train_steps=800)
    assert not at.exception
    spec = TrainSpec(seq_len=100, hidden_dim=32, steps=800, seed=0)
    seconds = job_runner().estimate(rate_key(spec), training_work(spec), DEFAULT_TRAINING_RATE)
    expected = [c.value for c in at.caption if c.value.startswith("Expected training time:")]
    assert len(expected) == 2  # the adding pair's, then the brackets task's
    assert expected[0].startswith(f"Expected training time: {duration_text(seconds)} for both")
    brackets = task_spec("brackets")
    seconds = job_runner().estimate(
        task_rate_key(brackets),
        task_work(brackets),
        get_task("brackets").defaults.busy_rate,
    )
    assert expected[1].startswith(f"Expected training time: {duration_text(seconds)},")


def test_a_run_too_short_to_halve_gets_no_verdict_on_memory() -> None:
    at = memory_page(seq_len=3)
    assert not at.exception
    assert not at.warning
    assert any("too short to tell" in info.value for info in at.info)


def test_a_task_trains_here_and_opens_in_the_explorer_beside_the_shipped_model() -> None:
    at = memory_page(memory_task="recall", task_steps_recall=40, task_seed_recall=2)
    assert at.button(key="memory_task_train").label == "Train the recall LSTM"
    at.button(key="memory_task_train").click().run()
    assert not at.exception
    assert [button.key for button in at.button if button.key == "memory_task_stop"] == []
    summary = next(m.value for m in at.markdown if m.value.startswith("**Trained in"))
    assert "(seed 2, 16 units, 40 steps" in summary and "predicting the mean (0.333)" in summary
    cells = next(df.value for df in at.dataframe if "unit (best C)" in df.value.columns)
    assert list(cells["label"]) == ["stored_value", "current_input"]
    focus_unit = int(cells["unit (best C)"][0])
    labels = {button.proto.label for button in at.get("download_button")}
    assert "⬇ Save the trained LSTM (safetensors)" in labels
    # One click: the Explorer runs this model, on its stored-value unit.
    at.button(key="memory_task_explorer").click().run()
    assert not at.exception
    assert at.session_state[MODEL_KEY] == "Trained: recall"
    assert at.session_state[OWN_WEIGHTS_KEY + "recall"] == TRAINED_HERE
    # A page run alone (AppTest's switch_page) has no navigation to switch in; the Explorer
    # the button asks for, run next, opens on that model and its unit.
    at.switch_page("pages/explorer.py").run()
    assert not at.exception and not at.error
    weights_sha256 = at.session_state[TRAINED_HERE_KEY]["recall"][0]
    units = at.multiselect(key=units_key("stored_value") + picks_suffix(weights_sha256))
    assert units.value == [focus_unit]
    assert any("Memory lab (seed 2, 16 units, 40 steps)" in c.value for c in at.caption)
    assert any(f"stored value unit is unit {focus_unit}," in c.value for c in at.caption)
    # Its figures' file names name this model, not the shipped one.
    configs = " ".join(chart.proto.config for chart in at.get("plotly_chart"))
    assert "lstm_states_recall_H16_T" in configs and "_seed2_steps40" in configs
    # Back to the shipped model (the sidebar's Weights switch: tests/test_model_source.py).
    at.session_state[OWN_WEIGHTS_KEY + "recall"] = SHIPPED
    at.run()
    assert not at.exception
    shipped = "trained by `python -m lstm_core train --task recall`"
    assert any(shipped in c.value for c in at.caption)
    assert not any("trained in the app's Memory lab" in c.value for c in at.caption)
    configs = " ".join(chart.proto.config for chart in at.get("plotly_chart"))
    assert "lstm_states_recall" in configs and "_seed2_steps40" not in configs


def test_each_task_keeps_its_settings_and_its_model_across_a_switch() -> None:
    at = memory_page(memory_task="brackets", task_hidden_brackets=6, task_steps_brackets=20)
    at.button(key="memory_task_train").click().run()
    assert any("(seed 0, 6 units, 20 steps" in m.value for m in at.markdown)
    at.radio(key="memory_task").set_value("recall").run()
    assert not at.exception
    assert not any(m.value.startswith("**Trained in") for m in at.markdown)  # none for recall
    at.radio(key="memory_task").set_value("brackets").run()
    assert at.number_input(key="task_hidden_brackets").value == 6
    assert any("(seed 0, 6 units, 20 steps" in m.value for m in at.markdown)
    # Other settings: their own button, and the model trained before stays in view, named.
    at.number_input(key="task_hidden_brackets").set_value(7).run()
    assert at.button(key="memory_task_train").label == "Train the brackets LSTM"
    note = "Below: the model trained with seed 0, 6 units, 20 steps"
    assert any(c.value.startswith(note) for c in at.caption)


def test_the_training_settings_are_kept_across_a_visit_to_another_page() -> None:
    at = memory_page()
    picked = {"train_seq_len": 30, "train_hidden": 9, "task_hidden_brackets": 5}
    for key, value in picked.items():
        at.number_input(key=key).set_value(value)
    at.run()
    at.switch_page("pages/explorer.py").run()
    assert not at.exception
    at.switch_page("pages/memory.py").run()
    assert not at.exception
    assert {key: at.number_input(key=key).value for key in picked} == picked
