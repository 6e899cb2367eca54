"""A standalone script that reruns a loaded or trained model: `source_script(run, file_name)`.

For a checkpoint, the script imports torch (and safetensors for a .safetensors file) only: it
reads the same file, given as its first argument (default: the uploaded file's name), with
safetensors or `torch.load(weights_only=True)`, builds the nn.LSTM the app inferred, reads the
same input (a .npy as second argument, else the same seeded noise) and prints
{"h_n": [L·D][B][P], "c_n": [L·D][B][H]} as its last line, nn.LSTM's final states, equal to
the app's `trace.h_n` / `trace.c_n`. For a task model it uses lstm_core to draw the held-out
sequences of the seed and length its weights file records, and for the code model to read its
held-out source.
"""

from __future__ import annotations

from lstm_core.model.source import SourceRun

_FILE_SCRIPT = '''\
"""Rerun the LSTM State Explorer's view of your checkpoint in plain PyTorch.

Run: python {script} [CHECKPOINT] [INPUT.npy]
Its last printed line is one JSON object {{"h_n": ..., "c_n": ...}}: nn.LSTM's final states,
h_n (layers x directions, batch, {width}) and c_n (layers x directions, batch, {hidden}).
"""

import json
import sys

import torch
from torch import nn

WEIGHTS = sys.argv[1] if len(sys.argv) > 1 else {file_name!r}
INPUT = sys.argv[2] if len(sys.argv) > 2 else None  # (T, I) or (B, T, I) .npy; else noise
PREFIX = {prefix!r}  # where the LSTM's parameters sit in the file
SEED, SEQ_LEN, BATCH_SIZE = {seed}, {seq_len}, {batch_size}  # the seeded noise without INPUT

if WEIGHTS.endswith(".safetensors"):
    from safetensors.torch import load_file

    tensors = load_file(WEIGHTS)
else:
    tensors = torch.load(WEIGHTS, weights_only=True)  # never runs code from the file


def flatten(value, prefix=""):
    """Nested dicts ({{"state_dict": ...}}) to dotted names, as the app reads them."""
    if isinstance(value, torch.Tensor):
        return {{prefix[:-1]: value}}
    out = {{}}
    if isinstance(value, dict | list | tuple):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            out.update(flatten(item, f"{{prefix}}{{key}}."))
    return out


tensors = flatten(tensors)
lstm = nn.LSTM(
    {input_size}, {hidden_size}, num_layers={num_layers}, bias={bias},
    batch_first=True, bidirectional={bidirectional}, proj_size={proj_size},
)
names = set(lstm.state_dict())
own = {{n[len(PREFIX):]: t.float() for n, t in tensors.items() if n.startswith(PREFIX)}}
lstm.load_state_dict({{n: t for n, t in own.items() if n in names}})
if INPUT is None:
    generator = torch.Generator().manual_seed(SEED)
    x = torch.randn(BATCH_SIZE, SEQ_LEN, {input_size}, generator=generator)  # (B, T, I)
else:
    import numpy as np

    x = torch.from_numpy(np.load(INPUT, allow_pickle=False)).float()
    x = x[None] if x.dim() == 2 else x  # (B, T, I)
with torch.no_grad():
    output, (h_n, c_n) = lstm.eval()(x)
print("output", tuple(output.shape), "h_n", tuple(h_n.shape), "c_n", tuple(c_n.shape))
print(json.dumps({{"h_n": h_n.tolist(), "c_n": c_n.tolist()}}))
'''

# The task and code scripts' imports of lstm_core end with this: one line on how to run the
# script where lstm_core cannot be found, instead of a traceback.
_NEEDS_LSTM_CORE = """\
except ModuleNotFoundError as missing:
    if (missing.name or "").split(".")[0] != "lstm_core":
        raise  # another package lstm_core needs: pip says which
    sys.exit("This script needs the LSTM State Explorer's lstm_core: run it as "
             "PYTHONPATH=<the LSTM State Explorer's folder> python {script}, "
             "or pip install that folder first")"""

_TASK_SCRIPT = '''\
"""Rerun the LSTM State Explorer's view of the trained {task} model.

Run: PYTHONPATH=<the LSTM State Explorer's folder> python {script} [WEIGHTS]
(it needs that folder's lstm_core and the packages it lists in requirements.txt;
WEIGHTS: {weights_help}).
Its last printed line is one JSON object {{"h_n": ..., "c_n": ...}}: nn.LSTM's final states.
"""

import json
import sys
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file

try:
    from lstm_core.learned.tasks import get_task, held_out_of, model_from_state
    from lstm_core.model.source import trained_weights_path
{needs_lstm_core}

WEIGHTS = sys.argv[1] if len(sys.argv) > 1 else {default_weights}
if not Path(WEIGHTS).is_file():
    sys.exit(f"No weights file {{WEIGHTS}}: {missing_help}")
task = get_task({task!r})
model = model_from_state({task!r}, load_file(WEIGHTS)).eval()
with safe_open(WEIGHTS, "pt") as weights_file:
    metadata = weights_file.metadata() or {{}}  # the training seed and length
test = held_out_of(task, metadata)  # the held-out sequences of its training seed
with torch.no_grad():
    x = task.lstm_input(model, test.inputs)[:{batch_size}]  # (B, T, I): what the LSTM reads
    output, (h_n, c_n) = model.recurrent(x)
print(json.dumps({{"h_n": h_n.tolist(), "c_n": c_n.tolist()}}))
'''

_CODE_SCRIPT = '''\
"""Rerun the LSTM State Explorer's view of the trained code model.

Run: PYTHONPATH=<the LSTM State Explorer's folder> python {script} [WEIGHTS]
(it needs that folder's lstm_core and the packages it lists in requirements.txt; WEIGHTS:
a file saved by `python -m lstm_core train --task code --save`, else the shipped model).
Its last printed line is one JSON object {{"h_n": ..., "c_n": ...}}: nn.LSTM's final states.
"""

import json
import sys

import torch

try:
    from lstm_core.learned import held_out_text, load_text_model
    from lstm_core.learned.charmodel import encode
{needs_lstm_core}

WEIGHTS = sys.argv[1] if len(sys.argv) > 1 else "code"  # a weights file, or the shipped model
try:
    model, metadata = load_text_model(WEIGHTS)  # read as tensors: nothing in the file runs
except (OSError, ValueError) as error:
    sys.exit(f"Cannot read {{WEIGHTS}}: {{error}}")
text = held_out_text(int(metadata.get("seed", "0"))).text[:{chars}]  # source it never saw
with torch.no_grad():
    x = model.embedding(encode(text)[None])  # (1, T, E): what the LSTM reads
    output, (h_n, c_n) = model.lstm(x)
print(json.dumps({{"h_n": h_n.tolist(), "c_n": c_n.tolist()}}))
'''


def source_script_name(run: SourceRun) -> str:
    """The script's file name."""
    return f"reproduce_{run.source.kind}_lstm.py"


def source_script(run: SourceRun, file_name: str) -> str:
    """The script that reruns `run`, loading the weights from `file_name` by default (a shipped
    model's: its file in this repository, found by lstm_core)."""
    source, spec = run.source, run.spec
    script = source_script_name(run)
    needs_lstm_core = _NEEDS_LSTM_CORE.format(script=script)
    if source.kind == "code":
        return _CODE_SCRIPT.format(
            script=script, chars=len(run.text), needs_lstm_core=needs_lstm_core
        )
    if source.kind != "file":
        shipped = not source.file_sha256
        return _TASK_SCRIPT.format(
            task=source.kind,
            script=script,
            needs_lstm_core=needs_lstm_core,
            weights_help="the shipped model's file, unless given"
            if shipped
            else f"by default {file_name}, as the Memory lab saves it",
            default_weights=f"str(trained_weights_path({source.kind!r}))"
            if shipped
            else repr(file_name),
            missing_help="give the path of a weights file"
            if shipped
            else "save it from the Memory lab (Save the trained LSTM) into the folder you run "
            "this from, or give its path",
            batch_size=run.trace.batch_size,
        )
    return _FILE_SCRIPT.format(
        script=script,
        file_name=file_name,
        prefix=spec.prefix,
        seed=source.seed,
        seq_len=source.seq_len,
        batch_size=source.batch_size,
        input_size=spec.input_size,
        hidden_size=spec.hidden_size,
        num_layers=spec.num_layers,
        bias=spec.bias,
        bidirectional=spec.bidirectional,
        proj_size=spec.proj_size,
        width=spec.output_size,
        hidden=spec.hidden_size,
    )
