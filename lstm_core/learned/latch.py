"""Store without exposing, exactly: a hand-set LSTM latch beside the trained `recall` model.

The latch is one nn.LSTM unit reading the recall task's channels (VALUE, MARK, QUERY), with
its weights set by hand so that at every step, to the last bit:

    f_t = 1          (bias +GATE_GAIN)
    i_t = MARK_t     (pre-activation GATE_GAIN · (2 MARK_t − 1))
    o_t = QUERY_t    (pre-activation GATE_GAIN · (2 QUERY_t − 1))
    g_t = tanh(VALUE_t)

σ(±GATE_GAIN) is exactly 1 and 0 in float32 and float64 (exp overflows), so
C_t = C_{t-1} + MARK_t · tanh(VALUE_t): 0 before the mark, tanh(v_mark) from the mark on, flat
across the gap; h_t = QUERY_t · tanh(C_t): exactly 0 until the query, tanh(C) at it.

The trained recall model has no such constraint. `measure_exposure` asks whether its memory
unit (the unit whose C follows the stored value best over the gap) also shows the value in h
during the gap: r of that unit's h, the best r of any unit's h, and how well a linear read-out
of all of h (or all of C) recovers the value, fitted on half the held-out sequences and scored
on the other half.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from safetensors.torch import load as load_safetensors
from torch import nn

from lstm_core.analysis.cell_finder import pearson
from lstm_core.learned.recall import CHANNELS, MARK, QUERY, VALUE, RecallTask
from lstm_core.learned.tasks import held_out_batch, lstm_states, model_from_state, run_lstm
from lstm_core.model.kernels import native_kernel
from lstm_core.model.source import TRAINED_SEED, trained_weights_path

# A gate pre-activation this large saturates σ to exactly 0 or 1 in float32 and float64.
GATE_GAIN = 1000.0
# A memory unit whose h correlates with the stored value below this |r| keeps it hidden.
HIDDEN_MAX_ABS_R = 0.5


def latch_lstm(dtype: torch.dtype = torch.float32) -> nn.LSTM:
    """The latch: nn.LSTM(3, 1, batch_first=True) with the hand-set weights above."""
    # Built without drawing weights (on "meta"), so torch's global generator is not advanced.
    lstm = nn.LSTM(CHANNELS, 1, batch_first=True, dtype=dtype, device="meta").to_empty(device="cpu")
    weight_ih = torch.zeros(4, CHANNELS, dtype=dtype)  # rows: PyTorch's gate order i, f, g, o
    bias = torch.zeros(4, dtype=dtype)
    weight_ih[0, MARK], bias[0] = 2 * GATE_GAIN, -GATE_GAIN  # i = MARK
    bias[1] = GATE_GAIN  # f = 1
    weight_ih[2, VALUE] = 1.0  # g = tanh(VALUE)
    weight_ih[3, QUERY], bias[3] = 2 * GATE_GAIN, -GATE_GAIN  # o = QUERY
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(weight_ih)
        lstm.weight_hh_l0.zero_()  # h_{t-1} plays no part
        lstm.bias_ih_l0.copy_(bias)
        lstm.bias_hh_l0.zero_()
    return lstm


def latch_states(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The latch's h and C on recall inputs x (B, T, 3): ((B, T), (B, T)), in x's dtype."""
    h, c = run_lstm(latch_lstm(x.dtype), x)  # (B, T, 1)
    return h[..., 0], c[..., 0]


def recall_model(state: dict[str, torch.Tensor]) -> nn.Module:
    """A trained recall model (StepRegressor) from its state_dict."""
    return model_from_state("recall", state)


@dataclass(frozen=True)
class Exposure:
    """How much of the stored value shows in h during the gap: trained recall vs the latch.
    Every r is Pearson's r over all gap steps (mark to the step before the query) of the
    held-out sequences; R² of a linear read-out is scored on sequences it was not fitted on."""

    unit: int  # the trained model's memory unit: argmax |r(C, stored value)| over the gap
    r_c: float  # r(C[unit], stored value)
    r_h: float  # r(h[unit], stored value): the same unit's h
    best_h_unit: int  # argmax |r(h, stored value)| over all units
    best_r_h: float
    probe_r2_c: float  # R² of the stored value read linearly from all of C
    probe_r2_h: float  # the same from all of h
    latch_r_c: float  # the latch's r(C, stored value): its C is tanh of the value
    latch_max_abs_h: float  # the latch's largest |h| over the gap: 0 exactly

    @property
    def keeps_value_hidden(self) -> bool:
        """True when the memory unit's h shows little of the value (|r| < HIDDEN_MAX_ABS_R)."""
        return abs(self.r_h) < HIDDEN_MAX_ABS_R

    def to_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


def _probe_r2(states: torch.Tensor, values: torch.Tensor, fit_rows: torch.Tensor) -> float:
    """R² on the other rows of a least-squares read-out (with bias) fitted on `fit_rows`:
    states (N, H), values (N,), fit_rows (N,) bool."""
    design = torch.cat([states.double(), states.new_ones(states.shape[0], 1).double()], dim=1)
    target = values.double()
    weights = torch.linalg.lstsq(design[fit_rows], target[fit_rows, None]).solution  # (H+1, 1)
    test = ~fit_rows
    residual = target[test] - (design[test] @ weights)[:, 0]
    spread = target[test] - target[test].mean()
    return float(1.0 - residual.square().sum() / spread.square().sum())


@torch.no_grad()
def measure_exposure(state: dict[str, torch.Tensor], seed: int, seq_len: int) -> Exposure:
    """Exposure of the stored value in the trained recall model `state`, on the held-out
    sequences of (seed, seq_len), with the latch's numbers on the same sequences."""
    task = RecallTask()
    model = recall_model(state)
    test = held_out_batch(task, seed, seq_len)
    h, c = lstm_states(task, model, test.inputs)  # (N, T, H)
    stored = test.labels["stored_value"]  # (N, T), NaN outside the gap
    gap = torch.isfinite(stored)  # (N, T)
    values = stored[gap]  # (G,)
    r_c, r_h = pearson(c[gap], values), pearson(h[gap], values)  # (H,)
    unit, best_h_unit = int(r_c.abs().argmax()), int(r_h.abs().argmax())
    first_half = torch.arange(stored.shape[0])[:, None] < stored.shape[0] // 2  # (N, 1)
    fit_rows = first_half.expand_as(gap)[gap]  # (G,)
    latch_h, latch_c = latch_states(test.inputs)  # (N, T)
    return Exposure(
        unit=unit,
        r_c=float(r_c[unit]),
        r_h=float(r_h[unit]),
        best_h_unit=best_h_unit,
        best_r_h=float(r_h[best_h_unit]),
        probe_r2_c=_probe_r2(c[gap], values, fit_rows),
        probe_r2_h=_probe_r2(h[gap], values, fit_rows),
        latch_r_c=float(pearson(latch_c[gap][:, None], values)[0]),
        latch_max_abs_h=float(latch_h[gap].abs().max()),
    )


@dataclass(frozen=True)
class LatchComparison:
    """One held-out recall sequence through the latch and through the trained model's
    memory unit: what `latch_figure` draws."""

    x: torch.Tensor  # (T, 3) the sequence's channels
    mark: int  # the marked step
    query: int  # the query step
    latch_c: torch.Tensor  # (T,)
    latch_h: torch.Tensor  # (T,)
    unit: int  # the trained model's memory unit
    trained_c: torch.Tensor  # (T,) C of that unit
    trained_h: torch.Tensor  # (T,) h of that unit
    recalled: float  # the trained model's output at the query
    stored_value: float  # the value at the mark: the target at the query


@torch.no_grad()
def latch_comparison(
    state: dict[str, torch.Tensor],
    seed: int,
    seq_len: int,
    sequence: int = 0,
    unit: int | None = None,
) -> LatchComparison:
    """Held-out sequence `sequence` of (seed, seq_len) through the latch and the trained
    recall model `state`; its memory unit is `unit`, by default the one `measure_exposure`
    finds."""
    task = RecallTask()
    if not 0 <= sequence < task.test_sequences:
        raise ValueError(f"sequence must be in 0..{task.test_sequences - 1}, got {sequence}")
    model = recall_model(state)
    test = held_out_batch(task, seed, seq_len)
    if unit is None:
        unit = measure_exposure(state, seed, seq_len).unit
    x = test.inputs[sequence : sequence + 1]  # (1, T, 3)
    h, c = lstm_states(task, model, x)  # (1, T, H)
    latch_h, latch_c = latch_states(x)  # (1, T)
    mark = int(x[0, :, MARK].argmax())
    query = int(x[0, :, QUERY].argmax())
    with native_kernel():
        output = model(x)  # (1, T)
    return LatchComparison(
        x=x[0],
        mark=mark,
        query=query,
        latch_c=latch_c[0],
        latch_h=latch_h[0],
        unit=unit,
        trained_c=c[0, :, unit],
        trained_h=h[0, :, unit],
        recalled=float(output[0, query]),
        stored_value=float(x[0, mark, VALUE]),
    )


def shipped_recall_state() -> dict[str, torch.Tensor]:
    """The shipped recall model's weights (`python -m lstm_core train --task recall`, seed
    TRAINED_SEED); it was trained and is scored at RecallTask's default T."""
    return load_safetensors(trained_weights_path("recall").read_bytes())


def shipped_exposure() -> Exposure:
    """`measure_exposure` of the shipped recall model on its held-out sequences."""
    return measure_exposure(shipped_recall_state(), TRAINED_SEED, RecallTask.defaults.seq_len)


def shipped_latch_comparison(sequence: int, unit: int) -> LatchComparison:
    """`latch_comparison` of the shipped recall model (memory unit `unit`, from
    `shipped_exposure`) on held-out sequence `sequence`."""
    state = shipped_recall_state()
    return latch_comparison(state, TRAINED_SEED, RecallTask.defaults.seq_len, sequence, unit)
