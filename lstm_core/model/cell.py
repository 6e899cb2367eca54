"""One cell update from given gate values: C_t = f ⊙ C_{t-1} + i ⊙ g, h_t = o ⊙ tanh(C_t)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

# Where each value may lie: sigmoid gates in [0, 1], the tanh candidate in [-1, 1].
GATE_RANGES: dict[str, tuple[float, float]] = {
    "f": (0.0, 1.0),
    "i": (0.0, 1.0),
    "o": (0.0, 1.0),
    "g": (-1.0, 1.0),
}


@dataclass(frozen=True)
class CellUpdate:
    """Every product of one update, per unit (lists of equal length), in float64."""

    c_prev: list[float]
    f: list[float]
    i: list[float]
    g: list[float]
    o: list[float]
    kept: list[float]  # f ⊙ C_{t-1}: what survives of the old memory
    written: list[float]  # i ⊙ g: what is added
    c: list[float]  # C_t = kept + written
    tanh_c: list[float]  # tanh(C_t)
    h: list[float]  # h_t = o ⊙ tanh(C_t): what is exposed

    def to_dict(self) -> dict[str, list[float]]:
        return asdict(self)


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
                raise ValueError(f"{name} must lie in [{low:g}, {high:g}], got {outside[0]:g}")
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


# The two-unit worked example (h_{t-1} = [0.4, -0.2], x_t = [0.5, 0.1]); h_{t-1} and x_t do
# not enter once the gates are given.
WORKED_EXAMPLE: dict[str, list[float]] = {
    "c_prev": [0.3, 0.0],
    "f": [0.8, 0.2],
    "i": [0.6, 0.4],
    "g": [0.7, -0.1],
    "o": [0.9, 0.3],
}
