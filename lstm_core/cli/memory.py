"""CLI for the Memory lab: `memory`, `train`, and the `--input-csv` / `--weights` run flags.

python -m lstm_core memory [run flags] --json
python -m lstm_core train --task adding --seq-len 100 --seed 0 [--save FILE] --json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from lstm_core.cli.main import CliError, _integer, _number, add_run_flags, config_from_args
from lstm_core.model.config import ConfigError, RunConfig


def _read_bytes(path: str, what: str, limit: int) -> bytes:
    file = Path(path)
    try:
        if file.stat().st_size > limit:
            raise CliError(f"{what} {path} is over {limit:,} bytes")
        return file.read_bytes()
    except OSError as error:
        raise CliError(f"cannot read {what} {path}: {error.strerror}") from None


def read_input_csv(path: str) -> tuple[tuple[float, ...], ...]:
    """The rows of a CSV input file, or CliError saying what is wrong with it."""
    from lstm_core.io.csv_input import MAX_CSV_BYTES, parse_csv

    try:
        return parse_csv(_read_bytes(path, "CSV file", MAX_CSV_BYTES))
    except ValueError as error:
        raise CliError(f"{path}: {error}") from None


def csv_config(config: RunConfig, rows: tuple[tuple[float, ...], ...]) -> RunConfig:
    """`config` reading `rows`: signal "csv", seq_len and input_dim from the file."""
    try:
        return config.replace(
            signal="csv", input_values=rows, seq_len=len(rows), input_dim=len(rows[0])
        )
    except ConfigError as error:
        raise CliError(str(error)) from None


def apply_weights(args: argparse.Namespace, config: RunConfig) -> tuple[RunConfig, Any]:
    """(config, nn.LSTM state_dict) for `--weights FILE`, or (config, None) without it.

    The file must be a trained model saved by the Memory lab or `train --save` (safetensors).
    Its sizes set input_dim and hidden_dim (one layer); a flag that contradicts them is an error.
    """
    path = getattr(args, "weights", None)
    if not path:
        return config, None
    from lstm_core.io.weights import MAX_WEIGHTS_BYTES, lstm_only_state, weights_from_bytes

    try:
        state, _ = weights_from_bytes(_read_bytes(path, "weights file", MAX_WEIGHTS_BYTES))
    except ValueError as error:
        raise CliError(f"{path}: {error}") from None
    lstm_state = lstm_only_state(state)
    sizes = {
        "input_dim": int(lstm_state["weight_ih_l0"].shape[1]),
        "hidden_dim": int(lstm_state["weight_hh_l0"].shape[1]),
        "num_layers": 1,
    }
    for name, value in sizes.items():
        given = getattr(args, name, None)
        if given is not None and given != value:
            raise CliError(f"--{name.replace('_', '-')} {given} contradicts the weights ({value})")
    if config.signal == "csv" and config.input_dim != sizes["input_dim"]:
        raise CliError(
            f"the CSV has {config.input_dim} columns but the weights read {sizes['input_dim']}"
        )
    try:
        config = config.replace(**sizes)
    except ConfigError as error:
        raise CliError(str(error)) from None
    return config, {name: tensor.float() for name, tensor in lstm_state.items()}


def _command_memory(args: argparse.Namespace) -> None:
    from lstm_core.analysis.memory import STATE_LABELS, STATE_NAMES, half_life_text, memory_lab

    config, state_dict = apply_weights(args, config_from_args(args))
    lab = memory_lab(config, state_dict)
    if args.json:
        print(json.dumps(lab.to_json()))
        return
    steps = config.seq_len
    print(
        f"mean forget gate {lab.mean_forget:.3f}: predicted half-life of C "
        f"{lab.predicted_half_life_c:.1f} steps"
    )
    for name in STATE_NAMES:
        print(
            f"measured half-life {STATE_LABELS[name]}: {half_life_text(lab.half_life[name], steps)}"
        )


def _command_train(args: argparse.Namespace) -> None:
    from lstm_core.analysis.training import TrainSpec, train_pair
    from lstm_core.io.weights import weights_to_bytes

    try:
        spec = TrainSpec(
            task=args.task,
            seq_len=args.seq_len,
            hidden_dim=args.hidden_dim,
            steps=args.steps,
            lr=args.lr,
            seed=args.seed,
        )
    except ValueError as error:
        raise CliError(str(error)) from None

    def report(step: int, total: int, loss: float) -> None:
        if not args.json and (step % 100 == 0 or step == total):
            print(f"step {step}/{total}: loss {loss:.4f}", file=sys.stderr, flush=True)

    result = train_pair(spec, report)
    if args.save:
        try:
            Path(args.save).write_bytes(weights_to_bytes(spec, result.lstm_state))
        except OSError as error:
            raise CliError(f"cannot write {args.save}: {error.strerror}") from None
    if args.json:
        print(json.dumps(result.to_json()))
        return
    print(
        f"adding problem, T = {spec.seq_len}, hidden {spec.hidden_dim}, {spec.steps} steps each: "
        f"LSTM test MSE {result.lstm_mse:.4f}, RNN test MSE {result.rnn_mse:.4f} "
        f"(predicting 1.0 scores 0.167), {result.seconds:.1f} s"
    )
    if args.save:
        print(f"saved the trained LSTM to {args.save}")


def register_memory(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "memory", help="perturbation half-lives of LSTM C and h, GRU h and RNN h"
    )
    add_run_flags(parser)
    parser.add_argument(
        "--json", action="store_true", help='print {"half_life": {...}, "predicted_half_life_c"}'
    )
    parser.set_defaults(handler=_command_memory)


def register_train(commands: argparse._SubParsersAction) -> None:
    from lstm_core.analysis.training import DEFAULT_HIDDEN, DEFAULT_LR, DEFAULT_STEPS, TASKS

    parser = commands.add_parser("train", help="train an LSTM and a vanilla RNN on a memory task")
    parser.add_argument("--task", choices=TASKS, default="adding", help="the task (adding)")
    parser.add_argument("--seq-len", type=_integer, default=100, help="steps T (default 100)")
    parser.add_argument(
        "--hidden-dim", type=_integer, default=DEFAULT_HIDDEN, help="units, both models"
    )
    parser.add_argument(
        "--steps", type=_integer, default=DEFAULT_STEPS, help="optimiser steps per model"
    )
    parser.add_argument("--lr", type=_number, default=DEFAULT_LR, help="Adam learning rate")
    parser.add_argument("--seed", type=_integer, default=0, help="seeds data and weights")
    parser.add_argument("--save", metavar="FILE", help="write the trained LSTM (safetensors)")
    parser.add_argument(
        "--json", action="store_true", help='print {"lstm_mse", "rnn_mse", "seconds", "steps"}'
    )
    parser.set_defaults(handler=_command_train)
