"""Checks on a finished run: are its numbers finite?

An LSTM's states are bounded for finite input (|h| < 1, |C_t| <= |C_{t-1}| + 1), but extreme
input breaks the arithmetic: a CSV value of 1e300 becomes inf in float32, and W x with huge
values of both signs gives inf - inf = NaN. Such a run must be reported, never drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lstm_core.model.simulate import SimulationResult

# Checked in this order; the first tensor with a non-finite value is named.
_CHECKED: tuple[str, ...] = ("x", "h", "c", "manual_h", "manual_c", "output", "h_n", "c_n")
_STATE_NAMES = {
    "x": "the input x",
    "h": "the hidden state h (nn.LSTM)",
    "c": "the cell state C (nn.LSTM)",
    "manual_h": "the hidden state h (hand-written cell)",
    "manual_c": "the cell state C (hand-written cell)",
    "output": "nn.LSTM's output",
    "h_n": "the final hidden state h_n",
    "c_n": "the final cell state c_n",
}


@dataclass(frozen=True)
class NonFinite:
    """Where a run first stopped being finite."""

    tensor: str  # SimulationResult field name, e.g. "x" or "c"
    index: tuple[int, ...]  # index of the first non-finite value in that tensor
    value: float  # nan, inf or -inf
    count: int  # how many values of that tensor are not finite
    total: int  # how many values it has

    def message(self, dtype: str) -> str:
        """One sentence for the user: what overflowed, where, and what to do about it."""
        name = _STATE_NAMES[self.tensor]
        where = ", ".join(str(i) for i in self.index)
        return (
            f"This run is not finite: {name} holds {self.value} at index ({where}) "
            f"({self.count:,} of {self.total:,} values are NaN or infinite) in {dtype}. "
            "The input is too large for the arithmetic (inputs are float32 values, "
            "at most about 3.4e38); scale it down and try again."
        )


def first_nonfinite(result: SimulationResult) -> NonFinite | None:
    """The first tensor of `result` holding NaN or ±inf (input, states, output), or None."""
    tensors: list[tuple[str, torch.Tensor]] = [(name, getattr(result, name)) for name in _CHECKED]
    # The gates are not scanned: each is a sigmoid or tanh in [-1, 1] unless NaN, and a NaN
    # gate makes C (f, i, g) or h (o) NaN at the same step, which the scan above finds.
    for name, tensor in tensors:
        # Fast path: a sum is finite only if every term is (NaN and ±inf propagate); a huge
        # but finite tensor can overflow the sum, so a non-finite sum is checked element-wise.
        if bool(torch.isfinite(tensor.sum())):
            continue
        bad = (~torch.isfinite(tensor)).nonzero()
        if bad.shape[0] == 0:
            continue
        index = tuple(int(i) for i in bad[0])
        return NonFinite(
            tensor=name,
            index=index,
            value=float(tensor[index]),
            count=int(bad.shape[0]),
            total=tensor.numel(),
        )
    return None


def is_finite(result: SimulationResult) -> bool:
    """True when every input, state and gate value of `result` is a finite number."""
    return first_nonfinite(result) is None
