"""LSTM State Explorer core: seeded runs, a hand-written twin, metrics and figures.

No Streamlit here: everything works from a notebook or the command line
(`python -m lstm_core --help`).
"""

from lstm_core.model.config import DEFAULT_CONFIG, LIMITS, PRESETS, SIGNALS, ConfigError, RunConfig
from lstm_core.model.simulate import GATE_NAMES, SimulationResult, build_model, simulate
from lstm_core.model.trace import Trace, trace

# The figures of a Trace, imported on first use: plotly is slow to import for the CLI.
_TRACE_FIGURES = ("states_figure", "states_heatmap", "gates_figure", "gate_lines_figure")


def __getattr__(name: str) -> object:
    if name in _TRACE_FIGURES:
        from lstm_core.figures import traced

        return getattr(traced, name)
    raise AttributeError(f"module 'lstm_core' has no attribute {name!r}")


__all__ = [
    "DEFAULT_CONFIG",
    "GATE_NAMES",
    "LIMITS",
    "PRESETS",
    "SIGNALS",
    "ConfigError",
    "RunConfig",
    "SimulationResult",
    "Trace",
    "build_model",
    "gate_lines_figure",
    "gates_figure",
    "simulate",
    "states_figure",
    "states_heatmap",
    "trace",
]
