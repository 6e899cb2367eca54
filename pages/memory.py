"""Memory lab: where the memory lives, measured (half-lives, gradients) and learned (training).

The training half of the page is in pages/_memory/: the adding problem (training.py), the
brackets and recall tasks (tasks.py) and the hand-set latch (latch.py); app.py lists this file
only.
"""

from __future__ import annotations

import streamlit as st

from lstm_core import RunConfig
from lstm_core.analysis.memory import (
    HALF_LIFE_MEANING,
    MAX_LAB_HIDDEN,
    MAX_LAB_STEPS,
    PERTURBATION,
    STATE_LABELS,
    STATE_NAMES,
    MemoryLab,
    half_life_text,
    half_life_verdict,
    loop_effect,
    memory_lab,
)
from lstm_core.analysis.metrics import HALF_LIFE_FORMULA, MEAN_FORGET_MEANING
from lstm_core.figures.memory import gradient_figure, perturbation_figure
from pages._memory.latch import latch_section
from pages._memory.tasks import task_training_section
from pages._memory.training import training_section
from ui.caches import LAB, byte_cached
from ui.entry import require_app
from ui.figure import show_figure
from ui.model_source import current_source
from ui.source_cell_pages import unavailable
from ui.source_pages import go_to_explorer_if_asked
from ui.state import current_config

require_app()
go_to_explorer_if_asked()  # asked by a trained task model's button below


@byte_cached(LAB, spinner="Perturbing four models and back-propagating…")
def cached_memory_lab(config: RunConfig) -> MemoryLab:
    """`lstm_core.analysis.memory.memory_lab`, cached per config (deterministic)."""
    return memory_lab(config)


def lab_section(config: RunConfig) -> None:
    """Mean forget gate, half-lives, the perturbation chart and the gradient chart."""
    if config.seq_len > MAX_LAB_STEPS or config.hidden_dim > MAX_LAB_HIDDEN:
        st.warning(
            f"The lab runs up to {MAX_LAB_STEPS} steps and {MAX_LAB_HIDDEN} units; this run has "
            f"{config.seq_len} steps and {config.hidden_dim} units. Lower them in the sidebar "
            "(input 8, hidden 32, 200 steps is a good start)."
        )
        return
    lab = cached_memory_lab(config)
    steps = config.seq_len
    st.subheader("Half-life of a perturbation")
    st.markdown(
        f"Two runs alike except the first input: the second adds {PERTURBATION:g} to every "
        "feature of x₀. The chart shows how far apart each state stays; its **half-life** is "
        f'{HALF_LIFE_MEANING} ("> {steps}" if it never does). Same seed, sizes and input for '
        "an `nn.GRU` and an `nn.RNN(tanh)`, which keep PyTorch's default init (they have no "
        "forget gate to raise). Top layer, batch item 0, float64."
    )
    columns = st.columns(2)
    columns[0].metric(
        "mean forget gate f̄",
        f"{lab.mean_forget:.3f}",
        help=MEAN_FORGET_MEANING,
    )
    columns[1].metric(
        "predicted: LSTM C",
        f"{lab.predicted_half_life_c:.1f}",
        help=f"{HALF_LIFE_FORMULA}: the steps for C to halve if every step multiplied it by f̄.",
    )
    for column, name in zip(st.columns(4), STATE_NAMES, strict=True):
        column.metric(
            f"measured: {STATE_LABELS[name]}",
            half_life_text(lab.half_life[name], steps),
            help=f"Half-life: {HALF_LIFE_MEANING}.",
        )
    st.caption(
        "Predicted and measured can differ: the prediction follows C's own path only (each "
        "step multiplies C by f, taken at its mean f̄), while the measured difference also goes "
        f"round the loop C → h → gates → C, which {loop_effect(lab)}."
    )
    show_figure(
        perturbation_figure,
        lab,
        source_key=config,
        name=f"memory_perturbation_{config.label()}",
        key="memory_perturbation",
    )
    st.caption(
        "Near 10⁻¹⁶ of a state's size a curve is float64 rounding noise: the runs agree as far "
        "as float64 can tell; where the two runs agree to the last bit the line stops."
    )
    _explain_half_lives(lab)

    st.subheader("Gradients: the constant error carousel")
    st.markdown(
        "‖∂C_T/∂C_t‖ and ‖∂h_T/∂h_t‖ from autograd (Frobenius norms of the Jacobians), for the "
        "same four states. Along C's direct path ∂C_t/∂C_{t−1} = diag(f_t), so that path alone "
        "gives ‖∏ f_s‖ (dotted grey). Where the LSTM's C curve lies above the grey one, the "
        "other paths (through h and the gates) carry the signal too."
    )
    show_figure(
        gradient_figure,
        lab,
        source_key=config,
        name=f"memory_gradients_{config.label()}",
        key="memory_gradients",
    )


def _explain_half_lives(lab: MemoryLab) -> None:
    verdict = half_life_verdict(lab)
    {"info": st.info, "success": st.success, "warning": st.warning}[verdict.kind](verdict.text)


st.title("Memory lab: where does the memory live?")
st.markdown(
    '"C is the long-term memory, h the short-term one": here it is measured. A perturbation '
    "of the first input is followed through the LSTM's **C** and **h** and through the hidden "
    "states of a **GRU** and a **vanilla RNN**; autograd shows how much the last state still "
    "depends on each earlier one; and an LSTM *trained* on a long-memory task shows a memory "
    "that no forget-bias knob put there, beside a hand-set latch that stores a value without "
    "showing it. Change the forget-gate init in the sidebar."
)

model_source = current_source()
if model_source is not None:  # a checkpoint or a trained model
    unavailable(
        "perturbation lab",
        "it follows a perturbation through a seeded LSTM, GRU and RNN of the settings' size, "
        "which a loaded file's fixed weights have no counterpart for; the Explorer measures "
        "the loaded model's memory times, and the training below runs as ever.",
    )
else:
    config = current_config()
    if config is not None:
        lab_section(config)
training_section(default_seed=int(st.session_state.get("seed", 0)))
task_training_section(default_seed=int(st.session_state.get("seed", 0)))
latch_section()
