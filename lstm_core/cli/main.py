"""Command line: `python -m lstm_core run|gates|export|script|memory|train ...`. See README,
"Scripting".

Each command lives in its own module (run, export, memory), which imports of this package only
lstm_core.cli.common; this module imports the commands and builds the parser. Bad values exit
with status 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence

from lstm_core.cli.cells import register as register_cells
from lstm_core.cli.common import CliError, Parser
from lstm_core.cli.export import register_export, register_script
from lstm_core.cli.memory import register_memory, register_train
from lstm_core.cli.run import register_gates, register_run

# Each entry adds one subcommand, in `--help` order; a new command adds its register function.
REGISTRARS: list[Callable[[argparse._SubParsersAction], None]] = [
    register_run,
    register_gates,
    register_export,
    register_script,
    register_memory,
    register_train,
    register_cells,
]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="python -m lstm_core", description="LSTM State Explorer from the command line."
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
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
