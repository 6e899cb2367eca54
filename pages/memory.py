"""Memory lab: where the memory lives, measured (half-lives, gradients) and learned (training)."""

from __future__ import annotations

import streamlit as st

from ui.entry import require_app
from ui.memory import lab_section, training_section
from ui.state import current_config

require_app()

st.title("Memory lab: where does the memory live?")
st.markdown(
    '"C is the long-term memory, h the short-term one": here it is measured. A perturbation '
    "of the first input is followed through the LSTM's **C** and **h** and through the hidden "
    "states of a **GRU** and a **vanilla RNN**; autograd shows how much the last state still "
    "depends on each earlier one; and an LSTM *trained* on a long-memory task shows a memory "
    "that no forget-bias knob put there. Change the forget-gate init in the sidebar."
)

config = current_config()
if config is not None:
    lab_section(config)
training_section(default_seed=int(st.session_state.get("seed", 0)))
