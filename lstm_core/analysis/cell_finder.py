"""The cell finder: which unit's C (and, beside it, whose h) follows a labelled quantity.

A label is one number per step (bracket depth, inside-a-string as 0/1, column, a stored value).
Every unit is scored by Pearson's r between its state and the label over the same steps; the
unit with the largest |r| of C is the label's cell, and the best |r| of h is reported beside it,
so the two states of one model are compared on equal terms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch


def _centered(values: torch.Tensor) -> torch.Tensor:
    """A float64 copy of values (N, K) minus its column means: (N, K)."""
    centered = values.to(torch.float64, copy=True)
    return centered.sub_(centered.mean(dim=0))


def _r(states: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """Pearson's r of centred states (N, H) with centred values (N, K): (H, K), float64.

    One matrix product for every pair, instead of an (N, H) product per label.
    """
    denominator = states.norm(dim=0)[:, None] * values.norm(dim=0)[None, :]  # (H, K)
    return torch.where(denominator > 0, (states.t() @ values) / denominator, 0.0)


def pearson(states: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """Pearson's r between each column of states (N, H) and values (N,): (H,), float64.

    A column that does not vary, or a label that does not, gets r = 0.
    """
    if states.ndim != 2 or values.ndim != 1 or states.shape[0] != values.shape[0]:
        raise ValueError(
            f"states must be (N, H) and values (N,), got {tuple(states.shape)} and "
            f"{tuple(values.shape)}"
        )
    return _r(_centered(states), _centered(values[:, None]))[:, 0]


def unit_r(states: torch.Tensor, label: torch.Tensor) -> float:
    """Pearson's r between one unit's states (T,) and a label (T,) over the steps where the
    label is defined (finite); 0 when either does not vary there."""
    if states.shape != label.shape or states.ndim != 1:
        raise ValueError(
            f"states and label must both be (T,), got {tuple(states.shape)} and "
            f"{tuple(label.shape)}"
        )
    defined = label.isfinite()
    return float(pearson(states[defined, None], label[defined])[0])


@dataclass(frozen=True)
class UnitMatch:
    """One label's best unit: the unit whose C correlates most (by |r|) with the label."""

    label: str
    unit: int  # argmax over units of |r(C, label)|
    r_c: float  # r(C[unit], label)
    r_h: float  # r(h[unit], label): the same unit's h
    best_h_unit: int  # argmax over units of |r(h, label)|: h's own best unit
    best_r_h: float  # r(h[best_h_unit], label)

    def to_dict(self) -> dict[str, float | int]:
        """The JSON form: {"unit", "r_c", "r_h", "best_h_unit", "best_r_h"}."""
        return {
            "unit": self.unit,
            "r_c": self.r_c,
            "r_h": self.r_h,
            "best_h_unit": self.best_h_unit,
            "best_r_h": self.best_r_h,
        }


def correlations(
    c: torch.Tensor, h: torch.Tensor, labels: Mapping[str, torch.Tensor]
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Per label, r of every unit's C and of every unit's h: ((H_c,), (H_h,)) float64.

    c (N, H) and h (N, H_h) are states at N steps (several sequences may be concatenated);
    each label is (N,). h may be narrower than C (a projected LSTM).
    """
    if c.shape[0] != h.shape[0]:
        raise ValueError(f"c and h need the same steps, got {c.shape[0]} and {h.shape[0]}")
    if not labels:
        return {}
    for name, values in labels.items():
        if values.shape != (c.shape[0],):
            raise ValueError(f"label {name!r} must be ({c.shape[0]},), got {tuple(values.shape)}")
    # Each state matrix is centred once for all labels: on a whole held-out file of a stacked
    # model that is one float64 copy of (N, L·H), not two per label.
    values = _centered(torch.stack([v.double() for v in labels.values()], dim=1))  # (N, K)
    r_c = _r(_centered(c), values)  # (H, K)
    r_h = _r(_centered(h), values)  # (H_h, K)
    return {name: (r_c[:, k], r_h[:, k]) for k, name in enumerate(labels)}


def _constant(values: torch.Tensor) -> bool:
    return bool((values == values[0]).all()) if values.numel() else True


def varying_labels(labels: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The labels that vary over their steps: the only ones a unit can follow."""
    return {name: values for name, values in labels.items() if not _constant(values)}


def constant_labels(labels: Mapping[str, torch.Tensor]) -> list[str]:
    """The labels that do not vary over their steps: find_cells leaves them out."""
    varying = varying_labels(labels)
    return [name for name in labels if name not in varying]


def find_cells(
    c: torch.Tensor, h: torch.Tensor, labels: Mapping[str, torch.Tensor]
) -> dict[str, UnitMatch]:
    """Each label's best unit by |r(C, label)|, with that unit's r(h) and h's own best.

    c (N, H), h (N, H) (or (N, H_h) when projected: then `r_h` is h's unit of the same index
    only when it exists, else 0), labels {name: (N,)}. A label that does not vary over the N
    steps (no string in the text, say) is left out: no unit can follow it.
    """
    out: dict[str, UnitMatch] = {}
    for name, (r_c, r_h) in correlations(c, h, varying_labels(labels)).items():
        unit = int(r_c.abs().argmax())
        best_h_unit = int(r_h.abs().argmax())
        same_h = float(r_h[unit]) if unit < r_h.shape[0] else 0.0
        out[name] = UnitMatch(
            label=name,
            unit=unit,
            r_c=float(r_c[unit]),
            r_h=same_h,
            best_h_unit=best_h_unit,
            best_r_h=float(r_h[best_h_unit]),
        )
    return out


def ranked_units(r: torch.Tensor, top: int) -> list[int]:
    """The `top` units of largest |r|, best first."""
    return [int(k) for k in r.abs().argsort(descending=True)[:top]]
