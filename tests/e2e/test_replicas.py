"""Two replicas behind HAProxy (scripts/serve_replicas.sh): sessions stick to their replica.

The script is started as it would be by hand, on free loopback ports. Several browser
sessions (separate contexts, so separate cookies) go through the proxy; each must keep the
replica it was given (the SERVERID cookie, the X-Replica header of its page and of its
reload, and HAProxy's log line for every websocket it opened), both replicas must serve some,
and every chart must hold the numbers of a lone run, before and after a slider move.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from playwright.sync_api import BrowserContext, Page

from lstm_core import DEFAULT_CONFIG, RunConfig, simulate
from lstm_core.io.urlstate import config_from_query
from lstm_core.model.config import SETTING_NAMES

from .support import (
    ARTIFACTS,
    CHART_TIMEOUT_MS,
    DRAWN_H,
    ROOT,
    SERVER_START_TIMEOUT_S,
    free_port,
    screenshot,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

REPLICAS = 2
SESSIONS = 3  # round robin: r1, r2, r1 (one replica holds two sessions at once)
COOKIE = "SERVERID"
# HAProxy's log line (the script's log-format): backend/server status sent=COOKIE "request"
LOG_LINE = re.compile(r'^replicas/(\S+) \S+ sent=(\S*) "(\S+) (\S+)')


@dataclasses.dataclass
class Replicas:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@pytest.fixture(scope="module")
def replicas() -> Iterator[Replicas]:
    """`serve_replicas.sh 2 PORT` on free ports; its process group is stopped at the end."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    replica_ports = [free_port() for _ in range(REPLICAS)]
    log_path = ARTIFACTS / "serve_replicas.log"
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "REPLICA_PORTS": " ".join(map(str, replica_ports)),
    }
    with log_path.open("wb") as log:
        # Its own process group: teardown signals the script, its replicas and HAProxy alone.
        process = subprocess.Popen(
            ["bash", "scripts/serve_replicas.sh", str(REPLICAS), str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Replicas(f"http://127.0.0.1:{port}", process, log_path)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        urls = [server.url] + [f"http://127.0.0.1:{p}" for p in replica_ports]
        # Up means: each replica answers, and HAProxy's health checks have marked it up (until
        # then it sends every new session to the replicas it has seen up).
        while not (all(_healthy(url) for url in urls) and _all_up_in_log(server.log())):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"serve_replicas.sh did not come up:\n{server.log()[-3000:]}")
            time.sleep(0.5)
        yield server
    finally:
        _stop_group(process)


def _all_up_in_log(log: str) -> bool:
    """Whether HAProxy's last word on every replica is UP (it starts them up and logs only a
    change, so a replica never reported is up)."""
    states = dict(re.findall(r"Server replicas/(r\d+) is (UP|DOWN)", log))
    return all(states.get(f"r{i + 1}", "UP") == "UP" for i in range(REPLICAS))


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # the script's trap stops what it started
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # anything the trap left behind
    process.wait(timeout=15)


def _config_in_url(page: Page) -> RunConfig:
    """The run the page shows: the app writes every setting into its URL."""
    query = {key: values[-1] for key, values in parse_qs(urlsplit(page.url).query).items()}
    values, warnings = config_from_query(query)
    assert not warnings, warnings
    run_values = {key: value for key, value in values.items() if key in SETTING_NAMES}
    return dataclasses.replace(DEFAULT_CONFIG, **run_values)


def _assert_draws_lone_run(page: Page, config: RunConfig) -> None:
    """The h panel's lines are the lone run's float32 values at the drawn steps, bit for bit."""
    h = simulate(config).h[0, 0].numpy()  # (T, H)
    drawn = [(int(meta), steps, values) for meta, steps, values in page.evaluate(DRAWN_H)]
    assert {unit for unit, _, _ in drawn} == set(range(min(config.hidden_dim, 8)))
    for unit, steps, values in drawn:
        expected = h[np.asarray(steps, dtype=int), unit].astype(np.float32)
        np.testing.assert_array_equal(np.asarray(values, dtype=np.float64), expected)


def _cookie(context: BrowserContext) -> str:
    values = [c["value"] for c in context.cookies() if c["name"] == COOKIE]
    assert len(values) == 1, context.cookies()
    return values[0]


def _wait_for_new_chart(page: Page, before: str) -> None:
    page.wait_for_function(
        "(before) => { const gd = document.querySelectorAll('.js-plotly-plot')[0];"
        " return gd && gd._fullData && JSON.stringify(gd._fullData[0].y) !== before; }",
        arg=before,
        timeout=CHART_TIMEOUT_MS,
    )
    wait_until_idle(page)


def test_sessions_keep_their_replica_and_draw_lone_runs(replicas: Replicas, new_context) -> None:
    contexts = [new_context() for _ in range(SESSIONS)]
    pages = [context.new_page() for context in contexts]
    assigned: list[str] = []
    # One after another: each session's first request is the one HAProxy balances.
    for k, page in enumerate(pages):
        response = page.goto(f"{replicas.url}/?seed={700 + k}&seq_len=12&hidden_dim=3")
        assert response is not None and response.ok
        assigned.append(response.headers["x-replica"])
        assert _cookie(contexts[k]) == assigned[-1]
    assert set(assigned) == {f"r{i + 1}" for i in range(REPLICAS)}, assigned

    for k, page in enumerate(pages):
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=CHART_TIMEOUT_MS)
        wait_until_idle(page)
        config = _config_in_url(page)
        assert (config.seed, config.seq_len, config.hidden_dim) == (700 + k, 12, 3)
        _assert_draws_lone_run(page, config)

        # A slider move: the session's websocket, on its replica, runs the new settings.
        before = page.evaluate(
            "() => JSON.stringify(document.querySelectorAll('.js-plotly-plot')[0]._fullData[0].y)"
        )
        page.get_by_role("slider", name="forget_bias").focus()
        page.keyboard.press("ArrowLeft")
        _wait_for_new_chart(page, before)
        moved = _config_in_url(page)
        assert moved.forget_bias == config.forget_bias - 0.5
        _assert_draws_lone_run(page, moved)

        # A reload goes back to the same replica, and restores the moved settings.
        response = page.reload()
        assert response is not None and response.headers["x-replica"] == assigned[k]
        assert _cookie(contexts[k]) == assigned[k]
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=CHART_TIMEOUT_MS)
        wait_until_idle(page)
        assert _config_in_url(page) == moved
        _assert_draws_lone_run(page, moved)
    screenshot(pages[-1], "replicas_last_session")

    # Every request that carried a replica's cookie reached that replica, websockets
    # included: two per session (the first load and the reload).
    sockets = 0
    for line in replicas.log().splitlines():
        match = LOG_LINE.match(line)
        if match is None:
            continue
        server, sent, _method, path = match.groups()
        if sent not in ("", "-"):
            assert sent.removeprefix(f"{COOKIE}=") == server, line
        if path.startswith("/_stcore/stream"):
            sockets += 1
            assert sent.removeprefix(f"{COOKIE}=") == server, line
    assert sockets >= 2 * SESSIONS, replicas.log()[-3000:]
