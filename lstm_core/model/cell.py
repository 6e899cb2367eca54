"""One cell update written out: C_t = f ⊙ C_{t-1} + i ⊙ g, h_t = o ⊙ tanh(C_t).

The same `CellUpdate` holds an update from gate values given by hand (`cell_update`, the Gate
playground) and one step of a real run (`step_update`, Step through).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from lstm_core.model.simulate import GATE_NAMES, SimulationResult

# Where each gate's value lies: sigmoid gates in [0, 1], the tanh candidate g in [-1, 1]. The
# one statement of the gate ranges (colour scales, axis ranges, saturation thresholds).
GATE_RANGES: dict[str, tuple[float, float]] = {
    "i": (0.0, 1.0),
    "f": (0.0, 1.0),
    "g": (-1.0, 1.0),
    "o": (0.0, 1.0),
}


def gate_range_text(name: str) -> str:
    """Where gate `name` ("i", "f", "g", "o") lies, as text: "[0, 1]", "[-1, 1]"."""
    low, high = GATE_RANGES[name]
    return f"[{low:g}, {high:g}]"


# Each product's column heading in the update tables (Step through on every model, the
# playground), in the order a step computes them: f keeps, i writes g, o shows tanh(C_t).
PRODUCT_HEADINGS: dict[str, str] = {
    "c_prev": "C_{t-1}",
    "f": "f_t",
    "kept": "f⊙C_{t-1}",
    "i": "i_t",
    "g": "g_t",
    "written": "i⊙g",
    "c": "C_t",
    "o": "o_t",
    "tanh_c": "tanh(C_t)",
    "h": "h_t",
}
# The products of an update, in the order the equations compute them.
PRODUCTS: tuple[str, ...] = (
    "c_prev",
    "f",
    "i",
    "g",
    "o",
    "kept",
    "written",
    "c",
    "tanh_c",
    "h",
)


@dataclass(frozen=True)
class CellUpdate:
    """Every product of one update, per unit: lists of equal length of float64 values.

    `units` names the units (a run's unit numbers; 0..n-1 for gates given by hand). A step of
    a run also carries its `step` and nn.LSTM's own C_t and h_t there (`c_lstm`, `h_lstm`, the
    reference); an update from given gates has None for them.
    """

    c_prev: list[float]  # C_{t-1} (zero at t = 0)
    f: list[float]
    i: list[float]
    g: list[float]
    o: list[float]
    kept: list[float]  # f ⊙ C_{t-1}: what survives of the old memory
    written: list[float]  # i ⊙ g: what is added
    c: list[float]  # C_t = kept + written
    tanh_c: list[float]  # tanh(C_t)
    h: list[float]  # h_t = o ⊙ tanh(C_t): what is exposed
    units: tuple[int, ...] = ()
    step: int | None = None
    c_lstm: list[float] | None = None
    h_lstm: list[float] | None = None

    def __post_init__(self) -> None:
        if not self.units:  # gates given by hand: units 0..n-1
            object.__setattr__(self, "units", tuple(range(len(self.c))))

    def to_dict(self) -> dict[str, list[float]]:
        """The products by name (PRODUCTS), as lists."""
        return {name: list(getattr(self, name)) for name in PRODUCTS}

    def table(self) -> dict[str, list[float] | list[int]]:
        """Every product by its PRODUCT_HEADINGS heading, after a "unit" column."""
        return {"unit": list(self.units)} | {
            heading: list(getattr(self, name)) for name, heading in PRODUCT_HEADINGS.items()
        }

    def position(self, unit: int) -> int:
        """Where `unit` is in the per-unit lists; ValueError if it is not one of `units`."""
        if unit not in self.units:
            raise ValueError(f"unit {unit} is not among the units {list(self.units)}")
        return self.units.index(unit)

    def values(self, unit: int) -> dict[str, float]:
        """One unit's products by name."""
        index = self.position(unit)
        return {name: float(getattr(self, name)[index]) for name in PRODUCTS}

    def reference_gap(self) -> float:
        """max |written out − nn.LSTM| over C_t and h_t of every unit (0.0 without a reference)."""
        pairs = []
        if self.c_lstm is not None:
            pairs += list(zip(self.c, self.c_lstm, strict=True))
        if self.h_lstm is not None:
            pairs += list(zip(self.h, self.h_lstm, strict=True))
        return max((abs(a - b) for a, b in pairs), default=0.0)


def cell_update(
    c_prev: Sequence[float],
    f: Sequence[float],
    i: Sequence[float],
    g: Sequence[float],
    o: Sequence[float],
) -> CellUpdate:
    """Apply the LSTM update to gate values given per unit; raise ValueError on bad input."""
    vectors = {"c_prev": c_prev, "f": f, "i": i, "g": g, "o": o}
    lengths = {name: len(v) for name, v in vectors.items()}
    if len(set(lengths.values())) != 1:
        detail = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ValueError(f"all vectors need the same number of units: {detail}")
    if lengths["f"] == 0:
        raise ValueError("give at least one unit")
    for name, values in vectors.items():
        for value in values:
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"{name} must hold finite numbers, got {value!r}")
        if name in GATE_RANGES:
            low, high = GATE_RANGES[name]
            outside = [v for v in values if not low <= v <= high]
            if outside:
                raise ValueError(f"{name} must lie in {gate_range_text(name)}, got {outside[0]:g}")
    kept = [fv * cv for fv, cv in zip(f, c_prev, strict=True)]
    written = [iv * gv for iv, gv in zip(i, g, strict=True)]
    c = [k + w for k, w in zip(kept, written, strict=True)]
    tanh_c = [math.tanh(v) for v in c]
    h = [ov * tv for ov, tv in zip(o, tanh_c, strict=True)]
    return CellUpdate(
        c_prev=list(map(float, c_prev)),
        f=list(map(float, f)),
        i=list(map(float, i)),
        g=list(map(float, g)),
        o=list(map(float, o)),
        kept=kept,
        written=written,
        c=c,
        tanh_c=tanh_c,
        h=h,
    )


def step_update(
    result: SimulationResult, layer: int, batch: int, step: int, units: Sequence[int]
) -> CellUpdate:
    """Step `step` of layer `layer`, batch item `batch` of a run, written out for `units`.

    The products are recomputed from the stored gates in the run's dtype with the same
    operations as the hand-written cell, so c and h equal result.manual_c / manual_h exactly
    (then held as float64); c_lstm and h_lstm are nn.LSTM's own states at that step.
    """
    config = result.config
    if not 0 <= layer < config.num_layers:
        raise ValueError(f"layer must be in 0..{config.num_layers - 1}, got {layer}")
    if not 0 <= batch < config.batch_size:
        raise ValueError(f"batch item must be in 0..{config.batch_size - 1}, got {batch}")
    if not 0 <= step < config.seq_len:
        raise ValueError(f"step must be in 0..{config.seq_len - 1}, got {step}")
    chosen = list(units)
    if not chosen:
        raise ValueError("pick at least one unit")
    bad = [u for u in chosen if not 0 <= u < config.hidden_dim]
    if bad:
        raise ValueError(f"units must be in 0..{config.hidden_dim - 1}, got {bad}")
    index = torch.tensor(chosen)
    gate = {name: result.gates[name][layer, batch, step, index] for name in GATE_NAMES}  # (U,)
    if step == 0:
        c_prev = torch.zeros_like(gate["f"])
    else:
        c_prev = result.manual_c[layer, batch, step - 1, index]  # (U,)
    kept = gate["f"] * c_prev
    written = gate["i"] * gate["g"]
    c = kept + written
    tanh_c = torch.tanh(c)
    h = gate["o"] * tanh_c

    def plain(tensor: torch.Tensor) -> list[float]:
        return tensor.double().tolist()

    return CellUpdate(
        c_prev=plain(c_prev),
        f=plain(gate["f"]),
        i=plain(gate["i"]),
        g=plain(gate["g"]),
        o=plain(gate["o"]),
        kept=plain(kept),
        written=plain(written),
        c=plain(c),
        tanh_c=plain(tanh_c),
        h=plain(h),
        units=tuple(chosen),
        step=step,
        c_lstm=plain(result.c[layer, batch, step, index]),
        h_lstm=plain(result.h[layer, batch, step, index]),
    )


# The two-unit worked example (h_{t-1} = [0.4, -0.2], x_t = [0.5, 0.1]); h_{t-1} and x_t do
# not enter once the gates are given.
WORKED_EXAMPLE: dict[str, list[float]] = {
    "c_prev": [0.3, 0.0],
    "f": [0.8, 0.2],
    "i": [0.6, 0.4],
    "g": [0.7, -0.1],
    "o": [0.9, 0.3],
}
