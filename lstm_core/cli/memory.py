"""CLI for the Memory lab: `memory` and `train`.

python -m lstm_core memory [run flags] --json
python -m lstm_core train --task adding --seq-len 100 --seed 0 [--save FILE] --json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lstm_core.analysis.memory import STATE_LABELS, STATE_NAMES, half_life_text, memory_lab
from lstm_core.analysis.training import (
    DEFAULT_HIDDEN,
    DEFAULT_LR,
    DEFAULT_STEPS,
    TASKS,
    TrainSpec,
    train_pair,
)
from lstm_core.cli.common import (
    CliError,
    add_run_flags,
    apply_weights,
    config_from_args,
    integer,
    number,
)
from lstm_core.io.weights import weights_to_bytes


def _command_memory(args: argparse.Namespace) -> None:
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
    parser = commands.add_parser("train", help="train an LSTM and a vanilla RNN on a memory task")
    parser.add_argument("--task", choices=TASKS, default="adding", help="the task (adding)")
    parser.add_argument("--seq-len", type=integer, default=100, help="steps T (default 100)")
    parser.add_argument(
        "--hidden-dim", type=integer, default=DEFAULT_HIDDEN, help="units, both models"
    )
    parser.add_argument(
        "--steps", type=integer, default=DEFAULT_STEPS, help="optimiser steps per model"
    )
    parser.add_argument("--lr", type=number, default=DEFAULT_LR, help="Adam learning rate")
    parser.add_argument("--seed", type=integer, default=0, help="seeds data and weights")
    parser.add_argument("--save", metavar="FILE", help="write the trained LSTM (safetensors)")
    parser.add_argument(
        "--json", action="store_true", help='print {"lstm_mse", "rnn_mse", "seconds", "steps"}'
    )
    parser.set_defaults(handler=_command_train)
