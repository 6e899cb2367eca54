"""The settings schema: one `Setting` per value a user chooses, written once.

Everything else is derived from `SETTINGS`: `RunConfig`'s defaults and range checks
(lstm_core.model.config), the URL reader and writer and the JSON settings file
(lstm_core.io.urlstate), the CLI's run flags (lstm_core.cli.common) and the sidebar's widgets
(ui.settings). Adding a setting is one line here plus the code that uses it (and, for a run
setting, its field in `RunConfig`).

A setting's `group` is "run" (a `RunConfig` field: changing it reruns the LSTM) or "view"
(what part of a run is looked at: display only, never part of a RunConfig).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["int", "float", "choice"]
Widget = Literal["slider", "number", "radio", "select"]

# The longest run; the view's window is checked against it (the page fits it to the run).
MAX_STEPS = 10_000

# What each input signal is, for the signal widget's help (lstm_core.model.signals builds them).
SIGNAL_HELP: dict[str, str] = {
    "randn": "Gaussian noise N(0, 1) at every step: torch.randn(B, T, I).",
    "sine": "A sine per feature with a random phase, plus noise of 0.1.",
    "step": "Noise of 0.1 until T/4, then a jump to 1 held to the end.",
    "pulse": "A pulse of size 5 at t = 0, then small noise (0.1): watch how long it is kept.",
    "csv": "Your own file: rows are time steps, columns are features.",
}


@dataclass(frozen=True)
class Setting:
    """One setting: its type and allowed values, default, and how each interface shows it.

    `low`/`high` bound an int or float (inclusive); `choices` list a choice's values.
    `help` and `cli_help` may hold `{low}`, `{high}` and `{default}` (format specs allowed).
    `widget` is None when the sidebar has no widget of its own for it (chrono_t_max is set by
    the forget-init control; the view's window is drawn on the page with the run's range).
    `follows_csv`: the widget is disabled while an uploaded CSV sets the value.
    """

    name: str
    kind: Kind
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    label: str = ""
    help: str = ""
    widget: Widget | None = None
    step: float | None = None
    cli_help: str = ""
    in_link: bool = True
    group: Literal["run", "view"] = "run"
    follows_csv: bool = False

    @property
    def range(self) -> tuple[Any, Any]:
        """(low, high) of an int or float setting."""
        return self.low, self.high

    def text(self, template: str) -> str:
        """`template` with the setting's range and default filled in."""
        return template.format(low=self.low, high=self.high, default=self.default)

    def cast(self, value: Any) -> Any:
        """`value` as this setting's Python type (a widget or a test may hand over 5 for 5.0)."""
        if self.kind == "int":
            return int(value)
        if self.kind == "float":
            return float(value)
        return value

    def problem(self, value: Any) -> str | None:
        """Why `value` is not allowed ("must be ..."), or None when it is."""
        if self.kind == "choice":
            if value not in self.choices:
                return f"must be one of {', '.join(self.choices)}, got {value!r}"
            return None
        if self.kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                return f"must be a whole number, got {value!r}"
            if not self.low <= value <= self.high:
                return f"must be between {self.low} and {self.high}, got {value}"
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"must be a number, got {value!r}"
        if not math.isfinite(value) or not self.low <= value <= self.high:
            return f"must be between {self.low:g} and {self.high:g}, got {value}"
        return None

    def parse(self, text: str) -> Any:
        """The value written as `text` (a URL parameter); ValueError with a short reason."""
        text = text.strip()
        if self.kind == "choice":
            if text not in self.choices:
                raise ValueError(f"{text!r} is not one of {', '.join(self.choices)}")
            return text
        if self.kind == "int":
            try:
                value = int(text)
            except ValueError:
                raise ValueError(f"{text!r} is not a whole number") from None
            if not self.low <= value <= self.high:
                raise ValueError(f"{value} is outside {self.low}-{self.high}")
            return value
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
        if not math.isfinite(number) or not self.low <= number <= self.high:
            raise ValueError(f"{text} is outside {self.low:g} to {self.high:g}")
        return number

    def to_text(self, value: Any) -> str:
        """`value` as a URL parameter (floats by repr, so they read back exactly)."""
        return repr(float(value)) if self.kind == "float" else str(value)


# In RunConfig's field order (also the order of the URL, the settings file and the CLI flags),
# then the view's. The sidebar lays its widgets out in app.py. One setting per entry; kept
# unformatted so each reads as a table row.
# fmt: off
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "input_dim", "int", 4, 1, 64, label="input_dim (I)", widget="slider", step=1,
        help="Features per time step.", cli_help="features I (default {default})",
        follows_csv=True,
    ),
    Setting(
        "hidden_dim", "int", 8, 1, 512, label="hidden_dim (H)", widget="number", step=1,
        help="Units per layer: the size of h_t and C_t ({low}-{high}).",
        cli_help="units H (default {default})",
    ),
    Setting(
        "seq_len", "int", 100, 1, MAX_STEPS, label="seq_len (T)", widget="number", step=10,
        help="Time steps ({low}-{high}).", cli_help="steps T (default {default})",
        follows_csv=True,
    ),
    Setting(
        "batch_size", "int", 1, 1, 8, label="batch_size (B)", widget="slider", step=1,
        help="Input sequences run side by side ({low}-{high}) through the same weights; the "
        "charts show one batch item at a time.",
        cli_help="batch B (default {default})",
    ),
    Setting(
        "num_layers", "int", 1, 1, 4, label="num_layers (L)", widget="slider", step=1,
        help="Layer k reads layer k-1's h.", cli_help="layers L (default {default})",
    ),
    Setting(
        "seed", "int", 0, 0, 2**31 - 1, label="seed", widget="number", step=1,
        help="Seeds a private generator: the input noise (B, T, I) first, then every weight, "
        "as torch.manual_seed(seed); torch.randn(B, T, I); nn.LSTM(I, H, L) does. So a new "
        "batch, length or input size draws other weights too: same seed, another network.",
        cli_help="seed (default {default})",
    ),
    Setting(
        "forget_bias", "float", 5.0, -10.0, 10.0, label="forget_bias", widget="slider", step=0.5,
        help="Added to the forget gate's bias. 0 = PyTorch's default (f ≈ 0.5); "
        "+1 = Keras / Jozefowicz et al. 2015; +3 makes C a slow, persistent state.",
        cli_help="forget-gate bias offset (default {default:+g})",
    ),
    Setting(
        "chrono_t_max", "float", 0.0, 0.0, 1e6,
        cli_help="chrono initialisation with this T_max (0 = off)",
    ),
    Setting(
        "input_scale", "float", 2.0, 0.0, 10.0, label="input_scale", widget="number", step=0.5,
        help="How strongly the input drives the gates. s > 0: layer 0's input weights are "
        "drawn U(−s/√I, s/√I) (PyTorch's draw × s·√(H/I)), the same drive at every "
        "hidden size. 0 = PyTorch's own U(−1/√H, 1/√H): at large H a few inputs barely "
        "move the units, and h turns as slow as C.",
        cli_help="layer 0's input weights drawn U(-s/sqrt(I), s/sqrt(I)); 0 = PyTorch's "
        "U(-1/sqrt(H), 1/sqrt(H)) (default {default:g})",
    ),
    Setting(
        "signal", "choice", "randn", choices=tuple(SIGNAL_HELP), label="signal", widget="select",
        help="\n".join(f"- **{name}**: {text}" for name, text in SIGNAL_HELP.items()),
        cli_help="input signal (default {default})",
    ),
    Setting(
        "frequency", "float", 0.05, 0.0, 0.5, label="frequency (cycles per step)",
        widget="slider", step=0.005, cli_help="sine frequency, cycles per step",
        help="Cycles per step of the sine input: 0.05 is one cycle every 20 steps.",
    ),
    Setting(
        "dtype", "choice", "float32", choices=("float32", "float64"), label="dtype",
        widget="radio",
        help="Precision of the run. float64 shows how far the hand-written cell and nn.LSTM "
        "agree once float32's rounding is gone.",
        cli_help="precision (default {default})",
    ),
    # The view's time window: `window_length` steps from `window_start`, fitted to the run by
    # lstm_core.model.config.clamp_window; the defaults show the whole run of any length.
    Setting("window_start", "int", 0, 0, MAX_STEPS - 1, group="view"),
    Setting("window_length", "int", MAX_STEPS, 1, MAX_STEPS, group="view"),
)
# fmt: on

SETTING: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}
RUN_SETTINGS: tuple[Setting, ...] = tuple(s for s in SETTINGS if s.group == "run")
VIEW_SETTINGS: tuple[Setting, ...] = tuple(s for s in SETTINGS if s.group == "view")
LINK_SETTINGS: tuple[Setting, ...] = tuple(s for s in SETTINGS if s.in_link)
# Each setting's default: RunConfig's field defaults read them from here.
DEFAULTS: dict[str, Any] = {setting.name: setting.default for setting in SETTINGS}
