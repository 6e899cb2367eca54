"""`python -m lstm_core cells`: a model's cells, and h and C at every character to check them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from lstm_core.analysis.cell_finder import pearson
from lstm_core.cli.cells import MAX_TEXT_CHARS
from lstm_core.cli.main import main
from lstm_core.learned.charmodel import CharConfig, CharLSTM, weights_to_bytes
from lstm_core.learned.labels import LABEL_NAMES, label_text

SOURCE = 'def f(a, b=(1, 2)):\n    """Doc."""\n    return [a, "b"]  # end\n'


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(args)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_cells_of_the_shipped_model_on_a_text_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text_file = tmp_path / "snippet.py"
    text_file.write_text(SOURCE)
    status, out, _ = run_cli(
        ["cells", "--model", "code", "--text-file", str(text_file), "--json"], capsys
    )
    assert status == 0
    report = json.loads(out)
    assert report["text"] == SOURCE
    c, h = torch.tensor(report["c"]), torch.tensor(report["h"])
    assert c.shape == h.shape and c.shape[0] == len(SOURCE)
    assert set(report["units"]) == set(LABEL_NAMES)
    assert report["constant_labels"] == []
    labels = label_text(SOURCE)
    for name, unit in report["units"].items():
        # Anyone can recompute the correlations from the printed states.
        r_c = pearson(c, labels[name])
        assert abs(float(r_c[unit["unit"]])) == pytest.approx(float(r_c.abs().max()), abs=1e-4)
        assert unit["r_c"] == pytest.approx(float(r_c[unit["unit"]]), abs=1e-4)
        assert unit["r_h"] == pytest.approx(float(pearson(h, labels[name])[unit["unit"]]), abs=1e-4)


def test_the_table_without_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text_file = tmp_path / "snippet.py"
    text_file.write_text(SOURCE)
    status, out, _ = run_cli(["cells", "--model", "code", "--text-file", str(text_file)], capsys)
    assert status == 0
    header = out.splitlines()[0].split()
    # The shipped model is a stack of two layers: the table gives each unit's layer.
    assert header == ["label", "unit", "layer", "r(C)", "r(h)"]
    assert len(out.splitlines()) == 1 + len(LABEL_NAMES)


def test_a_label_absent_from_the_text_is_named_not_given_a_unit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text_file = tmp_path / "plain.py"
    text_file.write_text("x = 1\ny = x + 2\nprint(y)\n")  # no string, comment or indent
    status, out, _ = run_cli(
        ["cells", "--model", "code", "--text-file", str(text_file), "--json"], capsys
    )
    assert status == 0
    report = json.loads(out)
    absent = ["in_string", "in_comment", "indentation"]
    assert report["constant_labels"] == absent
    assert set(report["units"]) == set(LABEL_NAMES) - set(absent)
    status, out, _ = run_cli(["cells", "--model", "code", "--text-file", str(text_file)], capsys)
    lines = out.splitlines()
    # The table keeps its columns; the labels without a unit follow it on one line.
    assert len(lines) == 1 + len(LABEL_NAMES) - len(absent) + 1
    assert lines[-1] == "one value over the whole text, no unit to find: " + ", ".join(absent)


def test_one_character_has_states_and_no_loss_in_strict_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text_file = tmp_path / "one.py"
    text_file.write_text("x")
    status, out, _ = run_cli(
        ["cells", "--model", "code", "--text-file", str(text_file), "--json"], capsys
    )
    assert status == 0
    report = json.loads(out, parse_constant=lambda constant: pytest.fail(f"{constant} in JSON"))
    assert report["text"] == "x" and len(report["c"]) == len(report["h"]) == 1
    assert report["loss_nats_per_char"] is None  # nothing after the one character to predict


def test_a_stacked_model_s_table_gives_each_unit_s_layer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = CharConfig(hidden_dim=4, embedding_dim=3, num_layers=2)
    weights = tmp_path / "stacked.safetensors"
    model = CharLSTM(config, torch.Generator().manual_seed(5))
    weights.write_bytes(weights_to_bytes(model, {"seed": "0", "steps": "0"}))
    text_file = tmp_path / "snippet.py"
    text_file.write_text(SOURCE)
    args = ["cells", "--model", str(weights), "--text-file", str(text_file)]
    status, out, _ = run_cli([*args, "--json"], capsys)
    report = json.loads(out)
    assert (status, report["num_layers"], report["layer_width"]) == (0, 2, 4)
    assert len(report["c"][0]) == 8
    status, out, _ = run_cli(args, capsys)
    rows = [line.split() for line in out.splitlines()]
    assert rows[0] == ["label", "unit", "layer", "r(C)", "r(h)"]
    for row in rows[1:]:
        assert int(row[2]) == int(row[1]) // 4 == report["units"][row[0]]["unit"] // 4


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (lambda tmp: ["--model", "nonesuch"], "neither a weights file nor a shipped model"),
        (lambda tmp: ["--model", "code", "--text-file", str(tmp / "missing.py")], "no such"),
        (lambda tmp: ["--model", str(tmp / "bad.safetensors")], "not a safetensors"),
        (lambda tmp: ["--model", "code", "--text-file", str(tmp / "long.py")], "at most"),
    ],
)
def test_bad_input_is_one_line_and_status_2(
    make_args, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.safetensors").write_bytes(b"\x10" + b"\x00" * 63)
    (tmp_path / "long.py").write_text("x\n" * (MAX_TEXT_CHARS // 2 + 1))
    status, out, err = run_cli(["cells", *make_args(tmp_path), "--json"], capsys)
    assert status == 2
    assert not out
    assert message in err and len(err.strip().splitlines()) == 1


def test_the_cell_table_has_no_rows_for_a_label_absent_from_the_text() -> None:
    from lstm_core.learned.cell_table import cell_table
    from lstm_core.learned.charmodel import run_text

    model = CharLSTM(CharConfig(hidden_dim=6, embedding_dim=4), torch.Generator().manual_seed(2))
    rows = cell_table(run_text(model, "x = (1, 2)\ny = x\n"), top=2)
    labels = {row.label for row in rows}
    assert labels == {"bracket_depth", "column"}  # no string, comment or indent here
    assert len(rows) == 2 * len(labels)


def test_r_outside_strings_leaves_out_the_brackets_a_string_holds() -> None:
    from lstm_core.learned.cell_table import cell_table
    from lstm_core.learned.charmodel import TextRun

    text = 'x = (1, [2])\ns = "(a (b) c)"\ny = (x)\n'
    labels = label_text(text)
    depth = labels["bracket_depth"].double()  # the tokenizer's: no depth inside the string
    outside = (labels["in_string"] == 0).numpy()
    every_bracket = []  # a counter of every bracket read, the string's too, after each one
    count = 0
    for character in text:
        count += (character in "([{") - (character in ")]}")
        every_bracket.append(count)
    noise = torch.linspace(-1.0, 1.0, len(text), dtype=torch.float64).sin()
    c = torch.stack([torch.tensor(every_bracket, dtype=torch.float64), depth, noise], dim=1)
    run = TextRun(text, h=c.clone(), c=c, gates={}, manual_h=c.clone(), loss=0.0)
    rows = [row for row in cell_table(run, top=3) if row.label == "bracket_depth"]
    assert [row.unit for row in rows] == [1, 0, 2]

    def r(x: np.ndarray, y: np.ndarray) -> float:
        return float(np.corrcoef(x, y)[0, 1])

    depth_np, counter, noise_np = depth.numpy(), np.array(every_bracket, float), noise.numpy()
    assert rows[0].r_c == pytest.approx(1.0)
    assert rows[0].r_c_outside_strings == pytest.approx(1.0)
    # The counter misses the label only inside the string.
    assert rows[1].r_c == pytest.approx(r(counter, depth_np))
    assert rows[1].r_c < 0.9
    assert rows[1].r_c_outside_strings == pytest.approx(1.0)
    assert rows[2].r_c_outside_strings == pytest.approx(r(noise_np[outside], depth_np[outside]))
    in_string_rows = [row for row in cell_table(run, top=2) if row.label == "in_string"]
    assert in_string_rows and all(row.r_c_outside_strings is None for row in in_string_rows)


def test_states_are_written_row_by_row_as_json_dumps_would_write_them() -> None:
    import io
    import json

    from lstm_core.cli.cells import DECIMALS, _write_json

    states = torch.tensor([[0.1234567891, -2.0], [3.5, 1e-9]])  # (T, H)
    report = {"units": {"column": {"unit": 1}}, "h": states, "text": 'a"\n'}
    out = io.StringIO()
    _write_json(report, out)
    rows = [[round(value, DECIMALS) for value in row] for row in states.tolist()]
    assert out.getvalue() == json.dumps({**report, "h": rows}) + "\n"
