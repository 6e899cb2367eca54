"""pages/gates.py (AppTest): every gate figure drawn; long runs binned for the screen."""

from __future__ import annotations

from conftest import chart_specs, decode, open_page

from lstm_core.figures.downsample import heatmap_columns


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
