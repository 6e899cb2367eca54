"""CLI: `export OUT.png|svg|pdf|csv|parquet [run flags]` and `script [run flags]`.

`export` writes the Explorer figure (lstm_core.figures.states.state_figure) as an image, or every
trajectory as tidy data; `script` prints a plain-PyTorch script that rebuilds the run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lstm_core.cli.common import (
    ADDING_WEIGHTS_HELP,
    CliError,
    add_run_flags,
    apply_weights,
    config_from_args,
)
from lstm_core.figures.states import state_figure
from lstm_core.io.image import IMAGE_FORMATS, ExportFailed, ExportUnavailable, figure_bytes
from lstm_core.io.reproduce import reproduce_script
from lstm_core.io.tidy import DATA_FORMATS, data_bytes
from lstm_core.model.simulate import simulate

EXPORT_FORMATS = IMAGE_FORMATS + DATA_FORMATS


def _positive_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value <= 8:
        raise argparse.ArgumentTypeError(f"scale must be in (0, 8], got {text}")
    return value


def _command_export(args: argparse.Namespace) -> None:
    out = Path(args.out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in EXPORT_FORMATS:
        raise CliError(f"{out}: the name must end in one of .{', .'.join(EXPORT_FORMATS)}")
    if not out.parent.is_dir():
        raise CliError(f"{out.parent} is not a directory")
    config = config_from_args(args)
    config, state_dict = apply_weights(args, config)
    result = simulate(config, state_dict)
    if fmt in DATA_FORMATS:
        payload = data_bytes(result, fmt)
    else:
        try:
            figure = state_figure(result, args.layer, args.batch)
        except ValueError as error:
            raise CliError(str(error)) from None
        try:
            payload = figure_bytes(figure, fmt, args.scale)
        except (ExportUnavailable, ExportFailed) as error:
            raise CliError(str(error)) from None
    try:
        out.write_bytes(payload)
    except OSError as error:
        raise CliError(f"cannot write {out}: {error.strerror}") from None
    print(f"wrote {out} ({len(payload):,} bytes)", file=sys.stderr)


def _command_script(args: argparse.Namespace) -> None:
    sys.stdout.write(reproduce_script(config_from_args(args)))


def register_export(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "export",
        help="write the Explorer figure (png/svg/pdf) or the tidy data (csv/parquet)",
        description="The format follows OUT's extension. Images need Chrome or Chromium.",
    )
    parser.add_argument("out", metavar="OUT", help=f"output file: .{', .'.join(EXPORT_FORMATS)}")
    add_run_flags(parser, ADDING_WEIGHTS_HELP)
    parser.add_argument(
        "--scale", type=_positive_number, default=1.0, help="image scale, e.g. 2 (default 1)"
    )
    parser.add_argument("--layer", type=int, default=0, help="layer drawn (default 0)")
    parser.add_argument("--batch", type=int, default=0, help="batch item drawn (default 0)")
    parser.set_defaults(handler=_command_export)


def register_script(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "script",
        help="print a plain-PyTorch script that rebuilds the run",
        description='Its last printed line is {"h_n": ..., "c_n": ...}, as `run --json` gives.',
    )
    add_run_flags(parser)
    parser.set_defaults(handler=_command_script)
