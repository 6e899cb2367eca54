"""lstm_core.model.source_tables: the tables of a model run that the pages show as text."""

from __future__ import annotations

import pytest
from safetensors.torch import save
from torch import nn

from lstm_core.analysis.cell_finder import UnitMatch
from lstm_core.model.source import CellRanking, ModelSource, run_source, sha256
from lstm_core.model.source_tables import shapes_table, steps_read, units_holding


def test_steps_read_lists_the_words_and_labels_around_a_step() -> None:
    run = run_source(ModelSource(kind="brackets", batch_size=2))
    rows = steps_read(run, 1, 0, around=2)
    assert [row["t"] for row in rows] == ["0", "1", "2"]  # clipped at the start
    assert [row["reads"] for row in rows] == list(run.step_words[1][:3])
    assert [row["answers"] for row in rows] == list(run.step_answers[1][:3])
    assert all(row["answers"].startswith('P(")" next) ') for row in rows)
    assert [float(row["depth"]) for row in rows] == run.labels["depth"][1, :3].tolist()
    depth = 0
    for symbol, row in zip(run.step_words[1], steps_read(run, 1, 63, around=63), strict=True):
        depth += {"(": 1, ")": -1}.get(symbol, 0)  # Dyck-1: the depth after each symbol
        assert float(row["depth"]) == depth
    assert steps_read(run_source(ModelSource(kind="code")), 0, 5) == []  # characters instead
    with pytest.raises(ValueError, match="not in this run"):
        steps_read(run, 2, 0)
    recall = run_source(ModelSource(kind="recall", batch_size=1))
    gap = {row["stored value"] for row in steps_read(recall, 0, 39, around=39)}
    assert "" in gap and len(gap) == 2  # undefined outside the gap, one value inside it


def test_units_holding_maps_the_ranking_onto_a_layer() -> None:
    def match(label: str, unit: int) -> UnitMatch:
        return UnitMatch(label, unit, 0.9, 0.5, unit, 0.5)

    ranking = CellRanking(
        {
            "column": match("column", 90),
            "bracket_depth": match("bracket_depth", 300),
            "in_string": match("in_string", 90),
        }
    )
    assert units_holding(ranking, 256, 0) == {90: ["column in the line", "inside a string"]}
    assert units_holding(ranking, 256, 1) == {44: ["bracket depth"]}
    assert units_holding(CellRanking(), 256, 0) == {}


def test_shapes_table_names_the_projection_and_the_directions() -> None:
    # Sizes only matter here, not the weights nn.LSTM draws.
    lstm = nn.LSTM(4, 5, num_layers=2, bidirectional=True, proj_size=3, batch_first=True)
    data = save(lstm.state_dict())
    run = run_source(
        ModelSource(kind="file", file_sha256=sha256(data), seq_len=6, batch_size=2), data
    )
    shapes = {row["tensor"]: row["shape"] for row in shapes_table(run)}
    assert shapes["h_n"] == "(4, 2, 3)" and shapes["c_n"] == "(4, 2, 5)"
    assert shapes["h_t"] == "(2, 3)" and shapes["C_t"] == "(2, 5)"
    assert shapes["weight_hr_l1_reverse"] == "(3, 5)"
    assert shapes["output"] == "(2, 6, 6)"
