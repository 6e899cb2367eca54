"""Where the memory lives, measured: perturbation half-lives and gradient norms.

Four states are compared on the same input, seed and sizes: the LSTM's cell state C and hidden
state h, an nn.GRU's h and an nn.RNN(tanh)'s h. The LSTM is the run's own (`build_model`, with
its forget-bias setting); the GRU and RNN get PyTorch's default init U(-1/sqrt(H), 1/sqrt(H))
drawn from the same seeded generator, since neither has a forget gate to raise.

Everything here runs in float64 (the float32 draws cast), so a difference that decays towards
1e-12 is the model's dynamics, not rounding noise; every nn module runs inside
`native_kernel()` so the numbers are deterministic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from lstm_core.analysis.metrics import predicted_half_life
from lstm_core.model.config import RunConfig
from lstm_core.model.kernels import native_kernel
from lstm_core.model.simulate import build_model, manual_trajectory

# The four measured states, in chart order.
STATE_NAMES: tuple[str, ...] = ("lstm_c", "lstm_h", "gru_h", "rnn_h")
STATE_LABELS: dict[str, str] = {
    "lstm_c": "LSTM C",
    "lstm_h": "LSTM h",
    "gru_h": "GRU h",
    "rnn_h": "RNN h",
}
# Added to every feature of the first input x_0 in the second run: one standard deviation of the
# randn input, so the two runs see first inputs as different as two draws of the data. (The
# gradient chart shows the linearised, infinitesimal version of the same question.)
PERTURBATION = 1.0
# The lab steps four models one step at a time and back-propagates H copies of the sequence,
# so its cost grows with steps x units²: these caps keep a lab run a short wait on a shared
# server (README, Performance).
MAX_LAB_STEPS = 500
MAX_LAB_HIDDEN = 64
# A half-life counts once the difference has stayed at or below half this many steps in a row:
# the loop C -> h -> gates -> C can bring a perturbation back after a dip, and h's difference
# is spiky, so neither the first dip nor the last spike says how long a state keeps it.
HALF_LIFE_HOLD = 10
# What `half_life` measures, in words, for the pages and the CLI.
HALF_LIFE_MEANING = (
    "the number of steps until the difference falls to half its value at t = 0 and stays at "
    f"or below half for {HALF_LIFE_HOLD} steps in a row (or to the end of the run)"
)


def check_lab_size(config: RunConfig) -> None:
    """Raise ValueError if `config` is too large for the lab (see MAX_LAB_STEPS, _HIDDEN)."""
    if config.seq_len > MAX_LAB_STEPS or config.hidden_dim > MAX_LAB_HIDDEN:
        raise ValueError(
            f"the Memory lab runs up to {MAX_LAB_STEPS} steps and {MAX_LAB_HIDDEN} units "
            f"(this run: {config.seq_len} steps, {config.hidden_dim} units)"
        )


def half_life(difference: torch.Tensor) -> int | None:
    """Steps until `difference` (T,) falls to half its value at t = 0 and stays there, or None.

    Stays there: at or below half for HALF_LIFE_HOLD steps in a row (or to the end of the run,
    if that is sooner), so neither a one-step dip that rises again nor one late spike after a
    long fall decides it. None means "> T". `difference[0]` must be positive: a state the
    perturbation never reached has no half-life. A NaN step is not below half.
    """
    if difference.dim() != 1 or difference.numel() == 0:
        raise ValueError("difference must be a non-empty 1-D series (T,)")
    start = float(difference[0])
    if not math.isfinite(start) or start <= 0.0:
        raise ValueError(f"the difference at t = 0 must be positive and finite, got {start}")
    below = (difference <= 0.5 * start).tolist()
    for step in range(1, len(below)):
        if all(below[step : step + HALF_LIFE_HOLD]):
            return step
    return None


def half_life_text(steps: int | None, seq_len: int) -> str:
    """A half-life for people: "12 steps", "1 step", or "> T" (with T filled in)."""
    if steps is None:
        return f"> {seq_len}"
    return f"{steps} step" if steps == 1 else f"{steps} steps"


def seeded_rnns(config: RunConfig) -> tuple[nn.GRU, nn.RNN]:
    """An nn.GRU and an nn.RNN(tanh) of the run's sizes, float64, with PyTorch's default init.

    Each gets its own generator seeded with `config.seed` that first skips the input noise
    draw (B, T, I), exactly as `build_model` does, then draws every parameter
    U(-1/sqrt(H), 1/sqrt(H)) in module order: what `torch.manual_seed(seed); torch.randn(B, T, I);
    nn.GRU(I, H, L)` gives, without touching the global RNG.
    """
    models: list[nn.Module] = []
    for kind in (nn.GRU, nn.RNN):
        generator = torch.Generator().manual_seed(config.seed)
        torch.randn(config.batch_size, config.seq_len, config.input_dim, generator=generator)
        model = kind(
            config.input_dim, config.hidden_dim, config.num_layers, batch_first=True, device="meta"
        ).to_empty(device="cpu")
        bound = 1.0 / math.sqrt(config.hidden_dim)
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.uniform_(-bound, bound, generator=generator)
        models.append(model.double())
    gru, rnn = models
    assert isinstance(gru, nn.GRU) and isinstance(rnn, nn.RNN)
    return gru, rnn


@torch.no_grad()
def _stepped_states(model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Top layer's h (and C for an LSTM) at every step: (B, T, H) each; zero initial states."""
    batch, steps, _ = x.shape
    layers, hidden = model.num_layers, model.hidden_size
    h = x.new_zeros(layers, batch, hidden)  # (L, B, H)
    c = x.new_zeros(layers, batch, hidden) if isinstance(model, nn.LSTM) else None
    hidden_states = x.new_empty(batch, steps, hidden)  # (B, T, H)
    cell_states = x.new_empty(batch, steps, hidden) if c is not None else None
    for t in range(steps):
        if c is not None:
            _, (h, c) = model(x[:, t : t + 1], (h, c))
            cell_states[:, t] = c[-1]
        else:
            _, h = model(x[:, t : t + 1], h)
        hidden_states[:, t] = h[-1]
    return hidden_states, cell_states


@dataclass(frozen=True)
class MemoryLab:
    """Perturbation half-lives and gradient norms of one run (top layer, batch item 0).

    Series are float64 numpy-ready tensors of length T, indexed by t = 0..T-1.
    """

    config: RunConfig
    mean_forget: float  # mean LSTM forget gate over units and steps
    predicted_half_life_c: float  # ln 0.5 / ln(mean_forget), steps
    difference: dict[str, torch.Tensor]  # STATE_NAMES -> (T,) ||state_t - perturbed state_t||
    half_life: dict[str, int | None]  # STATE_NAMES -> steps, None = "> T"
    # STATE_NAMES -> (T,) Frobenius norm of the Jacobian d state_T / d state_t
    gradient: dict[str, torch.Tensor]
    # (T,) ||prod_{s=t+1..T-1} f_s||_2 over units: the Jacobian's norm along C's direct path
    forget_product: torch.Tensor

    def to_json(self) -> dict[str, object]:
        """The `memory --json` object; a half-life of None (JSON null) means "> T"."""
        return {
            "half_life": dict(self.half_life),
            "predicted_half_life_c": _finite_or_none(self.predicted_half_life_c),
        }


# A C half-life of fewer steps than this is no long memory, whatever the other states do.
SHORTEST_VERDICT = 5
# Measured and predicted C half-lives further apart than this factor: the loop through h and
# the gates changed how long C keeps the perturbation, and the page says which way.
LOOP_EFFECT_FACTOR = 1.5


@dataclass(frozen=True)
class Verdict:
    """What a lab run shows, in one sentence: `kind` is "info" (the run cannot tell),
    "success" (C keeps the perturbation longest) or "warning" (it does not)."""

    kind: str
    text: str


def loop_effect(lab: MemoryLab) -> str:
    """How the loop C -> h -> gates -> C changed C's half-life against f̄'s prediction, as the
    end of a sentence ("... which writes it back into C: ...")."""
    measured = lab.half_life["lstm_c"]
    predicted = lab.predicted_half_life_c
    steps = lab.config.seq_len
    if measured is None and LOOP_EFFECT_FACTOR * predicted >= steps:
        return (
            f"may change it too: this run cannot tell (C has not halved within its {steps} "
            "steps, and f̄ alone predicts about as long)"
        )
    if measured is None or measured > LOOP_EFFECT_FACTOR * predicted:
        return "writes it back into C: here it lasts longer than f̄ alone predicts"
    if measured < predicted / LOOP_EFFECT_FACTOR:
        return "can also cancel it: here it fades sooner than f̄ alone predicts"
    return "here changes it little"


def half_life_verdict(lab: MemoryLab) -> Verdict:
    """Whether the LSTM's C keeps the first input's perturbation longer than the other three
    states, its own h included (a half-life of "> T" counts as T + 1 steps), and what to change
    when it does not."""
    steps = lab.config.seq_len
    lives = {name: lab.half_life[name] for name in STATE_NAMES}
    text = {name: half_life_text(life, steps) for name, life in lives.items()}
    c_life = lives["lstm_c"]
    c_steps = c_life if c_life is not None else steps + 1
    rivals = {
        name: life if life is not None else steps + 1
        for name, life in lives.items()
        if name != "lstm_c"
    }
    longest_rival = max(rivals, key=lambda name: rivals[name])
    raise_it = "Raise the forget bias (+3 to +5) or use chrono initialisation in the sidebar."
    if c_life is None and steps < SHORTEST_VERDICT:
        return Verdict(
            "info",
            f"The run has {steps} step{'s' if steps > 1 else ''}: too short to tell how long a "
            f"state remembers (C has not halved within it). Raise the steps to "
            f"{SHORTEST_VERDICT} or more in the sidebar.",
        )
    if c_steps > rivals[longest_rival] and c_steps >= SHORTEST_VERDICT:
        return Verdict(
            "success",
            f"The LSTM's C keeps the perturbation longest: half-life {text['lstm_c']} against "
            f"{text['lstm_h']} for its h and {text['gru_h']} / {text['rnn_h']} for the GRU / RNN.",
        )
    if c_life is None:  # so a rival has not halved either
        return Verdict(
            "info",
            f"Within these {steps} steps neither the LSTM's C nor the "
            f"{STATE_LABELS[longest_rival]} has halved: the run is too short to tell which "
            "keeps the first input longer. Raise the steps in the sidebar.",
        )
    if c_life < SHORTEST_VERDICT:
        return Verdict(
            "warning",
            "With these settings the LSTM's C does not remember the first input for long "
            f"(half-life {text['lstm_c']}). {raise_it}",
        )
    return Verdict(
        "warning",
        f"With these settings the LSTM's C is not the longest memory: its half-life is "
        f"{text['lstm_c']}, the {STATE_LABELS[longest_rival]}'s {text[longest_rival]}. "
        f"{raise_it}",
    )


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def perturbation_differences(
    lstm: nn.LSTM, gru: nn.Module, rnn: nn.Module, x: torch.Tensor
) -> dict[str, torch.Tensor]:
    """||Δstate_t|| over units for runs on x (1, T, I) and on x with x_0 + PERTURBATION.

    Returns STATE_NAMES -> (T,) float64. Modules must be float64 like x.
    """
    nudged = x.clone()
    nudged[:, 0] += PERTURBATION  # (1, T, I): only the first input differs
    pair = torch.cat([x, nudged])  # (2, T, I): both runs in one batch
    with native_kernel():
        lstm_h, lstm_c = _stepped_states(lstm, pair)
        gru_h, _ = _stepped_states(gru, pair)
        rnn_h, _ = _stepped_states(rnn, pair)
    assert lstm_c is not None
    states = {"lstm_c": lstm_c, "lstm_h": lstm_h, "gru_h": gru_h, "rnn_h": rnn_h}
    return {name: (s[1] - s[0]).norm(dim=-1) for name, s in states.items()}  # (T,)


def jacobian_norms(model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Frobenius norms of d state_T / d state_t for t = 0..T-1, from autograd.

    `x` is (1, T, I). The sequence is run as a batch of H copies; copy k back-propagates unit k
    of the top layer's final state, so the gradients the copies leave on state_t are the rows
    of the Jacobian. Returns {"h": (T,)} and for an LSTM also {"c": (T,)}.
    """
    hidden, layers = model.hidden_size, model.num_layers
    steps = x.shape[1]
    copies = x.expand(hidden, -1, -1).contiguous()  # (H, T, I)
    is_lstm = isinstance(model, nn.LSTM)
    h = copies.new_zeros(layers, hidden, hidden)  # (L, copies, H)
    c = copies.new_zeros(layers, hidden, hidden)
    kept_h: list[torch.Tensor] = []
    kept_c: list[torch.Tensor] = []
    with native_kernel(), torch.enable_grad():
        for t in range(steps):
            if is_lstm:
                _, (h, c) = model(copies[:, t : t + 1], (h, c))
                c.retain_grad()
                kept_c.append(c)
            else:
                _, h = model(copies[:, t : t + 1], h)
            h.retain_grad()
            kept_h.append(h)
        eye = torch.eye(hidden, dtype=x.dtype)  # copy k selects unit k
        names = ("h", "c") if is_lstm else ("h",)
        finals = {"h": kept_h[-1], "c": kept_c[-1] if is_lstm else None}
        norms: dict[str, torch.Tensor] = {}
        for name in names:
            for state in kept_h + kept_c:
                state.grad = None
            final = finals[name]
            assert final is not None
            (final[-1] * eye).sum().backward(retain_graph=True)
            kept = kept_h if name == "h" else kept_c
            # Top layer's slice of each step's gradient: (copies, H) = the Jacobian's rows.
            norms[name] = torch.stack(
                [
                    state.grad[-1].norm() if state.grad is not None else x.new_zeros(())
                    for state in kept
                ]
            )
    return norms


def memory_lab(config: RunConfig, state_dict: dict[str, torch.Tensor] | None = None) -> MemoryLab:
    """Half-lives and gradient norms for the run `config` (top layer, batch item 0).

    `state_dict` replaces the LSTM's drawn weights (e.g. a trained model). Deterministic.
    """
    check_lab_size(config)
    x, lstm = build_model(config, state_dict)
    x = x[:1].double()  # (1, T, I): batch item 0
    lstm = lstm.double()
    gru, rnn = seeded_rnns(config)
    _, _, gates = manual_trajectory(lstm, x)
    forget = gates["f"][-1, 0]  # (T, H) top layer's forget gate
    mean_forget = float(forget.mean())
    difference = perturbation_differences(lstm, gru, rnn, x)
    lstm_norms = jacobian_norms(lstm, x)
    gradient = {
        "lstm_c": lstm_norms["c"],
        "lstm_h": lstm_norms["h"],
        "gru_h": jacobian_norms(gru, x)["h"],
        "rnn_h": jacobian_norms(rnn, x)["h"],
    }
    # prod_{s=t+1}^{T-1} f_s per unit: a reversed cumulative product, shifted by one step.
    suffix = torch.flip(torch.cumprod(torch.flip(forget, [0]), dim=0), [0])  # (T, H)
    product = torch.cat([suffix[1:], torch.ones_like(suffix[:1])])  # (T, H), 1 at t = T-1
    return MemoryLab(
        config=config,
        mean_forget=mean_forget,
        predicted_half_life_c=predicted_half_life(mean_forget),
        difference=difference,
        half_life={name: half_life(d) for name, d in difference.items()},
        gradient=gradient,
        forget_product=product.norm(dim=-1),
    )
