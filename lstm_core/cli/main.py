"""Command line: `python -m lstm_core run|gates ... [--json]`. See README, "Scripting".

Bad values exit with status 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from lstm_core.model.config import (
    DEFAULT_CONFIG,
    DTYPES,
    PRESETS,
    SETTING_NAMES,
    SIGNALS,
    ConfigError,
    RunConfig,
)


class CliError(Exception):
    """A user error: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise CliError(message)


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _vector(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, got {text!r}"
        ) from None


def add_run_flags(parser: argparse.ArgumentParser) -> None:
    """The flags that make a RunConfig; missing ones take the app's defaults (the opening
    preset), so size flags alone give the opening preset at that size."""
    d = DEFAULT_CONFIG
    parser.add_argument("--preset", choices=sorted(PRESETS), help="start from a named preset")
    parser.add_argument("--input-dim", type=_integer, help=f"features I (default {d.input_dim})")
    parser.add_argument("--hidden-dim", type=_integer, help=f"units H (default {d.hidden_dim})")
    parser.add_argument("--seq-len", type=_integer, help=f"steps T (default {d.seq_len})")
    parser.add_argument("--batch-size", type=_integer, help=f"batch B (default {d.batch_size})")
    parser.add_argument("--num-layers", type=_integer, help=f"layers L (default {d.num_layers})")
    parser.add_argument("--seed", type=_integer, help=f"seed (default {d.seed})")
    parser.add_argument(
        "--forget-bias", type=_number, help=f"forget-gate bias offset (default {d.forget_bias:+g})"
    )
    parser.add_argument(
        "--chrono-t-max", type=_number, help="chrono initialisation with this T_max (0 = off)"
    )
    parser.add_argument(
        "--input-scale",
        type=_number,
        help=f"layer 0's input weights drawn U(-s/sqrt(I), s/sqrt(I)); 0 = PyTorch's "
        f"U(-1/sqrt(H), 1/sqrt(H)) (default {d.input_scale:g})",
    )
    parser.add_argument("--signal", choices=SIGNALS, help=f"input signal (default {d.signal})")
    parser.add_argument("--frequency", type=_number, help="sine frequency, cycles per step")
    parser.add_argument("--dtype", choices=DTYPES, help=f"precision (default {d.dtype})")
    parser.add_argument(
        "--input-csv",
        metavar="FILE",
        help="input from a CSV (rows = steps, columns = features); sets signal, seq-len, input-dim",
    )
    parser.add_argument(
        "--weights",
        metavar="FILE",
        help="a trained LSTM saved by the Memory lab or `train --save` (safetensors)",
    )


_RUN_FIELDS = SETTING_NAMES


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """RunConfig from parsed run flags: the preset (or the defaults), then each given flag."""
    base = PRESETS[args.preset] if getattr(args, "preset", None) else DEFAULT_CONFIG
    changes = {name: getattr(args, name) for name in _RUN_FIELDS}
    changes = {name: value for name, value in changes.items() if value is not None}
    try:
        config = base.replace(**changes)
    except ConfigError as error:
        raise CliError(str(error)) from None
    if getattr(args, "input_csv", None):
        from lstm_core.cli.memory import csv_config, read_input_csv

        config = csv_config(config, read_input_csv(args.input_csv))
    return config


def result_to_json(result: Any, layer: int = 0, batch: int = 0) -> dict[str, Any]:
    """The `run --json` object: inputs, both trajectories, the gates, the check, the metrics."""
    from lstm_core.analysis.metrics import persistence, suggested_fix

    metrics = persistence(
        result.h[layer, batch], result.c[layer, batch], result.gates["f"][layer, batch]
    ).to_dict()
    fix = suggested_fix(str(metrics["regime"]), result.config)
    metrics["fix"] = None if fix is None else fix.to_dict()
    return {
        "config": result.config.to_dict(),
        "x": result.x.tolist(),
        "h": result.h.tolist(),
        "c": result.c.tolist(),
        "h_n": result.h_n.tolist(),
        "c_n": result.c_n.tolist(),
        "manual": {
            "h": result.manual_h.tolist(),
            "c": result.manual_c.tolist(),
            "gates": {name: gate.tolist() for name, gate in result.gates.items()},
        },
        "max_abs_diff": dict(result.max_abs_diff),
        "stepped_vs_whole": result.stepped_vs_whole,
        "metrics": {"layer": layer, "batch": batch, **metrics},
    }


def _command_run(args: argparse.Namespace) -> None:
    from lstm_core.cli.memory import apply_weights
    from lstm_core.model.simulate import simulate

    config, state_dict = apply_weights(args, config_from_args(args))
    result = simulate(config, state_dict)
    payload = result_to_json(result)
    if args.json:
        print(json.dumps(payload))
        return
    metrics = payload["metrics"]
    lines = [
        f"config: {json.dumps(config.to_dict())}",
        f"x: {tuple(result.x.shape)}  h, c: {tuple(result.h.shape)}  (L, B, T, H)",
        f"max |manual - nn.LSTM|: h {result.max_abs_diff['h']:.3g}, "
        f"c {result.max_abs_diff['c']:.3g} ({config.dtype})",
        f"final hidden state h_n (layer, batch, unit): {result.h_n.tolist()}",
        f"final cell state c_n: {result.c_n.tolist()}",
        f"memory time (median over units, steps): h "
        f"{_memory(metrics['memory_time_h'], metrics['memory_time_cap'])}, C "
        f"{_memory(metrics['memory_time_c'], metrics['memory_time_cap'])} (a run this long "
        f"measures up to {_number_text(metrics['memory_time_cap'], '.1f')})",
        f"lag-1 autocorrelation (median over units): h {_number_text(metrics['autocorr_h'])}, "
        f"C {_number_text(metrics['autocorr_c'])}",
        f"change per step / spread: h {_number_text(metrics['step_change_h'])}, "
        f"C {_number_text(metrics['step_change_c'])}",
        f"mean forget gate {metrics['mean_forget']:.3f} "
        f"(predicted half-life of C {metrics['predicted_half_life_c']:.1f} steps)",
        f"regime: {metrics['regime']}. {metrics['verdict']}",
    ]
    if metrics["fix"] is not None:
        lines.append(f"fix: {metrics['fix']['label']}: {json.dumps(metrics['fix']['changes'])}")
    print("\n".join(lines))


def _number_text(value: float | None, spec: str = ".3f") -> str:
    """A metric as text; None (too few steps to measure it) as 'n/a'."""
    return "n/a" if value is None else format(value, spec)


def _memory(value: float | None, cap: float | None) -> str:
    """A memory time as text, '≥ cap' when it reached the run's cap."""
    if value is None or cap is None:
        return "n/a"
    return f"≥ {cap:.1f}" if value >= cap else f"{value:.1f}"


def _command_gates(args: argparse.Namespace) -> None:
    from lstm_core.model.cell import cell_update

    try:
        update = cell_update(args.c_prev, args.f, args.i, args.g, args.o)
    except ValueError as error:
        raise CliError(str(error)) from None
    if args.json:
        print(json.dumps({"c": update.c, "h": update.h, "steps": update.to_dict()}))
        return
    for unit in range(len(update.c)):
        print(
            f"unit {unit}: C = f*C_prev + i*g = {update.f[unit]:g}*{update.c_prev[unit]:g} + "
            f"{update.i[unit]:g}*{update.g[unit]:g} = {update.kept[unit]:.4g} + "
            f"{update.written[unit]:.4g} = {update.c[unit]:.4g};  h = o*tanh(C) = "
            f"{update.o[unit]:g}*{update.tanh_c[unit]:.4g} = {update.h[unit]:.4g}"
        )


def _register_run(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("run", help="run nn.LSTM and the hand-written cell")
    add_run_flags(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=_command_run)


def _register_gates(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("gates", help="one cell update from given gate values")
    for flag, text in (
        ("--c-prev", "C_{t-1}"),
        ("--f", "forget gate, in [0, 1]"),
        ("--i", "input gate, in [0, 1]"),
        ("--g", "candidate C~_t, in [-1, 1]"),
        ("--o", "output gate, in [0, 1]"),
    ):
        parser.add_argument(flag, type=_vector, required=True, help=f"{text}, comma-separated")
    parser.add_argument("--json", action="store_true", help='print {"c": [...], "h": [...]}')
    parser.set_defaults(handler=_command_gates)


# Each entry adds one subcommand; a new feature adds its own register function here.
REGISTRARS: list[Callable[[argparse._SubParsersAction], None]] = [_register_run, _register_gates]


def _register_export_commands(commands: argparse._SubParsersAction) -> None:
    # Imported here: lstm_core.cli.export imports this module.
    from lstm_core.cli.export import register_export, register_script

    register_export(commands)
    register_script(commands)


REGISTRARS.append(_register_export_commands)


def _register_memory_commands(commands: argparse._SubParsersAction) -> None:
    # Imported here: lstm_core.cli.memory imports this module.
    from lstm_core.cli.memory import register_memory, register_train

    register_memory(commands)
    register_train(commands)


REGISTRARS.append(_register_memory_commands)
REGISTRARS.append(lambda commands: __import__("lstm_core.cli.cells").cli.cells.register(commands))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m lstm_core", description="LSTM State Explorer from the command line."
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for register in REGISTRARS:
        register(commands)
    return parser


_NEGATIVE_VECTOR = re.compile(r"^-\d*\.?\d+(e[-+]?\d+)?,")


def _join_negative_vectors(argv: Sequence[str]) -> list[str]:
    """`--c-prev -0.3,0.1` -> `--c-prev=-0.3,0.1`: argparse takes "-0.3,0.1" for an option."""
    joined: list[str] = []
    for token in argv:
        if joined and joined[-1].startswith("--") and _NEGATIVE_VECTOR.match(token):
            joined[-1] = f"{joined[-1]}={token}"
        else:
            joined.append(token)
    return joined


def main(argv: Sequence[str] | None = None) -> int:
    try:
        argv = sys.argv[1:] if argv is None else argv
        args = build_parser().parse_args(_join_negative_vectors(argv))
        args.handler(args)
    except CliError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    return 0
