"""The command line: `python -m lstm_core --help`."""

from lstm_core.cli.main import main

__all__ = ["main"]
