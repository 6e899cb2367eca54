"""Run configuration: one frozen, hashable dataclass shared by the CLI, the pages and tests.

`RunConfig` is the only thing that flows from the sidebar (or the command line, or a URL)
into `lstm_core.model.simulate`. It is validated on construction, so a bad value never
reaches torch.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from lstm_core.model.settings import DEFAULTS, RUN_SETTINGS, SETTING, VIEW_SETTINGS

# Caps on sizes (from the settings schema). They bound memory and time per rerun (see README,
# Performance) and are shown in the sidebar; the largest run (10,000 steps x 512 units) stays
# within the memory goal.
LIMITS: dict[str, tuple[int, int]] = {
    name: SETTING[name].range
    for name in ("input_dim", "hidden_dim", "seq_len", "batch_size", "num_layers")
}
# Total states kept per run: layers x batch x steps x units. Keeps a run within that goal even
# with every gate stored for both implementations.
MAX_STATE_ELEMENTS = 5_120_000
SIGNALS: tuple[str, ...] = SETTING["signal"].choices
DTYPES: tuple[str, ...] = SETTING["dtype"].choices


class ConfigError(ValueError):
    """A configuration value is out of range or of the wrong kind; the message says which."""


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a run. Equal configs give bit-identical results.

    Each field's default, type and range come from lstm_core.model.settings (one schema for
    this class, the URL, the CLI and the sidebar).
    """

    # I: features per time step (follows the CSV when signal="csv")
    input_dim: int = DEFAULTS["input_dim"]
    hidden_dim: int = DEFAULTS["hidden_dim"]  # H: units per layer, the size of both h_t and C_t
    seq_len: int = DEFAULTS["seq_len"]  # T: time steps (follows the CSV when signal="csv")
    batch_size: int = DEFAULTS["batch_size"]  # B: independent sequences run side by side
    num_layers: int = DEFAULTS["num_layers"]  # L: stacked layers; layer k reads layer k-1's h_t
    # Seeds the private torch.Generator: input noise first, then every weight.
    seed: int = DEFAULTS["seed"]
    # Offset added to the forget slice of bias_ih_l{k} in every layer. 0 = PyTorch's default
    # init (forget gate ~ sigmoid(0) = 0.5, so C halves every step); +1 Keras/Jozefowicz; +5 slow.
    forget_bias: float = DEFAULTS["forget_bias"]
    # Chrono initialisation (Tallec & Ollivier 2018) when > 0: forget bias ~ log U(1, T_max - 1)
    # and input bias = -forget bias, replacing forget_bias. 0 = off.
    chrono_t_max: float = DEFAULTS["chrono_t_max"]
    # Layer 0's input weights W_ih. 0 keeps PyTorch's U(-1/sqrt(H), 1/sqrt(H)), with which a few
    # inputs barely move 512 units: h turns as slow as C. s > 0 multiplies PyTorch's draw by
    # s * sqrt(H / I), i.e. U(-s/sqrt(I), s/sqrt(I)) (s = 1: the fan-in bound nn.Linear(I, 4H)
    # draws with), so the input moves every gate equally at any H and I (README: the claim at
    # every size).
    input_scale: float = DEFAULTS["input_scale"]
    signal: str = DEFAULTS["signal"]  # one of SIGNALS; the input x_t every step
    frequency: float = DEFAULTS["frequency"]  # cycles per step, for signal="sine"
    dtype: str = DEFAULTS["dtype"]  # arithmetic precision; the draws are float32 either way
    # Input from a CSV (rows = steps, columns = features) when signal="csv"; a tuple of rows so
    # the config stays hashable for caches.
    input_values: tuple[tuple[float, ...], ...] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for setting in RUN_SETTINGS:  # each value's type and range, from the schema
            problem = setting.problem(getattr(self, setting.name))
            if problem is not None:
                raise ConfigError(f"{setting.name} {problem}")
        elements = self.num_layers * self.batch_size * self.seq_len * self.hidden_dim
        if elements > MAX_STATE_ELEMENTS:
            raise ConfigError(
                f"num_layers x batch_size x seq_len x hidden_dim = {elements:,} states is above "
                f"the cap of {MAX_STATE_ELEMENTS:,}; lower one of them"
            )
        if 0 < self.chrono_t_max <= 2:
            raise ConfigError("chrono_t_max must be 0 (off) or above 2")
        if (self.signal == "csv") != (self.input_values is not None):
            raise ConfigError('signal="csv" needs input_values, and input_values needs "csv"')
        if self.input_values is not None:
            rows = self.input_values
            # Tuples only: the config is a cache key, so it must hash (lists do not).
            if not isinstance(rows, tuple) or not all(isinstance(row, tuple) for row in rows):
                raise ConfigError("input_values must be a tuple of rows, each a tuple of numbers")
            if len(rows) != self.seq_len or any(len(row) != self.input_dim for row in rows):
                raise ConfigError("input_values must have seq_len rows of input_dim values")
            if not all(_is_real(v) and math.isfinite(v) for row in rows for v in row):
                raise ConfigError("input_values must be finite numbers")

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready settings (without the CSV values)."""
        out = dataclasses.asdict(self)
        out.pop("input_values")
        return out

    def label(self) -> str:
        """Short tag for file names: the sizes and the seed, then each other setting that is not
        its default, e.g. ``I3_H8_T100_seed0``, ``I4_H8_T100_seed0_L2_fb0_scale0_sine_f0.1``."""
        tags = [f"I{self.input_dim}", f"H{self.hidden_dim}", f"T{self.seq_len}", f"seed{self.seed}"]
        for name, tag in _LABEL_TAGS.items():
            value = getattr(self, name)
            if value != DEFAULTS[name] and (name != "frequency" or self.signal == "sine"):
                tags.append(tag.format(value))
        return "_".join(tags)

    def view_label(self, layer: int, batch: int) -> str:
        """label() for a figure of one layer and batch item (view_tag), e.g.
        ``I5_H8_T4_seed0_B2_fb0_scale0_b1``."""
        return self.label() + view_tag(self.num_layers, self.batch_size, layer, batch)


def view_tag(num_layers: int, batch_size: int, layer: int, batch: int, direction: int = 0) -> str:
    """What a figure's file name adds for the part of a run it draws: ``_l1`` with several
    layers, ``_reverse`` for a reverse direction, ``_b2`` with several batch items."""
    return (
        (f"_l{layer}" if num_layers > 1 else "")
        + ("_reverse" if direction == 1 else "")
        + (f"_b{batch}" if batch_size > 1 else "")
    )


# How label() names a setting that is not its default (the sizes and the seed are always named).
_LABEL_TAGS: dict[str, str] = {
    "batch_size": "B{}",
    "num_layers": "L{}",
    "forget_bias": "fb{:.10g}",
    "chrono_t_max": "chrono{:.10g}",
    "input_scale": "scale{:.10g}",
    "signal": "{}",
    "frequency": "f{:.10g}",
    "dtype": "{}",
}


def _is_real(value: Any) -> bool:
    """An int or float, not a bool (True is an int to Python, not a number to a user)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


# The settings a user chooses: every RunConfig field but the CSV rows. They are the sidebar's
# session_state keys, the URL's query parameters and (with dashes) the CLI's run flags.
SETTING_NAMES: tuple[str, ...] = tuple(setting.name for setting in RUN_SETTINGS)

# The settings that make up a run's size (and its seed): what `opening_preset` keeps.
SIZE_SETTINGS: tuple[str, ...] = (
    "input_dim",
    "hidden_dim",
    "seq_len",
    "batch_size",
    "num_layers",
    "seed",
)

# The opening preset's name: the app opens on it and `run` with only size flags gives it.
OPENING_PRESET = "Memory (forget bias +5)"

# What part of a run is looked at: display only, never part of a RunConfig (changing it does
# not rerun the LSTM). The window is `window_length` steps from `window_start`, fitted to the
# run by `clamp_window`; the defaults show the whole run of any length.
VIEW_DEFAULTS: dict[str, int] = {setting.name: setting.default for setting in VIEW_SETTINGS}
VIEW_SETTING_NAMES: tuple[str, ...] = tuple(VIEW_DEFAULTS)


def clamp_window(start: int, length: int, steps: int) -> tuple[int, int]:
    """The window (start, stop) of `steps` closest to `length` steps from `start`.

    The length is fitted to 1..steps first, then the start moved back so the window ends
    inside the run: the window keeps its length when the run allows it.
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    length = max(1, min(int(length), steps))
    start = max(0, min(int(start), steps - length))
    return start, start + length


# Named starting points, one click away in the sidebar and `--preset` on the CLI.
PRESETS: dict[str, RunConfig] = {
    # Opens the app: forget bias +5 makes C the slow state, input scale 2 keeps the input moving
    # h at every size (measured over the size grid: README, The claim at every size).
    OPENING_PRESET: RunConfig(),
    # PyTorch's own init: forget gate ~ 0.5, C and h about equally short-lived.
    "PyTorch default": RunConfig(forget_bias=0.0, input_scale=0.0),
    # The seeded PyTorch snippet: manual_seed(0); x = randn(1, 4, 3); nn.LSTM(3, 2).
    "Canonical example": RunConfig(
        input_dim=3, hidden_dim=2, seq_len=4, forget_bias=0.0, input_scale=0.0
    ),
    # The shapes example: batch 2, 4 steps, 5 features, hidden 8.
    "Shapes example": RunConfig(
        input_dim=5, hidden_dim=8, seq_len=4, batch_size=2, forget_bias=0.0, input_scale=0.0
    ),
}
DEFAULT_CONFIG = RunConfig()


def opening_preset(config: RunConfig) -> RunConfig:
    """The opening preset at `config`'s sizes and seed (every other setting from the preset)."""
    return PRESETS[OPENING_PRESET].replace(
        **{name: getattr(config, name) for name in SIZE_SETTINGS}
    )


def describe_init(config: RunConfig) -> str:
    """The forget-gate init in words, for titles: 'forget bias +3' or 'chrono init T_max 100'."""
    if config.chrono_t_max > 0:
        return f"chrono init T_max {config.chrono_t_max:g}"
    return f"forget bias {config.forget_bias:+g}"
