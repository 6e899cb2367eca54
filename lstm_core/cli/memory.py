"""CLI for the Memory lab: `memory` and `train`.

python -m lstm_core memory [run flags] --json
python -m lstm_core train --task {adding,brackets,recall,code} [--seed S] [--hidden-dim H]
    [--steps N] [--seq-len T] [--lr LR] [--max-seconds S (code only)] [--save FILE] --json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from lstm_core.analysis.memory import (
    HALF_LIFE_MEANING,
    STATE_LABELS,
    STATE_NAMES,
    check_lab_size,
    half_life_text,
    memory_lab,
)
from lstm_core.cli.common import (
    ADDING_WEIGHTS_HELP,
    CliError,
    add_run_flags,
    apply_weights,
    config_from_args,
    integer,
    number,
)
from lstm_core.io.strict_json import json_line
from lstm_core.learned.tasks import TRAIN_TASKS, train_named


def _command_memory(args: argparse.Namespace) -> None:
    config, state_dict = apply_weights(args, config_from_args(args))
    try:
        check_lab_size(config)
    except ValueError as error:
        raise CliError(str(error)) from None
    lab = memory_lab(config, state_dict)
    if args.json:
        print(json_line(lab.to_json()))
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
    options = {"seq_len": args.seq_len, "lr": args.lr, "max_seconds": args.max_seconds}
    options = {name: value for name, value in options.items() if value is not None}
    code_only = {"max_seconds"}
    wrong = set(options) - code_only if args.task == "code" else set(options) & code_only
    if wrong:
        flags = ", ".join(f"--{name.replace('_', '-')}" for name in sorted(wrong))
        raise CliError(f"--task {args.task} takes no {flags}")

    def report(step: int, total: int, loss: float) -> None:
        if not args.json and (step % 100 == 0 or step == total):
            print(f"step {step}/{total}: loss {loss:.4f}", file=sys.stderr, flush=True)

    # These models' ops are too small to split: a second thread only waits for a core that a
    # busy machine may not give it (the job worker trains on one thread too). Restored after,
    # for a caller (a notebook, a test) that calls main() in its own process.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        outcome = train_named(args.task, args.seed, args.hidden_dim, args.steps, report, **options)
    except (ValueError, ImportError) as error:
        raise CliError(str(error)) from None
    finally:
        torch.set_num_threads(threads)
    if args.save:
        try:
            Path(args.save).write_bytes(outcome.to_bytes())
        except OSError as error:
            raise CliError(f"cannot write {args.save}: {error.strerror}") from None
    payload = outcome.to_json()
    if args.task == "adding":  # the fields `train --json` printed before the task interface
        held_out = outcome.held_out
        steps = int(outcome.metadata["steps"])
        payload.update(lstm_mse=held_out["mse"], rnn_mse=held_out["rnn_mse"], steps=steps)
    if args.json:
        print(json_line(payload))
        return
    scores = ", ".join(f"{name} {value:.4g}" for name, value in outcome.held_out.items())
    print(
        f"{args.task}: held-out {scores}; final loss {outcome.final_loss:.4f}, "
        f"{outcome.seconds:.1f} s"
    )
    for label, match in outcome.cells.items():
        print(
            f"  {label}: unit {match.unit} r(C) = {match.r_c:+.3f}, r(h) = {match.r_h:+.3f}; "
            f"best h: unit {match.best_h_unit} r = {match.best_r_h:+.3f}"
        )
    if args.save:
        print(f"saved the trained model to {args.save}")


def register_memory(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "memory",
        help="perturbation half-lives of LSTM C and h, GRU h and RNN h",
        description=f"A half-life is {HALF_LIFE_MEANING} (null: longer than the run).",
    )
    add_run_flags(parser, ADDING_WEIGHTS_HELP)
    parser.add_argument(
        "--json", action="store_true", help='print {"half_life": {...}, "predicted_half_life_c"}'
    )
    parser.set_defaults(handler=_command_memory)


def register_train(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "train", help="train an LSTM on a task and find the cells that hold its quantity"
    )
    parser.add_argument(
        "--task",
        choices=TRAIN_TASKS,
        default="adding",
        help="adding (LSTM and vanilla RNN, the Memory lab's task), brackets, recall, code",
    )
    parser.add_argument("--seed", type=integer, default=0, help="seeds data and weights")
    parser.add_argument("--hidden-dim", type=integer, help="units H (default: the task's)")
    parser.add_argument("--steps", type=integer, help="optimiser steps (default: the task's)")
    parser.add_argument("--seq-len", type=integer, help="steps T (default: the task's)")
    parser.add_argument("--lr", type=number, help="Adam learning rate (default: the task's)")
    parser.add_argument(
        "--max-seconds",
        type=number,
        help="code only: stop after this many seconds of training, steps or not (the learning "
        "rate then decays by whichever of steps or seconds is further along)",
    )
    parser.add_argument("--save", metavar="FILE", help="write the trained model (safetensors)")
    parser.add_argument(
        "--json",
        action="store_true",
        help='print {"task", "seconds", "final_loss", "held_out", "cells"}',
    )
    parser.set_defaults(handler=_command_train)
