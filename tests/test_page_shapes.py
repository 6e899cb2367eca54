"""pages/shapes.py (AppTest): the shapes shown are nn.LSTM's real tensor shapes; the preset."""

from __future__ import annotations

import pytest
import torch
from conftest import open_page
from streamlit.testing.v1 import AppTest
from torch import nn

from lstm_core import RunConfig


def plain_lstm_shapes(config: RunConfig) -> dict[str, tuple[int, ...]]:
    """Shapes from plain PyTorch, independent of the app's code."""
    torch.manual_seed(0)
    lstm = nn.LSTM(config.input_dim, config.hidden_dim, config.num_layers, batch_first=True)
    x = torch.randn(config.batch_size, config.seq_len, config.input_dim)
    output, (h_n, c_n) = lstm(x)
    shapes = {"input x": x.shape, "output": output.shape, "h_n": h_n.shape, "c_n": c_n.shape}
    shapes.update({name: p.shape for name, p in lstm.named_parameters()})
    return {name: tuple(shape) for name, shape in shapes.items()}


def page_shapes(at: AppTest) -> dict[str, tuple[int, ...]]:
    rows = {}
    # The page's two tables: input and outputs first, then the weights.
    for index, column in ((0, "tensor"), (1, "parameter")):
        table = at.dataframe[index].value
        for name, text in zip(table[column], table["shape"], strict=True):
            rows[name] = tuple(int(n) for n in text.strip("(,)").split(",") if n.strip())
    return rows


@pytest.mark.parametrize(
    "sizes",
    [
        {"batch_size": 1, "seq_len": 7, "input_dim": 3, "hidden_dim": 2, "num_layers": 1},
        {"batch_size": 3, "seq_len": 5, "input_dim": 4, "hidden_dim": 6, "num_layers": 3},
        {"batch_size": 8, "seq_len": 2, "input_dim": 1, "hidden_dim": 9, "num_layers": 2},
    ],
)
def test_shapes_equal_real_tensor_shapes(sizes: dict[str, int]) -> None:
    at = open_page("shapes", **sizes)
    assert page_shapes(at) == plain_lstm_shapes(RunConfig(**sizes))


def test_shapes_preset_button_loads_the_brief_example() -> None:
    at = open_page("shapes", hidden_dim=3)
    at.button(key="shapes_preset").click().run()
    assert not at.exception
    assert (at.session_state["batch_size"], at.session_state["seq_len"]) == (2, 4)
    shapes = page_shapes(at)
    assert shapes["input x"] == (2, 4, 5)
    assert shapes["output"] == (2, 4, 8)
    assert shapes["h_n"] == (1, 2, 8) and shapes["c_n"] == (1, 2, 8)
    assert shapes["weight_ih_l0"] == (32, 5) and shapes["weight_hh_l0"] == (32, 8)
    assert shapes["bias_ih_l0"] == (32,)
