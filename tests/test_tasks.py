"""lstm_core.learned: the task data and labels, every task beating its baseline at a small
size, seeded determinism, progress, stopping, the weights file and the `train --json` contract."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load

from lstm_core.analysis.cell_finder import UnitMatch
from lstm_core.cli.main import main
from lstm_core.io.weights import weights_from_bytes
from lstm_core.learned import tasks as tasks_module
from lstm_core.learned.adding import first_value_label
from lstm_core.learned.brackets import CLOSE, OPEN, SYMBOLS, dyck_sequences, source_probabilities
from lstm_core.learned.recall import MARK, QUERY, VALUE, recall_sequences, stored_value_label
from lstm_core.learned.tasks import (
    TRAIN_TASKS,
    TrainOutcome,
    get_task,
    held_out_of,
    model_from_state,
    task_spec,
    train_named,
    train_task,
)
from lstm_core.serving.jobs import CANCELLED, JobRunner

# Small enough for CI, large enough that each task learns what beats its baseline.
SMALL = {
    "brackets": task_spec("brackets", hidden_dim=8, steps=60, batch_size=64, seq_len=32),
    "recall": task_spec("recall", hidden_dim=8, steps=150, batch_size=32, seq_len=16),
    "adding": task_spec("adding", hidden_dim=8, steps=120, batch_size=32, seq_len=10),
}
CONTRACT = {"task", "seconds", "final_loss", "held_out", "cells"}


@pytest.fixture(autouse=True)
def one_thread() -> object:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_dyck_sequences_never_close_at_depth_zero_and_label_the_depth() -> None:
    tokens, depth = dyck_sequences(300, 50, torch.Generator().manual_seed(0))
    steps = (tokens == OPEN).long() - (tokens == CLOSE).long()
    assert torch.equal(depth, torch.cumsum(steps, dim=1))
    assert bool((depth >= 0).all()) and int(depth.max()) > 3
    before = torch.cat([torch.zeros(300, 1, dtype=torch.long), depth[:, :-1]], dim=1)
    assert not bool(((tokens == CLOSE) & (before == 0)).any())
    assert set(tokens.unique().tolist()) == set(range(len(SYMBOLS)))


def test_the_source_distribution_sums_to_one_and_forbids_closing_at_zero() -> None:
    p = source_probabilities(torch.tensor([0, 1, 5]))
    torch.testing.assert_close(p.sum(dim=-1), torch.ones(3))
    assert float(p[0, CLOSE]) == 0.0 and float(p[1, CLOSE]) > 0.0
    torch.testing.assert_close(p[1], p[2])


def test_recall_targets_the_current_value_and_the_marked_one_at_the_query() -> None:
    x, target, steps = recall_sequences(200, 30, torch.Generator().manual_seed(1))
    rows = torch.arange(200)
    mark, query = steps[:, 0], steps[:, 1]
    assert bool((mark < 5).all()) and bool((query >= 15).all())
    assert torch.equal(x[:, :, MARK].sum(1), torch.ones(200))
    assert torch.equal(x[rows, query, QUERY], torch.ones(200))
    assert torch.equal(target[rows, query], x[rows, mark, VALUE])
    others = x[:, :, QUERY] == 0
    assert torch.equal(target[others], x[:, :, VALUE][others])
    stored = stored_value_label(x, steps)
    for row in (0, 7):
        defined = torch.isfinite(stored[row]).nonzero()[:, 0].tolist()
        assert defined == list(range(int(mark[row]), int(query[row])))
        assert bool((stored[row, defined] == x[row, mark[row], VALUE]).all())


def test_the_adding_label_is_the_first_value_until_the_second_mark() -> None:
    x = torch.zeros(1, 6, 2)
    x[0, :, 0] = torch.tensor([0.1, 0.9, 0.2, 0.3, 0.4, 0.5])
    label = first_value_label(x, torch.tensor([[1, 4]]))
    expected = torch.tensor([[torch.nan, 0.9, 0.9, 0.9, torch.nan, torch.nan]])
    torch.testing.assert_close(label, expected, equal_nan=True)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_each_task_beats_its_baseline_at_a_small_size(name: str) -> None:
    outcome = train_task(SMALL[name])
    score = outcome.held_out
    if name == "brackets":
        assert score["nats_per_symbol"] < score["baseline_nats"]
        assert score["source_nats"] < score["baseline_nats"]
    elif name == "recall":
        assert score["recall_mse"] < score["baseline_mse"]
    else:
        assert score["mse"] < score["baseline_mse"]
    assert set(outcome.cells) == set(get_task(name).batch(1, 8, torch.Generator()).labels)


def test_equal_seeds_give_identical_weights_and_report_every_step() -> None:
    spec = task_spec("brackets", hidden_dim=4, steps=3, batch_size=4, seq_len=8, seed=7)
    calls: list[tuple[int, int, float]] = []
    before = torch.get_rng_state()
    first = train_task(spec, lambda step, total, loss: calls.append((step, total, loss)))
    assert torch.equal(torch.get_rng_state(), before)
    second = train_task(spec)
    other = train_task(task_spec("brackets", hidden_dim=4, steps=3, batch_size=4, seq_len=8))
    for name, tensor in first.state.items():
        torch.testing.assert_close(second.state[name], tensor, rtol=0, atol=0)
    assert not torch.equal(other.state["readout.weight"], first.state["readout.weight"])
    assert [(step, total) for step, total, _ in calls] == [(1, 3), (2, 3), (3, 3)]
    assert calls[-1][2] == first.final_loss
    assert first.held_out == second.held_out and first.cells == second.cells


def test_the_weights_file_holds_the_state_and_says_what_it_is() -> None:
    outcome = train_task(task_spec("recall", hidden_dim=3, steps=2, batch_size=4, seq_len=8))
    state = load(outcome.to_bytes())
    assert set(state) == set(outcome.state)
    for name, tensor in outcome.state.items():
        torch.testing.assert_close(state[name], tensor, rtol=0, atol=0)
    assert outcome.metadata["task"] == "recall" and outcome.metadata["hidden_dim"] == "3"
    model = model_from_state("recall", state)
    torch.testing.assert_close(model.state_dict()["readout.weight"], state["readout.weight"])
    with pytest.raises(ValueError, match="do not fit a brackets model"):
        model_from_state("brackets", state)
    with pytest.raises(ValueError, match="no recall model"):
        model_from_state("recall", {"weight": torch.zeros(2)})
    with pytest.raises(ValueError, match="NaN or infinite"):
        model_from_state("recall", dict(state, **{"readout.bias": torch.tensor([float("nan")])}))
    with pytest.raises(ValueError, match="300 units; a recall model has 1 to 256"):
        model_from_state("recall", {"recurrent.weight_hh_l0": torch.zeros(1200, 300)})
    # What a file's metadata says is checked before any held-out sequence is drawn.
    recall = get_task("recall")
    for metadata, message in (
        ({"seq_len": "1000000000"}, "seq_len 1000000000 is outside"),
        ({"seed": "-1"}, "seed -1 is outside"),
        ({"seq_len": "ten"}, "not a whole number"),
    ):
        with pytest.raises(ValueError, match=message):
            held_out_of(recall, metadata)
    adding = train_task(task_spec("adding", hidden_dim=3, steps=2, batch_size=4, seq_len=10))
    saved, metadata = weights_from_bytes(adding.to_bytes())  # the Memory lab reads it
    assert metadata["format"] == "lstm-state-explorer/adding-lstm"
    assert set(saved) == set(adding.state)


def test_bad_specs_are_refused_with_a_message() -> None:
    with pytest.raises(ValueError, match="task must be one of"):
        task_spec("dyck")
    with pytest.raises(ValueError, match="hidden_dim"):
        task_spec("brackets", hidden_dim=0)
    with pytest.raises(ValueError, match="seq_len"):
        task_spec("recall", seq_len=2)
    with pytest.raises(ValueError, match="lr"):
        task_spec("brackets", lr=float("nan"))


def test_cli_train_json_contract_and_save(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    weights = tmp_path / "brackets.safetensors"
    argv = ["train", "--task", "brackets", "--seed", "1", "--hidden-dim", "4", "--steps", "2"]
    assert main([*argv, "--seq-len", "8", "--save", str(weights), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload) == CONTRACT and payload["task"] == "brackets"
    assert set(payload["held_out"]) == {"nats_per_symbol", "baseline_nats", "source_nats"}
    cell = payload["cells"]["depth"]
    assert {"unit", "r_c", "r_h"} <= set(cell) and 0 <= cell["unit"] < 4
    assert -1.0 <= cell["r_c"] <= 1.0 and -1.0 <= cell["r_h"] <= 1.0
    assert load(weights.read_bytes())["embedding.weight"].shape == (len(SYMBOLS), 8)
    assert main(["train", "--task", "recall", "--hidden-dim", "0", "--json"]) == 2
    assert "hidden_dim must be" in capsys.readouterr().err


def test_the_code_task_dispatches_to_train_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "code" in TRAIN_TASKS
    assert main(["train", "--task", "code", "--seq-len", "5", "--json"]) == 2
    assert "--task code takes no --seq-len" in capsys.readouterr().err

    assert main(["train", "--task", "brackets", "--max-seconds", "5", "--json"]) == 2
    assert "--task brackets takes no --max-seconds" in capsys.readouterr().err

    received: list[tuple[int, int | None, int | None, dict[str, float]]] = []
    threads_seen: list[int] = []

    def train_code(
        seed: int, hidden_dim: int | None, steps: int | None, on_step, **options: float
    ) -> TrainOutcome:
        received.append((seed, hidden_dim, steps, options))
        threads_seen.append(torch.get_num_threads())
        if on_step is not None:
            on_step(1, 1, 2.5)
        match = UnitMatch("in_string", 3, 0.9, 0.4, 5, 0.5)
        return TrainOutcome("code", 1.0, 2.5, {"nats_per_char": 2.5}, {"in_string": match}, {}, {})

    # The real training takes minutes: a stand-in receives what `train` passes on.
    monkeypatch.setattr(tasks_module, "train_code", train_code)
    # Training runs on one thread; a caller in the same process keeps its own count.
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        assert main(["train", "--task", "code", "--seed", "4", "--steps", "9", "--json"]) == 0
        assert threads_seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
    payload = json.loads(capsys.readouterr().out)
    assert received == [(4, None, 9, {})]
    assert set(payload) == CONTRACT and payload["cells"]["in_string"]["unit"] == 3
    assert main(["train", "--task", "code", "--max-seconds", "90", "--json"]) == 0
    assert received[-1] == (0, None, None, {"max_seconds": 90.0})
    assert train_named("code", seed=2).task == "code"


def test_a_task_training_runs_as_a_job_and_stops() -> None:
    runner = JobRunner(threads=1, niceness=0)  # the app's nice +10 only slows a test down
    spec = task_spec("brackets", steps=20_000)  # never finishes before it is stopped
    job = runner.submit(spec, train_task, (spec,), "owner")
    deadline = time.monotonic() + 1800.0
    while job.step < 1 and not job.finished:
        assert time.monotonic() < deadline, "the worker never reported a step"
        job.wait(0.05)
    assert job.total == 20_000 and job.value > 0
    pid = job.pid
    runner.cancel(job)
    assert job.wait(1800.0)
    assert job.state == CANCELLED
    assert pid is not None and not Path(f"/proc/{pid}").exists()


def test_step_words_name_what_each_step_reads() -> None:
    generator = torch.Generator().manual_seed(5)
    brackets = get_task("brackets").batch(2, 12, generator)
    words = get_task("brackets").step_words(brackets.inputs)
    assert [len(row) for row in words] == [12, 12]
    assert "".join(words[0]) == "".join(SYMBOLS[token] for token in brackets.inputs[0].tolist())
    recall = get_task("recall").batch(3, 20, generator)
    for row, x in zip(get_task("recall").step_words(recall.inputs), recall.inputs, strict=True):
        assert row.count("query") == 1 and row.index("query") == int(x[:, QUERY].argmax())
        marked = [t for t, word in enumerate(row) if word.endswith(", marked")]
        assert marked == [int(x[:, MARK].argmax())]
        assert row[marked[0]] == f"value {float(x[marked[0], VALUE]):+.2f}, marked"
    adding = get_task("adding").batch(1, 10, generator)
    words = get_task("adding").step_words(adding.inputs)[0]
    assert sum(word.endswith(", marked") for word in words) == 2  # the two numbers to add
    assert words[0].startswith(f"value {float(adding.inputs[0, 0, 0]):.2f}")


def test_step_answers_put_the_models_answer_beside_what_it_should_be() -> None:
    generator = torch.Generator().manual_seed(6)
    brackets = get_task("brackets").batch(2, 30, generator)
    # Equal logits, every symbol 1/5, but at step 7, where `)` is all but certain; the source
    # gives `)` 0.25 after a step that leaves a bracket open, else 0.
    logits = torch.zeros(2, 30, len(SYMBOLS))
    logits[:, 7, CLOSE] = 30.0
    for row, depths in zip(
        get_task("brackets").step_answers(logits, brackets), brackets.labels["depth"], strict=True
    ):
        assert row == [
            f'P(")" next) {1.0 if t == 7 else 0.2:.2f} (source {0.25 if depth > 0 else 0.0:.2f})'
            for t, depth in enumerate(depths)
        ]
    recall = get_task("recall").batch(2, 20, generator)
    output = torch.arange(20.0).expand(2, 20) / 100  # step t answers t / 100
    answers = get_task("recall").step_answers(output, recall)
    for row, x in zip(answers, recall.inputs, strict=True):
        query = int(x[:, QUERY].argmax())
        marked = float(x[int(x[:, MARK].argmax()), VALUE])  # the query's target
        assert row[query] == f"+{query / 100:.2f} (target {marked:+.2f})"
        assert row[0] == f"+0.00 (target {float(x[0, VALUE]):+.2f})"  # else the current value
        assert len(row) == 20
    adding = get_task("adding").batch(1, 10, generator)
    assert get_task("adding").step_answers(torch.zeros(1), adding) == []  # one answer a sequence
