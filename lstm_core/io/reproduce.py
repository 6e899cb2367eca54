"""A standalone plain-PyTorch script that rebuilds a run: `reproduce_script(config) -> str`.

The script imports torch and the standard library only. It draws from torch's global RNG in
the order `lstm_core.model.simulate.build_model` draws from its private generator (noise, then every
parameter, then chrono's forget biases), so its last printed line, the JSON object
{"h_n": [L][B][H], "c_n": [L][B][H]}, equals the app's `SimulationResult.h_n` / `c_n`.
"""

from __future__ import annotations

import json
import textwrap

from lstm_core.model.config import RunConfig

_HEADER = '''\
"""Rebuild one LSTM State Explorer run in plain PyTorch.

Settings:
{settings}
Run: python {filename}   (needs only torch).
Its last printed line is one JSON object,
{{"h_n": [layer][batch][unit], "c_n": [layer][batch][unit]}}: the final hidden and cell states.
"""

import json
import math

import torch
from torch import nn

SEED = {seed}
INPUT_DIM, HIDDEN_DIM, SEQ_LEN = {input_dim}, {hidden_dim}, {seq_len}  # I, H, T
BATCH_SIZE, NUM_LAYERS = {batch_size}, {num_layers}  # B, L
DTYPE = torch.{dtype}

torch.manual_seed(SEED)
# 1. The noise is drawn first, whatever the signal (float32).
noise = torch.randn(BATCH_SIZE, SEQ_LEN, INPUT_DIM)  # (B, T, I)
'''

_SIGNALS: dict[str, str] = {
    "randn": "x = noise  # signal randn: the noise itself\n",
    "sine": (
        "# signal sine: a sine per feature, phase from the noise at t = 0, plus noise of 0.1\n"
        "FREQUENCY = {frequency!r}  # cycles per step\n"
        "t = torch.arange(SEQ_LEN, dtype=torch.float32).view(1, SEQ_LEN, 1)\n"
        "phase = noise[:, :1, :] * math.pi  # (B, 1, I)\n"
        "x = torch.sin(2 * math.pi * FREQUENCY * t + phase) + 0.1 * noise\n"
    ),
    "step": (
        "# signal step: noise of 0.1 until T/4, then a jump to 1 held to the end\n"
        "t = torch.arange(SEQ_LEN, dtype=torch.float32).view(1, SEQ_LEN, 1)\n"
        "level = (t >= SEQ_LEN // 4).to(torch.float32)\n"
        "x = level + 0.1 * noise\n"
    ),
    "pulse": ("# signal pulse: 5 at t = 0, then noise of 0.1\nx = 0.1 * noise\nx[:, 0, :] = 5.0\n"),
    "csv": (
        "# signal csv: your values, rows = steps, columns = features (the noise is unused)\n"
        "VALUES = json.loads({values!r})\n"
        "x = torch.tensor(VALUES, dtype=torch.float32).expand(BATCH_SIZE, SEQ_LEN, INPUT_DIM)\n"
        "x = x.clone()\n"
    ),
}

_MODEL = """
# 2. Every weight and bias U(-1/sqrt(H), 1/sqrt(H)), PyTorch's own init, in parameter order.
lstm = nn.LSTM(INPUT_DIM, HIDDEN_DIM, NUM_LAYERS, batch_first=True)
"""

_FORGET_BIAS = """
# 3. Forget-gate bias offset: added to the forget slice (rows H..2H, gate order i, f, g, o).
FORGET_BIAS = {forget_bias!r}
with torch.no_grad():
    for k in range(NUM_LAYERS):
        getattr(lstm, f"bias_ih_l{{k}}")[HIDDEN_DIM : 2 * HIDDEN_DIM] += FORGET_BIAS
"""

_CHRONO = """
# 3. Chrono initialisation (Tallec & Ollivier 2018): b_f ~ log U(1, T_max - 1), b_i = -b_f.
CHRONO_T_MAX = {chrono_t_max!r}
with torch.no_grad():
    for k in range(NUM_LAYERS):
        bias_ih = getattr(lstm, f"bias_ih_l{{k}}")  # (4H,) blocks i, f, g, o
        bias_hh = getattr(lstm, f"bias_hh_l{{k}}")
        forget = torch.log(1 + torch.rand(HIDDEN_DIM) * (CHRONO_T_MAX - 2))
        bias_ih[HIDDEN_DIM : 2 * HIDDEN_DIM] = forget
        bias_hh[HIDDEN_DIM : 2 * HIDDEN_DIM] = 0.0
        bias_ih[:HIDDEN_DIM] = -forget
        bias_hh[:HIDDEN_DIM] = 0.0
"""

_INPUT_SCALE = """
# 4. Input scale s: layer 0's input weights times s * sqrt(H / I), so that they are drawn
#    U(-s/sqrt(I), s/sqrt(I)) and the input moves every gate equally at any H and I.
INPUT_SCALE = {input_scale!r}
with torch.no_grad():
    lstm.weight_ih_l0.mul_(INPUT_SCALE * math.sqrt(HIDDEN_DIM / INPUT_DIM))
"""

_RUN = """
# 5. Cast (the draws above are float32; float64 changes only the arithmetic) and run.
x = x.to(DTYPE)
lstm = lstm.to(DTYPE)
with torch.no_grad():
    output, (h_n, c_n) = lstm(x)  # (B, T, H), (L, B, H), (L, B, H); zero initial states

print("input x:", tuple(x.shape), " output:", tuple(output.shape), " h_n, c_n:", tuple(h_n.shape))
print(json.dumps({"h_n": h_n.tolist(), "c_n": c_n.tolist()}))
"""


def script_filename(config: RunConfig) -> str:
    """File name for the script, e.g. `reproduce_I3_H8_T100_seed0.py`."""
    return f"reproduce_{config.label()}.py"


def reproduce_script(config: RunConfig) -> str:
    """Python source that rebuilds `config`'s run with torch alone and prints h_n, c_n as JSON."""
    # The settings in the docstring, wrapped so the script reads without scrolling sideways.
    settings = textwrap.fill(
        json.dumps(config.to_dict()), width=90, initial_indent="    ", subsequent_indent="    "
    )
    parts = [
        _HEADER.format(
            settings=settings,
            filename=script_filename(config),
            seed=config.seed,
            input_dim=config.input_dim,
            hidden_dim=config.hidden_dim,
            seq_len=config.seq_len,
            batch_size=config.batch_size,
            num_layers=config.num_layers,
            dtype=config.dtype,
        )
    ]
    values = json.dumps([list(row) for row in config.input_values or ()])
    parts.append(_SIGNALS[config.signal].format(frequency=config.frequency, values=values))
    parts.append(_MODEL)
    if config.chrono_t_max > 0:
        parts.append(_CHRONO.format(chrono_t_max=config.chrono_t_max))
    elif config.forget_bias != 0:
        parts.append(_FORGET_BIAS.format(forget_bias=config.forget_bias))
    if config.input_scale > 0:
        parts.append(_INPUT_SCALE.format(input_scale=config.input_scale))
    parts.append(_RUN)
    return "".join(parts)
