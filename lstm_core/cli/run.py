"""CLI: `run [run flags] [--json]` (nn.LSTM and the hand-written cell) and `gates` (one update).

Bad values exit with status 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from lstm_core.analysis.metrics import persistence, suggested_fix
from lstm_core.cli.common import (
    ANY_CHECKPOINT_HELP,
    CliError,
    add_run_flags,
    apply_weights,
    config_from_args,
)
from lstm_core.cli.weights import add_weights_flags, run_with_weights
from lstm_core.io.strict_json import json_line
from lstm_core.model.cell import cell_update
from lstm_core.model.checks import first_nonfinite
from lstm_core.model.simulate import simulate


def vector(text: str) -> list[float]:
    """Numbers separated by commas, e.g. "0.3,-0.1"."""
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, got {text!r}"
        ) from None


def result_to_json(result: Any, layer: int = 0, batch: int = 0) -> dict[str, Any]:
    """The `run --json` object: inputs, both trajectories, the gates, the check, the metrics."""
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
    if run_with_weights(args):  # --weights FILE holding any nn.LSTM
        return
    config, state_dict = apply_weights(args, config_from_args(args))
    result = simulate(config, state_dict)
    nonfinite = first_nonfinite(result)
    if nonfinite is not None:  # an input too large for the dtype: say so, print no NaN
        raise CliError(nonfinite.message(config.dtype))
    payload = result_to_json(result)
    if args.json:
        print(json_line(payload))
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
    try:
        update = cell_update(args.c_prev, args.f, args.i, args.g, args.o)
    except ValueError as error:
        raise CliError(str(error)) from None
    if args.json:
        print(json_line({"c": update.c, "h": update.h, "steps": update.to_dict()}))
        return
    for unit in range(len(update.c)):
        print(
            f"unit {unit}: C = f*C_prev + i*g = {update.f[unit]:g}*{update.c_prev[unit]:g} + "
            f"{update.i[unit]:g}*{update.g[unit]:g} = {update.kept[unit]:.4g} + "
            f"{update.written[unit]:.4g} = {update.c[unit]:.4g};  h = o*tanh(C) = "
            f"{update.o[unit]:g}*{update.tanh_c[unit]:.4g} = {update.h[unit]:.4g}"
        )


def register_run(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("run", help="run nn.LSTM and the hand-written cell")
    add_run_flags(parser, ANY_CHECKPOINT_HELP)
    add_weights_flags(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=_command_run)


def register_gates(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("gates", help="one cell update from given gate values")
    for flag, text in (
        ("--c-prev", "C_{t-1}"),
        ("--f", "forget gate, in [0, 1]"),
        ("--i", "input gate, in [0, 1]"),
        ("--g", "candidate C~_t, in [-1, 1]"),
        ("--o", "output gate, in [0, 1]"),
    ):
        parser.add_argument(flag, type=vector, required=True, help=f"{text}, comma-separated")
    parser.add_argument("--json", action="store_true", help='print {"c": [...], "h": [...]}')
    parser.set_defaults(handler=_command_gates)
