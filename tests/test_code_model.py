"""The code model: it learns, it is deterministic, it is the equations, and the shipped one
loads and has the cells its training log documents."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from torch import nn

from lstm_core.analysis.cell_finder import find_cells
from lstm_core.learned import charmodel
from lstm_core.learned.charmodel import (
    UNKNOWN_ID,
    VOCAB_SIZE,
    VOCABULARY,
    CharConfig,
    CharLSTM,
    encode,
    expected_next,
    model_from_bytes,
    next_character_loss,
    run_text,
    text_states,
    trained_steps,
    unit_name,
    weights_to_bytes,
)
from lstm_core.learned.code import train_code
from lstm_core.learned.corpus import (
    TEST_PARTS,
    held_out_text,
    split_files,
    stdlib_files,
    stdlib_root,
)
from lstm_core.learned.labels import label_text
from lstm_core.learned.shipped import SHIPPED_MODELS, load_text_model, weights_bytes

SMALL = {"corpus_chars": 150_000, "held_out_chars": 4_000, "chunk_len": 128}


def test_encode_maps_printable_ascii_and_marks_the_rest_unknown() -> None:
    assert encode("a\n~").tolist() == [VOCABULARY.index("a"), VOCABULARY.index("\n"), 94]
    assert encode("é").tolist() == [UNKNOWN_ID]


def test_expected_next_names_the_likeliest_characters_and_the_one_that_comes() -> None:
    upcoming = "b\n"  # the text read is "ab\n": after "a" comes "b", then a newline, then the end
    logits = torch.full((3, VOCAB_SIZE), -30.0)
    logits[0, encode("b")[0]] = 10.0  # after "a": "b", all but certain
    logits[1, encode("\n")[0]] = logits[1, encode("c")[0]] = 0.0  # after "b": newline or "c"
    logits[2, UNKNOWN_ID] = 10.0  # after the newline: a character outside the vocabulary
    words = expected_next(logits, upcoming, top=2)
    assert words[0].startswith("'b' 1.00  ") and words[0].endswith("0.00  · next: 'b'")
    assert words[1] in ("'↵' 0.50  'c' 0.50  · next: '↵'", "'c' 0.50  '↵' 0.50  · next: '↵'")
    assert words[2].startswith("another 1.00") and words[2].endswith("· next: (the text ends)")
    with pytest.raises(ValueError, match="logits must be"):
        expected_next(logits[:, :5], upcoming)


def test_a_short_training_beats_the_unigram_baseline_on_held_out_source() -> None:
    outcome = train_code(seed=0, hidden_dim=32, steps=120, on_step=None, **SMALL)
    assert outcome.task == "code"
    assert outcome.held_out["loss_nats_per_char"] < outcome.held_out["unigram_nats_per_char"]
    assert set(outcome.cells) == {
        "in_string", "in_comment", "bracket_depth", "column", "indentation"
    }  # fmt: skip


def test_a_stacked_model_trains_and_its_file_reads_back() -> None:
    outcome = train_code(seed=1, hidden_dim=6, steps=4, on_step=None, num_layers=2, **SMALL)
    assert outcome.state["lstm.weight_hh_l1"].shape == (24, 6)
    model, _ = model_from_bytes(outcome.to_bytes())
    assert model.config.num_layers == 2
    run = run_text(model, "f(x)\n")
    assert run.c.shape == run.h.shape == (5, 12)
    with pytest.raises(ValueError, match="num_layers"):
        train_code(seed=1, hidden_dim=6, steps=4, on_step=None, num_layers=0, **SMALL)


def test_training_is_deterministic_and_stops_when_asked() -> None:
    seen: list[int] = []

    def stop_at_three(step: int, total: int, loss: float) -> bool:
        seen.append(step)
        return step == 3

    first = train_code(seed=4, hidden_dim=8, steps=10, on_step=stop_at_three, **SMALL)
    second = train_code(seed=4, hidden_dim=8, steps=3, on_step=None, **SMALL)
    assert seen == [1, 2, 3]
    assert first.metadata["steps"] == "3"
    for name, tensor in first.state.items():
        torch.testing.assert_close(tensor, second.state[name], rtol=0, atol=0)


def test_training_continues_from_a_saved_model_of_the_same_size(tmp_path: Path) -> None:
    saved = tmp_path / "start.safetensors"
    saved.write_bytes(train_code(seed=2, hidden_dim=8, steps=3, on_step=None, **SMALL).to_bytes())
    start, _ = model_from_bytes(saved.read_bytes())
    # At a learning rate of zero the weights stay where they started: the file's, not the seed's.
    still = train_code(
        seed=9, hidden_dim=8, steps=2, on_step=None, learning_rate=0.0, init_from=saved,
        batch_size=4, **SMALL,
    )  # fmt: skip
    for name, tensor in start.state_dict().items():
        torch.testing.assert_close(still.state[name], tensor, rtol=0, atol=0)
    assert still.metadata["init_from"] == "start.safetensors"
    assert still.metadata["init_steps"] == "3"
    assert still.metadata["batch_size"] == "4"
    moved = train_code(seed=9, hidden_dim=8, steps=2, on_step=None, init_from=saved, **SMALL)
    assert moved.metadata["init_steps"] == "3"
    again = tmp_path / "moved.safetensors"
    again.write_bytes(moved.to_bytes())
    chained = train_code(seed=9, hidden_dim=8, steps=1, on_step=None, init_from=again, **SMALL)
    assert chained.metadata["init_steps"] == "3 + 2"  # every earlier run's steps, in order
    assert trained_steps(chained.metadata) == "3 + 2 + 1"
    assert trained_steps({"steps": "5687"}) == "5,687"
    fewer_streams = train_code(
        seed=9, hidden_dim=8, steps=2, on_step=None, init_from=saved, batch_size=4, **SMALL
    )
    assert not torch.equal(
        fewer_streams.state["lstm.weight_hh_l0"], moved.state["lstm.weight_hh_l0"]
    )
    assert not torch.equal(
        moved.state["lstm.weight_hh_l0"], start.state_dict()["lstm.weight_hh_l0"]
    )
    with pytest.raises(ValueError, match="holds a model of"):
        train_code(seed=9, hidden_dim=6, steps=2, on_step=None, init_from=saved, **SMALL)
    with pytest.raises(ValueError, match="learning_rate"):
        train_code(seed=9, hidden_dim=8, steps=2, on_step=None, learning_rate=float("nan"), **SMALL)


def test_dropout_changes_training_only_and_repeats_with_the_seed() -> None:
    stack = {"seed": 3, "hidden_dim": 8, "steps": 2, "on_step": None, "num_layers": 3, **SMALL}
    plain = train_code(**stack)
    # At a vanishing share the layer-by-layer views train exactly as the stacked nn.LSTM:
    # the same model, every parameter reached.
    vanishing = train_code(**stack, dropout=1e-12)
    for name, tensor in plain.state.items():
        torch.testing.assert_close(vanishing.state[name], tensor)
    global_rng = torch.get_rng_state()
    dropped = train_code(**stack, dropout=0.3)
    assert torch.equal(torch.get_rng_state(), global_rng)  # masks from the seed's generator
    again = train_code(**stack, dropout=0.3)
    for name, tensor in dropped.state.items():
        torch.testing.assert_close(tensor, again.state[name], rtol=0, atol=0)
    assert not torch.equal(dropped.state["lstm.weight_hh_l1"], plain.state["lstm.weight_hh_l1"])
    assert dropped.metadata["dropout"] == "0.3"
    assert "dropout" not in plain.metadata
    # Held-out figures are read without masks: the saved file, read back, gives the same loss.
    model, _ = model_from_bytes(dropped.to_bytes())
    assert model.config == CharConfig(hidden_dim=8, num_layers=3)
    held_out = held_out_text(3, SMALL["held_out_chars"]).text
    loss = next_character_loss(model, text_states(model, held_out))
    assert loss == pytest.approx(dropped.held_out["loss_nats_per_char"], rel=1e-6)
    with pytest.raises(ValueError, match="dropout"):
        train_code(seed=3, hidden_dim=8, steps=1, on_step=None, dropout=1.0, **SMALL)


def test_the_held_out_source_is_not_in_the_training_corpus() -> None:
    training, held_out_files = split_files(seed=0)
    assert training and held_out_files
    assert not set(training) & set(held_out_files)
    held_out = held_out_text(seed=0)
    assert "site-packages" not in held_out.source
    assert held_out.text


def test_the_stdlib_test_suites_join_the_corpus_only_when_asked() -> None:
    library = set(stdlib_files())
    with_tests = set(stdlib_files(with_tests=True))
    root = stdlib_root()
    assert library < with_tests
    assert all(TEST_PARTS & set(path.relative_to(root).parts) for path in with_tests - library)
    assert not any(TEST_PARTS & set(path.relative_to(root).parts) for path in library)


def test_run_text_is_nn_lstm_and_the_written_out_equations_agree() -> None:
    model = CharLSTM(CharConfig(hidden_dim=12, embedding_dim=5), torch.Generator().manual_seed(1))
    text = "def f(x):\n    return [x, 'y']\n"
    run = run_text(model, text)
    ids = encode(text)[None]
    with torch.no_grad():
        output, (_, c_n) = model.lstm(model.embedding(ids))
        logits = model.head(output)
    torch.testing.assert_close(run.h, output[0])
    torch.testing.assert_close(run.manual_h, output[0])
    torch.testing.assert_close(run.c[-1], c_n[0, 0])
    expected_loss = nn.functional.cross_entropy(logits[0, :-1], ids[0, 1:]).item()
    assert run.loss == pytest.approx(expected_loss, rel=1e-5)
    i, f, g = run.gates["i"], run.gates["f"], run.gates["g"]
    torch.testing.assert_close(run.c[1:], f[1:] * run.c[:-1] + i[1:] * g[1:])


@pytest.mark.parametrize("text", ["while (a[i] > 0):\n    i += 1\n", "x = [1, 2]\ny = (xy)\n"])
def test_run_text_and_text_states_over_several_kernel_windows_are_one_nn_lstm_call(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    """Read 5 characters at a time (the second text fills its last window exactly): the
    states, the hand-written h of every layer and the loss are those of one nn.LSTM call."""
    monkeypatch.setattr(charmodel, "KERNEL_WINDOW", 5)
    config = CharConfig(hidden_dim=6, embedding_dim=4, num_layers=2)
    model = CharLSTM(config, torch.Generator().manual_seed(3))
    run = run_text(model, text)
    with torch.no_grad():
        ids = encode(text)[None]  # (1, T)
        output, (h_n, c_n) = model.lstm(model.embedding(ids))
        logits = model.head(output)  # (1, T, V)
    expected_loss = nn.functional.cross_entropy(logits[0, :-1], ids[0, 1:]).item()
    torch.testing.assert_close(run.h[:, 6:], output[0])  # the last layer's units
    torch.testing.assert_close(run.manual_h, run.h)  # both layers
    torch.testing.assert_close(run.c[-1], c_n[:, 0].reshape(-1))
    assert run.loss == pytest.approx(expected_loss, rel=1e-5)
    # h and C alone, as the cell ranking reads them: the same numbers.
    states = text_states(model, text)
    h, c = states.h, states.c
    assert h.shape == c.shape == (len(text), 12)
    assert states.text == text
    torch.testing.assert_close(h[:, 6:], output[0])
    torch.testing.assert_close(h[-1], h_n[:, 0].reshape(-1))
    torch.testing.assert_close(c[-1], c_n[:, 0].reshape(-1))
    torch.testing.assert_close(c, run.c)
    assert next_character_loss(model, states) == pytest.approx(expected_loss, rel=1e-5)
    # Each window's first C continues the last window's: C_t = f_t C_{t-1} + i_t g_t throughout.
    i, f, g = run.gates["i"], run.gates["f"], run.gates["g"]
    torch.testing.assert_close(run.c[1:], f[1:] * run.c[:-1] + i[1:] * g[1:])


def test_run_text_puts_each_layer_s_units_in_turn() -> None:
    config = CharConfig(hidden_dim=4, embedding_dim=3, num_layers=2)
    model = CharLSTM(config, torch.Generator().manual_seed(2))
    text = "x = (1, [2])\n"
    run = run_text(model, text)
    assert run.h.shape == run.c.shape == (len(text), 8)
    # The first layer alone: an nn.LSTM with its weights, reading the embedded text.
    first = nn.LSTM(3, 4, batch_first=True)
    first.load_state_dict(
        {name: value for name, value in model.lstm.state_dict().items() if name.endswith("_l0")}
    )
    with torch.no_grad():
        x = model.embedding(encode(text)[None])
        first_h, (_, first_c) = first(x)
        output, (_, c_n) = model.lstm(x)
    torch.testing.assert_close(run.h[:, :4], first_h[0])
    torch.testing.assert_close(run.h[:, 4:], output[0])
    torch.testing.assert_close(run.c[-1], torch.cat([first_c[0, 0], c_n[1, 0]]))
    torch.testing.assert_close(run.manual_h, run.h)
    assert unit_name(5, config) == "unit 5 (layer 1, its unit 1)"
    assert unit_name(2, config) == "unit 2 (layer 0)"
    assert unit_name(3, CharConfig(hidden_dim=4)) == "unit 3"
    with pytest.raises(ValueError, match=r"unit must be in 0\.\.7"):
        unit_name(8, config)
    # A last layer that holds nothing (C stays 0): the finder's cells are the first layer's.
    with torch.no_grad():
        for name, value in model.lstm.named_parameters():
            if name.endswith("_l1"):
                value.zero_()
    run = run_text(model, text)
    cells = find_cells(run.c, run.h, label_text(text))
    for varying in ("bracket_depth", "column"):  # the labels that vary over this text
        assert 0 <= cells[varying].unit < 4 and cells[varying].r_c != 0


def test_weights_round_trip_and_other_files_are_refused() -> None:
    model = CharLSTM(CharConfig(hidden_dim=6, embedding_dim=4))
    data = weights_to_bytes(model, {"seed": "3"})
    loaded, metadata = model_from_bytes(data)
    assert metadata["seed"] == "3"
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[name], tensor, rtol=0, atol=0)
    with pytest.raises(ValueError, match="not a safetensors"):
        model_from_bytes(b"\x00" * 64)
    from safetensors.torch import save

    with pytest.raises(ValueError, match="no character-level LSTM"):
        model_from_bytes(save({"x": torch.zeros(2)}))
    # A header that is JSON but not a map, or whose metadata is not one: one sentence.
    for header in (b"[1, 2]", b'{"__metadata__": [1]}'):
        with pytest.raises(ValueError, match="is not a map"):
            charmodel.read_metadata(len(header).to_bytes(8, "little") + header)


def test_load_text_model_reads_a_saved_file_by_path_and_refuses_what_is_not_one(
    tmp_path: Path,
) -> None:
    trained = train_code(seed=4, hidden_dim=6, steps=2, on_step=None, **SMALL)
    saved = tmp_path / "mine.safetensors"
    saved.write_bytes(trained.to_bytes())
    model, metadata = load_text_model(str(saved))
    assert metadata["seed"] == "4"
    assert not model.training
    for name, tensor in trained.state.items():
        torch.testing.assert_close(model.state_dict()[name], tensor, rtol=0, atol=0)
    with pytest.raises(ValueError, match="neither a weights file nor a shipped model"):
        load_text_model(str(tmp_path / "missing.safetensors"))
    (tmp_path / "notes.txt").write_text("not weights")
    with pytest.raises(ValueError, match="not a safetensors"):
        load_text_model(str(tmp_path / "notes.txt"))


# The shipped model's cells on its held-out source, as its training log and the README give them.
DOCUMENTED_UNITS = {
    "in_string": 80,
    "in_comment": 177,
    "bracket_depth": 42,
    "column": 90,
    "indentation": 82,
}
DOCUMENTED_R_C = {
    "in_string": 0.689,
    "in_comment": 0.476,
    "bracket_depth": -0.793,
    "column": -0.877,
    "indentation": 0.898,
}


def test_the_shipped_model_gives_its_documented_cells_on_held_out_source() -> None:
    model, metadata = model_from_bytes(weights_bytes("code"))
    assert metadata["task"] == "code"
    held_out = held_out_text(int(metadata["seed"]))
    assert held_out.source == metadata["held_out_source"]
    run = run_text(model, held_out.text)
    assert run.loss == pytest.approx(float(metadata["held_out_loss"]), abs=1e-3)
    cells = find_cells(run.c, run.h, label_text(held_out.text))
    for name, r_c in DOCUMENTED_R_C.items():
        assert cells[name].unit == DOCUMENTED_UNITS[name], name
        assert cells[name].r_c == pytest.approx(r_c, abs=0.005), name


def test_the_readme_text_notebook_example_runs_the_documented_depth_unit() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- notebook-example-text -->\n```python\n(.*?)```", readme, re.DOTALL)
    assert found, "README.md has no example after <!-- notebook-example-text -->"
    namespace: dict[str, object] = {}
    exec(compile(found.group(1), "README.md", "exec"), namespace)
    unit = namespace["unit"]
    assert unit == DOCUMENTED_UNITS["bracket_depth"]
    text = namespace["text"]
    assert isinstance(text, str)
    strip = namespace["figure"].data[0]  # type: ignore[attr-defined]
    drawn = [value for row in strip.z for value in row if value is not None]
    run = namespace["run"]
    torch.testing.assert_close(
        torch.tensor(drawn, dtype=torch.float64),
        run.c[:, unit].double(),  # type: ignore[attr-defined]
    )
    assert len(drawn) == len(text)
    title = namespace["figure"].layout.title.text  # type: ignore[attr-defined]
    assert title == f"unit {unit} (layer 0): C<sub>t</sub> after each character"


def test_a_file_named_like_a_shipped_model_is_read_by_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("code").write_bytes(b"not the shipped weights")
    assert weights_bytes("./code") == b"not the shipped weights"
    assert weights_bytes("code") == SHIPPED_MODELS["code"].read_bytes()


def test_chrono_timescale_gives_each_unit_a_memory_length_from_the_seed() -> None:
    stack = {"seed": 4, "hidden_dim": 8, "steps": 1, "on_step": None, "num_layers": 2, **SMALL}
    global_rng = torch.get_rng_state()
    # A learning rate of 0 leaves the starting weights as they were drawn.
    chrono = train_code(**stack, chrono_timescale=64, learning_rate=0.0)
    assert torch.equal(torch.get_rng_state(), global_rng)
    for k in range(2):
        bias = chrono.state[f"lstm.bias_ih_l{k}"] + chrono.state[f"lstm.bias_hh_l{k}"]
        input_bias, forget_bias = bias[:8], bias[8:16]
        memory = forget_bias.exp()  # f = u / (1 + u): C keeps about 1 + u steps
        assert bool(((memory >= 1.0 - 1e-5) & (memory <= 63.0 + 1e-4)).all())
        assert memory.std() > 1.0  # one length per unit, not one for all
        torch.testing.assert_close(input_bias, -forget_bias)
    assert chrono.metadata["chrono_timescale"] == "64"
    again = train_code(**stack, chrono_timescale=64, learning_rate=0.0)
    torch.testing.assert_close(again.state["lstm.bias_ih_l1"], chrono.state["lstm.bias_ih_l1"])
    plain = train_code(**stack, learning_rate=0.0)
    assert "chrono_timescale" not in plain.metadata
    torch.testing.assert_close(plain.state["lstm.weight_hh_l0"], chrono.state["lstm.weight_hh_l0"])
    with pytest.raises(ValueError, match="chrono_timescale"):
        train_code(**stack, chrono_timescale=1)


@pytest.mark.parametrize("seconds", [0.0, -5.0, float("nan")])
def test_a_time_budget_that_is_not_positive_is_refused_before_any_work(seconds: float) -> None:
    with pytest.raises(ValueError, match="max_seconds must be a number > 0"):
        train_code(seed=0, hidden_dim=4, steps=1, max_seconds=seconds)
