"""What every command shares: the error type, number parsers, the run flags and their config.

The run flags come from the settings schema (lstm_core.model.settings): one `--name-with-dashes`
per run setting, plus `--preset`, `--input-csv` and `--weights`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, NoReturn

from lstm_core.io.csv_input import MAX_CSV_BYTES, parse_csv
from lstm_core.io.weights import MAX_WEIGHTS_BYTES, lstm_only_state, weights_from_bytes
from lstm_core.model.config import DEFAULT_CONFIG, PRESETS, ConfigError, RunConfig
from lstm_core.model.settings import RUN_SETTINGS, Setting


class CliError(Exception):
    """A user error: printed as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are CliError (one line, exit status 2), not sys.exit."""

    def error(self, message: str) -> NoReturn:
        raise CliError(message)


def integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def flag(name: str) -> str:
    """The CLI flag of a setting: input_dim -> --input-dim."""
    return "--" + name.replace("_", "-")


def _add_setting_flag(parser: argparse.ArgumentParser, setting: Setting) -> None:
    # No argparse default: a flag left out keeps the preset's value (see config_from_args).
    help_text = setting.text(setting.cli_help)
    if setting.kind == "choice":
        parser.add_argument(flag(setting.name), choices=setting.choices, help=help_text)
    else:
        kind = integer if setting.kind == "int" else number
        parser.add_argument(flag(setting.name), type=kind, help=help_text)


# What --weights reads, by command (`script` rebuilds seeded runs only: it takes none).
ADDING_WEIGHTS_HELP = (
    "a trained adding-problem LSTM saved by the Memory lab or `train --task adding --save`"
)
ANY_CHECKPOINT_HELP = (
    "any nn.LSTM checkpoint (.safetensors, or .pt read with weights_only=True: nothing in it runs)"
)


def add_run_flags(parser: argparse.ArgumentParser, weights_help: str | None = None) -> None:
    """The flags that make a RunConfig; missing ones take the app's defaults (the opening
    preset), so size flags alone give the opening preset at that size. `weights_help` adds
    --weights FILE, saying what this command reads from it."""
    parser.add_argument("--preset", choices=sorted(PRESETS), help="start from a named preset")
    for setting in RUN_SETTINGS:
        _add_setting_flag(parser, setting)
    parser.add_argument(
        "--input-csv",
        metavar="FILE",
        help="input from a CSV (rows = steps, columns = features); sets signal, seq-len, input-dim",
    )
    if weights_help is not None:
        parser.add_argument("--weights", metavar="FILE", help=weights_help)


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """RunConfig from parsed run flags: the preset (or the defaults), then each given flag."""
    base = PRESETS[args.preset] if getattr(args, "preset", None) else DEFAULT_CONFIG
    changes = {setting.name: getattr(args, setting.name) for setting in RUN_SETTINGS}
    changes = {name: value for name, value in changes.items() if value is not None}
    try:
        config = base.replace(**changes)
    except ConfigError as error:
        raise CliError(str(error)) from None
    if getattr(args, "input_csv", None):
        config = csv_config(config, read_input_csv(args.input_csv))
    return config


def read_bytes(path: str, what: str, limit: int) -> bytes:
    """The bytes of a user's file of at most `limit` bytes, or CliError saying why not."""
    file = Path(path)
    try:
        if file.stat().st_size > limit:
            raise CliError(f"{what} {path} is over {limit:,} bytes")
        return file.read_bytes()
    except OSError as error:
        raise CliError(f"cannot read {what} {path}: {error.strerror}") from None


def read_input_csv(path: str, max_columns: int | None = None) -> tuple[tuple[float, ...], ...]:
    """The rows of a CSV input file (at most `max_columns` wide: parse_csv), or CliError
    saying what is wrong with it."""
    try:
        return parse_csv(read_bytes(path, "CSV file", MAX_CSV_BYTES), max_columns)
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
    try:
        state, _ = weights_from_bytes(read_bytes(path, "weights file", MAX_WEIGHTS_BYTES))
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
            raise CliError(f"{flag(name)} {given} contradicts the weights ({value})")
    if config.signal == "csv" and config.input_dim != sizes["input_dim"]:
        raise CliError(
            f"the CSV has {config.input_dim} columns but the weights read {sizes['input_dim']}"
        )
    try:
        config = config.replace(**sizes)
    except ConfigError as error:
        raise CliError(str(error)) from None
    return config, {name: tensor.float() for name, tensor in lstm_state.items()}
