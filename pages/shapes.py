"""Tensor shapes of a real run: input, output, h_n, c_n and every weight, read from the tensors."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import torch

from lstm_core.model.config import PRESETS
from ui.entry import require_app
from ui.model_source import current_source
from ui.runs import run_or_stop
from ui.settings import load_preset
from ui.share import stop_page
from ui.source_cell_pages import shapes_body
from ui.state import current_config

require_app()

SHAPES_PRESET = "Shapes example"
_example = PRESETS[SHAPES_PRESET]


st.title("Tensor shapes")
model_source = current_source()
st.markdown(
    "What `nn.LSTM(input_size=I, hidden_size=H, num_layers=L, batch_first=True)` takes and "
    "returns for "
    + ("the sidebar's settings" if model_source is None else "the model picked in the sidebar")
    + ". Every shape below is read from the tensors of a real run, not typed in."
)
if model_source is not None:  # a checkpoint or a trained model
    shapes_body(model_source)
    stop_page()
st.button(
    "Load the shapes example",
    key="shapes_preset",
    on_click=load_preset,
    args=(SHAPES_PRESET,),
    help=f"batch {_example.batch_size}, {_example.seq_len} steps, {_example.input_dim} features, "
    f"hidden {_example.hidden_dim}, "
    + ("one layer." if _example.num_layers == 1 else f"{_example.num_layers} layers."),
)

config = current_config()
if config is None:
    stop_page()
result = run_or_stop(config)
# The letters of the docs and of every shape comment (I is the input size, not 1 or l).
B, T, I, H, L = (  # noqa: E741
    config.batch_size,
    config.seq_len,
    config.input_dim,
    config.hidden_dim,
    config.num_layers,
)
st.markdown(f"**Settings:** B = {B}, T = {T}, I = {I}, H = {H}, L = {L}.")


def shape_text(tensor: torch.Tensor) -> str:
    """The tensor's shape as Python prints a tuple: (2, 4, 5), (32,)."""
    return str(tuple(tensor.shape))


rows = [
    ("input x", result.x, "(B, T, I)", "the sequence fed in: batch first, then time"),
    ("output", result.output, "(B, T, H)", "h_t of the last layer at every step"),
    ("h_n", result.h_n, "(L, B, H)", "h at the last step, of every layer"),
    ("c_n", result.c_n, "(L, B, H)", "C at the last step, of every layer"),
]
st.subheader("Input and outputs: `output, (h_n, c_n) = lstm(x)`")
st.dataframe(
    pd.DataFrame(
        [
            {"tensor": name, "shape": shape_text(tensor), "layout": layout, "what it is": text}
            for name, tensor, layout, text in rows
        ]
    ),
    key="shapes_io",
    hide_index=True,
)
st.caption(
    f"output[:, -1] is h_n[-1] (max |difference| {result.last_step_gap:.3g}): the last step of the "
    "last layer appears in both. nn.LSTM returns C only for the last step; the app calls it "
    "again on every step at once, as one-step sequences from the previous state, to keep "
    f"every C_t: h and C of shape {shape_text(result.c)} = (L, B, T, H)."
)

st.subheader("Weights per layer")
st.markdown(
    "Each weight stacks the four gates' blocks in PyTorch's order **i, f, g, o**, H rows each: "
    "hence 4H rows. Layer 0 reads x (I columns); layer k > 0 reads layer k-1's h (H columns)."
)
weight_rows = []
for k in range(L):
    for name, layout, text in (
        (f"weight_ih_l{k}", "(4H, I)" if k == 0 else "(4H, H)", "W_ii | W_if | W_ig | W_io"),
        (f"weight_hh_l{k}", "(4H, H)", "W_hi | W_hf | W_hg | W_ho"),
        (f"bias_ih_l{k}", "(4H,)", "b_ii | b_if | b_ig | b_io"),
        (f"bias_hh_l{k}", "(4H,)", "b_hi | b_hf | b_hg | b_ho"),
    ):
        tensor = result.parameters[name]
        weight_rows.append(
            {
                "parameter": name,
                "shape": shape_text(tensor),
                "layout": layout,
                "blocks": text,
                "numbers": tensor.numel(),
            }
        )
st.dataframe(pd.DataFrame(weight_rows), key="shapes_weights", hide_index=True)
total = sum(row["numbers"] for row in weight_rows)
st.caption(
    f"{total:,} parameters in all: 4H(I + H + 2) in layer 0"
    + (", 4H(2H + 2) in each layer above." if config.num_layers > 1 else ".")
)

st.subheader("batch_first")
st.markdown(
    f"With `batch_first=True` (used here) x and output put the batch first: x is (B, T, I) = "
    f"{shape_text(result.x)}. PyTorch's default `batch_first=False` puts time first: "
    f"x would be (T, B, I) = ({T}, {B}, {I}) and output (T, B, H) = ({T}, {B}, {H}). "
    "**h_n and c_n ignore batch_first**: they are always (L, B, H), layer first."
)
st.code(
    f"""import torch
from torch import nn

lstm = nn.LSTM(input_size={I}, hidden_size={H}, num_layers={L}, batch_first=True)
x = torch.randn({B}, {T}, {I})           # (B, T, I)
output, (h_n, c_n) = lstm(x)
print(output.shape)                     # {shape_text(result.output)}
print(h_n.shape, c_n.shape)             # {shape_text(result.h_n)} {shape_text(result.c_n)}""",
    language="python",
)
