"""`run --weights FILE`: any trained nn.LSTM from a file, on your input or seeded noise.

python -m lstm_core run --weights FILE [--lstm-prefix P] [--input-csv F | --input-npy F]
    [--seq-len T] [--batch-size B] [--seed S] [--dtype D] --json

The file is safetensors or a PyTorch checkpoint (read with torch.load(weights_only=True));
the LSTM is found by its parameter names and every size comes from the tensors
(lstm_core.io.checkpoint). Without --input-*, the input is seeded noise randn(B, T, I) from a
private generator, shaped by --signal (and --frequency) as in a seeded run. The JSON is
`run --json`'s, with h, c and the gates shaped (L, B, T, ·) for one direction and
(L, D, B, T, ·) for two, h of width proj_size when projected.
"""

from __future__ import annotations

import argparse
from typing import Any

import torch

from lstm_core.analysis.metrics import persistence
from lstm_core.cli.common import CliError, read_bytes, read_input_csv
from lstm_core.io.checkpoint import (
    MAX_CHECKPOINT_BYTES,
    MAX_STEPS,
    MODEL_LIMITS,
    LSTMSpec,
    check_input,
    check_input_range,
    check_run_size,
    load_lstm,
)
from lstm_core.io.npy_input import MAX_BATCH, MAX_INPUT_VALUES, MAX_NPY_BYTES, parse_npy
from lstm_core.io.strict_json import json_line
from lstm_core.model.config import DEFAULT_CONFIG, ConfigError
from lstm_core.model.settings import SETTING
from lstm_core.model.signals import make_input
from lstm_core.model.simulate import TORCH_DTYPES
from lstm_core.model.trace import trace

# Flags that shape the seeded model's weights: meaningless for loaded weights.
_SEEDED_ONLY: tuple[str, ...] = ("preset", "forget_bias", "chrono_t_max", "input_scale")
# Size flags the file decides: given, they must agree with it.
_MODEL_SIZES: dict[str, str] = {
    "input_dim": "input_size",
    "hidden_dim": "hidden_size",
    "num_layers": "num_layers",
}


def add_weights_flags(parser: argparse.ArgumentParser) -> None:
    """The flags `run` adds to the run flags for a loaded LSTM (--weights is a run flag)."""
    parser.add_argument(
        "--lstm-prefix",
        metavar="P",
        help="with --weights: which LSTM of the file, by its parameter prefix (e.g. encoder.lstm)",
    )
    parser.add_argument(
        "--input-npy",
        metavar="FILE",
        help="with --weights: input from a .npy array, (steps, features) or "
        "(batch, steps, features)",
    )


def run_with_weights(args: argparse.Namespace) -> bool:
    """`run`'s hook: run and print a loaded LSTM when --weights is given (True), else False.

    Without --weights, --lstm-prefix and --input-npy are refused (a seeded run reads a CSV).
    """
    if getattr(args, "weights", None):
        command_run_weights(args)
        return True
    for name in ("lstm_prefix", "input_npy"):
        if getattr(args, name, None):
            flag = "--" + name.replace("_", "-")
            raise CliError(f"{flag} needs --weights FILE (a seeded run reads --input-csv)")
    return False


def _read(path: str, what: str, limit: int) -> bytes:

    return read_bytes(path, what, limit)


def _check_size(spec: LSTMSpec, items: int, steps: int) -> None:
    """CliError, before the input is made, when `items` x `steps` is more than this app runs:
    the states it makes (L·D·B·T·H) or the input's values (B·T·I)."""
    try:
        check_run_size(spec, items, steps)
    except ValueError as error:
        raise CliError(str(error)) from None
    values = items * steps * spec.input_size
    if values > MAX_INPUT_VALUES:
        raise CliError(
            f"batch x steps x features = {values:,} input values is above the cap of "
            f"{MAX_INPUT_VALUES:,}; use fewer steps or batch items"
        )


def _input(args: argparse.Namespace, spec: LSTMSpec) -> tuple[torch.Tensor, str, int | None]:
    """x (B, T, I) float64, the signal's name ("csv", "npy" or a seeded one) and the seed."""
    features = spec.input_size

    csv_path, npy_path = getattr(args, "input_csv", None), getattr(args, "input_npy", None)
    if csv_path and npy_path:
        raise CliError("give --input-csv or --input-npy, not both")
    seq_len, batch = getattr(args, "seq_len", None), getattr(args, "batch_size", None)
    # Checked before any tensor is made: the noise, or a file's rows copied per batch item.
    if batch is not None and not 1 <= batch <= MAX_BATCH:
        raise CliError(f"--batch-size must be between 1 and {MAX_BATCH}")
    if seq_len is not None and not 1 <= seq_len <= MAX_STEPS:
        raise CliError(f"--seq-len must be between 1 and {MAX_STEPS:,}")
    if not csv_path and not npy_path:
        seed = DEFAULT_CONFIG.seed if args.seed is None else args.seed
        low, high = SETTING["seed"].range
        if not low <= seed <= high:
            raise CliError(f"seed must be between {low} and {high}")
        steps = DEFAULT_CONFIG.seq_len if seq_len is None else seq_len
        items = DEFAULT_CONFIG.batch_size if batch is None else batch

        if args.signal == "csv":
            raise CliError("--signal csv needs --input-csv FILE")

        try:  # the signal's settings; make_input takes the sizes from the noise
            shape = DEFAULT_CONFIG.replace(
                signal=args.signal or "randn",
                frequency=DEFAULT_CONFIG.frequency if args.frequency is None else args.frequency,
            )
        except ConfigError as error:
            raise CliError(str(error)) from None
        _check_size(spec, items, steps)
        generator = torch.Generator().manual_seed(seed)
        noise = torch.randn(items, steps, features, generator=generator)  # (B, T, I)
        return make_input(shape, noise).double(), shape.signal, seed
    if csv_path:
        rows = read_input_csv(csv_path, max_columns=MODEL_LIMITS["input_size"][1])
        values = torch.tensor(rows, dtype=torch.float64)[None]  # (1, T, I)
        signal, path = "csv", csv_path
    else:
        try:
            values = torch.from_numpy(parse_npy(_read(npy_path, ".npy file", MAX_NPY_BYTES)))
        except ValueError as error:
            raise CliError(f"{npy_path}: {error}") from None
        signal, path = "npy", npy_path
    if seq_len is not None and seq_len != values.shape[1]:
        raise CliError(f"--seq-len {seq_len} contradicts {path} ({values.shape[1]} steps)")
    if batch is not None and batch != values.shape[0]:
        if values.shape[0] != 1:
            raise CliError(f"--batch-size {batch} contradicts {path} ({values.shape[0]} items)")
        _check_size(spec, batch, values.shape[1])
        values = values.expand(batch, -1, -1)  # one sequence for every batch item
    for name in ("seed", "signal", "frequency"):
        if getattr(args, name, None) is not None:
            raise CliError(f"--{name} shapes the seeded input; {path} is the input")
    return values.contiguous(), signal, None


def payload_shape(tensor: torch.Tensor) -> tuple[int, ...]:
    """The JSON shape of an (L, D, ...) tensor: (L, ...) for one direction."""
    shape = tuple(tensor.shape)
    return shape[:1] + shape[2:] if shape[1] == 1 else shape


def _layout(tensor: torch.Tensor, directions: int) -> list[Any]:
    """(L, D, ...) as nested lists: the D axis dropped for one direction."""
    return (tensor[:, 0] if directions == 1 else tensor).tolist()


def trace_to_json(t: Any, config: dict[str, Any]) -> dict[str, Any]:
    """The `run --json` object of a traced loaded LSTM (see the module docstring)."""

    directions = t.num_directions
    hidden_for_metrics = t.unprojected_h if t.proj_size else t.h  # (L, D, B, T, H)
    metrics = persistence(
        hidden_for_metrics[0, 0, 0], t.c[0, 0, 0], t.gates["f"][0, 0, 0]
    ).to_dict()
    h_n = t.h_n.view(t.num_layers, directions, *t.h_n.shape[1:])  # (L, D, B, P)
    c_n = t.c_n.view(t.num_layers, directions, *t.c_n.shape[1:])
    return {
        "config": config,
        "x": t.x.tolist(),
        "h": _layout(t.h, directions),
        "c": _layout(t.c, directions),
        "h_n": _layout(h_n, directions),
        "c_n": _layout(c_n, directions),
        "manual": {
            "h": _layout(t.manual_h, directions),
            "c": _layout(t.manual_c, directions),
            "gates": {name: _layout(gate, directions) for name, gate in t.gates.items()},
        },
        "max_abs_diff": dict(t.max_abs_diff),
        "stepped_vs_whole": t.stepped_vs_whole,
        "metrics": {
            "layer": 0,
            "direction": 0,
            "batch": 0,
            # With a projection h is not o ⊙ tanh(C) unit by unit: measured on o ⊙ tanh(C).
            "h_measured": "o*tanh(C), h before the projection" if t.proj_size else "h",
            **metrics,
            "fix": None,  # the fixes change the seeded init; loaded weights are what they are
        },
    }


def command_run_weights(args: argparse.Namespace) -> None:
    """`run` with --weights: load, check the input, trace, print (JSON or a summary)."""

    for name in _SEEDED_ONLY:
        if getattr(args, name, None) is not None:
            flag = "--" + name.replace("_", "-")
            raise CliError(f"{flag} shapes the seeded model; it does nothing with --weights")
    path = args.weights
    try:
        loaded = load_lstm(_read(path, "weights file", MAX_CHECKPOINT_BYTES), args.lstm_prefix)
    except ValueError as error:
        raise CliError(f"{path}: {error}") from None
    spec = loaded.spec
    for flag_name, spec_name in _MODEL_SIZES.items():
        given, value = getattr(args, flag_name, None), getattr(spec, spec_name)
        if given is not None and given != value:
            flag = "--" + flag_name.replace("_", "-")
            raise CliError(f"{flag} {given} contradicts the weights ({value})")
    x, signal, seed = _input(args, spec)
    try:
        check_input(x, spec)
    except ValueError as error:
        source = {"csv": args.input_csv, "npy": getattr(args, "input_npy", None)}.get(signal)
        raise CliError(f"{source}: {error}" if source else str(error)) from None
    dtype_name = args.dtype or DEFAULT_CONFIG.dtype
    dtype = TORCH_DTYPES[dtype_name]
    try:
        check_input_range(x, dtype)
        t = trace(loaded.module(dtype), x.to(dtype))
    except ValueError as error:
        raise CliError(str(error)) from None
    config = {
        "weights": path,
        "lstm_prefix": spec.prefix.rstrip("."),
        "input_dim": spec.input_size,
        "hidden_dim": spec.hidden_size,
        "proj_size": spec.proj_size,
        "num_layers": spec.num_layers,
        "bidirectional": spec.bidirectional,
        "num_directions": spec.num_directions,
        "bias": spec.bias,
        "seq_len": t.seq_len,
        "batch_size": t.batch_size,
        "seed": seed,
        "signal": signal,
        "dtype": dtype_name,
    }
    payload = trace_to_json(t, config)
    if args.json:
        print(json_line(payload))
        return
    layout = "(L, B, T, ·)" if spec.num_directions == 1 else "(L, D, B, T, ·)"
    metrics = payload["metrics"]
    print(
        "\n".join(
            [
                f"weights: {path}, LSTM at prefix {config['lstm_prefix']!r}: input "
                f"{spec.input_size}, hidden {spec.hidden_size}, proj {spec.proj_size}, "
                f"{spec.num_layers} layer(s), {spec.num_directions} direction(s), "
                f"bias {spec.bias}",
                f"x: {tuple(t.x.shape)} ({signal})  h: {tuple(payload_shape(t.h))}  c: "
                f"{tuple(payload_shape(t.c))}  {layout}",
                f"max |manual - nn.LSTM|: h {t.max_abs_diff['h']:.3g}, "
                f"c {t.max_abs_diff['c']:.3g} ({dtype_name})",
                f"layer 0, direction 0, batch 0: mean forget gate {metrics['mean_forget']:.3f}; "
                f"regime: {metrics['regime']}. {metrics['verdict']}",
            ]
        )
    )
