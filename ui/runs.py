"""The run every page draws: `lstm_core.model.simulate`, cached per RunConfig for every session.

Runs are kept in the byte-bounded RUNS cache (ui/caches.py): one object handed to every rerun
and session, never pickled or copied, which is safe because a SimulationResult is frozen and
its tensors are never written after `simulate` returns (figures and metrics only read them).
A run's bytes are reserved before it is computed; an evicted run is simply recomputed.
"""

from __future__ import annotations

from collections.abc import Callable

from lstm_core import RunConfig, SimulationResult, simulate
from lstm_core.model.simulate import result_nbytes
from lstm_core.model.source import ModelSource
from lstm_core.serving.cache import BudgetError
from ui.caches import RUNS, byte_cached
from ui.model_source import current_source
from ui.share import no_room_and_stop, stop_page
from ui.state import current_config


@byte_cached(
    RUNS, spinner="Running nn.LSTM and the hand-written cell…", expected_bytes=result_nbytes
)
def cached_simulate(config: RunConfig) -> SimulationResult:
    """`lstm_core.model.simulate`, cached per config (equal configs give identical results)."""
    return simulate(config)


def run_or_stop(config: RunConfig) -> SimulationResult:
    """The cached run for a page; when the server has no room for it now, say so and stop."""
    try:
        return cached_simulate(config)
    except BudgetError as error:
        no_room_and_stop(error)


def seeded_run_or_stop(
    source_body: Callable[[ModelSource], None],
) -> tuple[RunConfig, SimulationResult]:
    """The sidebar's config and its cached run, for a page on the seeded nn.LSTM.

    On a loaded checkpoint or trained model, `source_body` shows the page instead and the
    script stops; an invalid config has already said why and stops too.
    """
    source = current_source()
    if source is not None:
        source_body(source)
        stop_page()
    config = current_config()
    if config is None:
        stop_page()
    return config, run_or_stop(config)
