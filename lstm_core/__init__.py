"""LSTM State Explorer core: seeded runs, a hand-written twin, metrics and figures.

No Streamlit here: everything works from a notebook or the command line
(`python -m lstm_core --help`).
"""

from lstm_core.model.config import DEFAULT_CONFIG, LIMITS, PRESETS, SIGNALS, ConfigError, RunConfig
from lstm_core.model.simulate import GATE_NAMES, SimulationResult, build_model, simulate

__all__ = [
    "DEFAULT_CONFIG",
    "GATE_NAMES",
    "LIMITS",
    "PRESETS",
    "SIGNALS",
    "ConfigError",
    "RunConfig",
    "SimulationResult",
    "build_model",
    "simulate",
]
