"""Load test: N light clients move sliders while one session trains.

`python -m benchmarks.load --sessions 30 --train` starts its own `streamlit run app.py` on a
free loopback port, opens N Explorer sessions (each its own seed and size), and times
slider → redrawn for each move: from sending the rerun until the ForwardMsg carrying the new
Explorer chart and the run's `script_finished` have both arrived. Phase 1 (idle): every
session makes --moves moves. Phase 2 (--train): one more session opens the Memory lab and
clicks "Train LSTM and RNN"; the others keep moving until that training ends. It prints p50 /
p95 per phase, errors, the server's peak RSS and CPU time, and the load average, then stops
the server.

The clients speak Streamlit's own websocket protocol (/_stcore/stream, protobuf BackMsg and
ForwardMsg from `streamlit.proto`), as the browser does, without a browser: one asyncio loop
for all sessions, so the clients use a small share of the 2 cores they share with the server.
Widget ids are read from the element protos the server sends. Every loop is bounded in moves
and seconds, and only loopback addresses are contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from benchmarks.browser import streamlit_server

CHART_KEY = "explorer_states"  # the Explorer's main chart: "redrawn" means this one arrived
TRAIN_BUTTON_KEY = "memory_train"
# Session k's settings: its own seed range and one of these sizes, so no two sessions share
# a cached run and every move computes a new one.
SIZES = ((100, 8), (200, 8), (100, 16), (200, 32))
SEED_SPACING = 1000


class LoadError(Exception):
    """A move or page load that did not end in a drawn chart and a finished run."""


def _key_of(widget_id: str) -> str:
    """The user key at the end of a widget id (`$$ID-<hash>-<key>`)."""
    return widget_id.split("-", 2)[-1] if widget_id.startswith("$$ID-") else widget_id


@dataclass
class Session:
    """One websocket session, driven as the browser drives it: reruns with widget states."""

    url: str
    query: str = ""
    page: str = ""
    ws: websockets.ClientConnection | None = None
    widgets: dict[str, Any] = field(default_factory=dict)  # key -> element proto
    states: dict[str, WidgetState] = field(default_factory=dict)  # widget id -> state sent
    cache: dict[str, ForwardMsg] = field(default_factory=dict)  # hash -> cacheable message
    page_hash: str = ""
    chart: bytes = b""  # the last Explorer chart received, to tell a redraw from a repeat

    async def connect(self) -> None:
        host = self.url.removeprefix("http://")
        self.ws = await websockets.connect(
            f"ws://{host}/_stcore/stream",
            subprotocols=[websockets.Subprotocol("streamlit")],
            origin=websockets.Origin(self.url),
            max_size=None,  # a chart's delta is ~0.1-1 MB
            open_timeout=60,
            ping_interval=None,  # the server pings; a busy client loop must not drop the link
        )

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def rerun(self, timeout_s: float, want_chart: bool = True) -> float:
        """Send a rerun with the current widget states; seconds until the run is drawn."""
        assert self.ws is not None
        message = BackMsg()
        state = message.rerun_script
        state.query_string = self.query
        state.page_name = self.page
        state.page_script_hash = self.page_hash
        state.widget_states.widgets.extend(self.states.values())
        # As the browser does: name the messages it holds, so the server sends references.
        state.cached_message_hashes.extend(self.cache)
        start = time.perf_counter()
        await self.ws.send(message.SerializeToString())
        for widget_state in self.states.values():
            if widget_state.HasField("trigger_value"):
                widget_state.trigger_value = False  # a button click is sent once
        await self._until_finished(start + timeout_s, want_chart)
        return time.perf_counter() - start

    async def _until_finished(self, deadline: float, want_chart: bool) -> None:
        assert self.ws is not None
        chart = False
        previous_chart = self.chart
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise LoadError("timed out")
            try:
                data = await asyncio.wait_for(self.ws.recv(), left)
            except TimeoutError as error:
                raise LoadError("timed out") from error
            except websockets.ConnectionClosed as error:
                raise LoadError(f"connection closed: {error}") from error
            message = ForwardMsg()
            message.ParseFromString(data)
            if message.HasField("ref_hash"):
                message = self.cache[message.ref_hash]
            elif message.metadata.cacheable and message.hash:
                self.cache[message.hash] = message
            kind = message.WhichOneof("type")
            if kind == "navigation" and message.navigation.page_script_hash:
                self.page_hash = message.navigation.page_script_hash
            elif kind == "page_info_changed":
                self.query = message.page_info_changed.query_string
            elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                element = message.delta.new_element
                element_kind = element.WhichOneof("type")
                if element_kind == "exception":
                    raise LoadError(f"exception: {element.exception.message[:120]}")
                if element_kind == "alert" and element.alert.format == Alert.ERROR:
                    raise LoadError(f"st.error: {element.alert.body[:120]}")
                proto = getattr(element, element_kind)
                widget_id = getattr(proto, "id", "")
                if widget_id:
                    self.widgets[_key_of(widget_id)] = proto
                    if _key_of(widget_id) == CHART_KEY:
                        chart = True
                        self.chart = proto.SerializeToString()
            elif kind == "script_finished":
                # FINISHED_SUCCESSFULLY only: an early stop or an error is no redraw.
                if message.script_finished != ForwardMsg.FINISHED_SUCCESSFULLY:
                    raise LoadError(f"script finished with status {message.script_finished}")
                if want_chart and not chart:
                    raise LoadError("run finished without the Explorer chart")
                if want_chart and self.chart == previous_chart:
                    raise LoadError("the chart did not change: the move was not applied")
                return

    def set_number(self, key: str, value: int) -> None:
        widget_id = self.widgets[key].id
        self.states[widget_id] = WidgetState(id=widget_id, int_value=value)

    def set_slider(self, key: str, value: float) -> None:
        widget_id = self.widgets[key].id
        state = WidgetState(id=widget_id)
        state.double_array_value.data.append(value)
        self.states[widget_id] = state

    def click(self, key: str) -> None:
        widget_id = self.widgets[key].id
        self.states[widget_id] = WidgetState(id=widget_id, trigger_value=True)


@dataclass
class Move:
    phase: str
    seconds: float  # for a move that timed out: the time waited (the true figure is larger)
    timed_out: bool = False


@dataclass
class Results:
    moves: list[Move] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    first_loads: list[float] = field(default_factory=list)
    phases: dict[str, dict[str, float]] = field(default_factory=dict)


class Server:
    """Readings of the server processes from /proc: RSS, peak RSS, CPU seconds (summed over
    the processes: replicas behind a proxy are several)."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids

    def _status(self, name: str) -> float:
        total = 0.0
        for pid in self.pids:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(f"{name}:"):
                    total += int(line.split()[1]) * 1024 / 1e9
        return total

    def rss_gb(self) -> float:
        return self._status("VmRSS")

    def peak_rss_gb(self) -> float:
        """Each process's peak, summed (for several processes: an upper bound)."""
        return self._status("VmHWM")

    def cpu_s(self) -> float:
        total = 0.0
        for pid in self.pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total


def _snapshot(server: Server) -> dict[str, float]:
    return {
        "time": time.monotonic(),
        "load1": os.getloadavg()[0],
        "server_cpu_s": server.cpu_s(),
        "client_cpu_s": _client_cpu_s(),
        "rss_gb": server.rss_gb(),
        "peak_rss_gb": server.peak_rss_gb(),
    }


def _client_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Mover:
    """Session k's moves: the forget_bias slider and the seed in turn, each a config not yet
    run anywhere (its own seeds; the bias walks its grid from an offset of its own)."""

    def __init__(self, k: int, session: Session) -> None:
        self.session = session
        self.seed = SEED_SPACING * (k + 1)
        slider = session.widgets["forget_bias"]
        self.biases = [
            slider.min + i * slider.step
            for i in range(round((slider.max - slider.min) / slider.step) + 1)
        ]
        self.bias_index = (7 * k) % len(self.biases)
        self.bias = (slider.value if slider.set_value else slider.default)[0]  # shown now
        self.count = 0
        self.k = k

    def describe(self) -> str:
        return f"session {self.k} move {self.count} (seed {self.seed}, forget_bias {self.bias:g})"

    def next(self) -> None:
        self.count += 1
        if self.count % 2:
            self.bias_index = (self.bias_index + 1) % len(self.biases)
            if self.biases[self.bias_index] == self.bias:  # a move to where it is is no move
                self.bias_index = (self.bias_index + 1) % len(self.biases)
            self.bias = self.biases[self.bias_index]
            self.session.set_slider("forget_bias", self.bias)
        else:
            self.seed += 1
            self.session.set_number("seed", self.seed)


async def _open(url: str, k: int, timeout_s: float) -> tuple[Session, float]:
    seq_len, hidden = SIZES[k % len(SIZES)]
    session = Session(
        url, query=f"seed={SEED_SPACING * (k + 1)}&seq_len={seq_len}&hidden_dim={hidden}"
    )
    await session.connect()
    return session, await session.rerun(timeout_s)


async def run(args: argparse.Namespace, url: str, server: Server) -> Results:
    results = Results()
    rng = random.Random(args.random_seed)
    hard_deadline = time.monotonic() + args.max_seconds

    def left() -> float:
        return hard_deadline - time.monotonic()

    # Sessions open a little apart, as a class arriving does, not all in one instant.
    sessions: list[Session] = []
    movers: list[Mover] = []
    for k in range(args.sessions):
        try:
            session, seconds = await _open(url, k, min(args.open_timeout, left()))
        except (LoadError, OSError) as error:
            results.errors.append(f"session {k} open: {error}")
            continue
        results.first_loads.append(seconds)
        sessions.append(session)
        movers.append(Mover(k, session))
        await asyncio.sleep(0.1)

    async def moves(
        mover: Mover, phase: str, count: int, until: asyncio.Event | None, think: random.Random
    ) -> None:
        for _ in range(count):
            if until is not None and until.is_set():
                return
            await asyncio.sleep(args.think * think.uniform(0.5, 1.5))
            if (until is not None and until.is_set()) or left() <= 0:
                return
            mover.next()
            start = time.perf_counter()
            try:
                seconds = await mover.session.rerun(min(args.move_timeout, max(left(), 1)))
            except LoadError as error:
                results.errors.append(f"{phase}: {mover.describe()}: {error}")
                if str(error) == "timed out":
                    # Kept in the percentiles as a lower bound: a stall must show in p95.
                    results.moves.append(Move(phase, time.perf_counter() - start, True))
                return  # a broken session makes no more moves
            results.moves.append(Move(phase, seconds))

    before = _snapshot(server)
    await asyncio.gather(
        *(moves(m, "idle", args.moves, None, random.Random(rng.random())) for m in movers)
    )
    results.phases["idle"] = _phase(before, _snapshot(server))

    if args.train:
        trainer = Session(url, page="memory")
        done = asyncio.Event()
        train_seconds: list[float] = []

        async def train() -> None:
            try:
                await trainer.connect()
                await trainer.rerun(min(args.move_timeout, left()), want_chart=False)
                trainer.click(TRAIN_BUTTON_KEY)
                train_seconds.append(
                    await trainer.rerun(min(args.train_timeout, left()), want_chart=False)
                )
            except (LoadError, OSError, KeyError) as error:
                results.errors.append(f"training session: {error!r}")
            finally:
                done.set()

        before = _snapshot(server)
        training = asyncio.create_task(train())
        # The others start moving once the click is sent, and stop when the training ends.
        while not trainer.states and not done.is_set():
            await asyncio.sleep(0.05)
        await asyncio.gather(
            *(
                moves(m, "training", args.max_train_moves, done, random.Random(rng.random()))
                for m in movers
            ),
            training,
        )
        results.phases["training"] = _phase(before, _snapshot(server))
        if train_seconds:
            results.phases["training"]["train_s"] = train_seconds[0]
        await trainer.close()
    for session in sessions:
        await session.close()
    return results


def _phase(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    wall = after["time"] - before["time"]
    return {
        "wall_s": wall,
        "load1_start": before["load1"],
        "load1_end": after["load1"],
        "server_cpu_s": after["server_cpu_s"] - before["server_cpu_s"],
        "client_cpu_s": after["client_cpu_s"] - before["client_cpu_s"],
        "rss_gb": after["rss_gb"],
        "peak_rss_gb": after["peak_rss_gb"],
    }


def _pick(moves: list[Move], q: float) -> Move:
    """The nearest-rank q-th percentile move (q in 0-100) by seconds."""
    ordered = sorted(moves, key=lambda m: m.seconds)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def _shown(moves: list[Move], q: float) -> str:
    """A percentile as text: "≥" when it is a move that timed out (a lower bound)."""
    move = _pick(moves, q)
    return f"{'≥ ' if move.timed_out else ''}{move.seconds:.2f} s"


def _percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0-100)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def report(results: Results, args: argparse.Namespace) -> str:
    lines = [
        f"load test: {args.sessions} sessions, think {args.think:g} s, "
        f"{os.cpu_count()} cores, load now {' / '.join(f'{x:.1f}' for x in os.getloadavg())}"
    ]
    if results.first_loads:
        lines.append(
            f"first page load (sessions opened one by one): p50 "
            f"{statistics.median(results.first_loads):.2f} s, p95 "
            f"{_percentile(results.first_loads, 95):.2f} s"
        )
    for phase, info in results.phases.items():
        moves = [m for m in results.moves if m.phase == phase]
        errors = [e for e in results.errors if e.startswith(phase)]
        timed_out = sum(m.timed_out for m in moves)
        figures = (
            f"p50 {_shown(moves, 50)}, p95 {_shown(moves, 95)}, max {_shown(moves, 100)}"
            if moves
            else "no moves"
        )
        if "train_s" in info:
            training = f", training took {info['train_s']:.0f} s"
        elif phase == "training":
            training = ", training did not finish"
        else:
            training = ""
        lines.append(
            f"{phase:>8}: slider → redrawn {figures} ({len(moves)} moves, {timed_out} timed "
            f"out), errors {len(errors)}; {info['wall_s']:.0f} s wall, server CPU "
            f"{info['server_cpu_s']:.0f} s, clients' CPU {info['client_cpu_s']:.0f} s, "
            f"load1 {info['load1_start']:.1f} → {info['load1_end']:.1f}, server RSS "
            f"{info['rss_gb']:.2f} GB (peak {info['peak_rss_gb']:.2f} GB){training}"
        )
    idle = [m for m in results.moves if m.phase == "idle"]
    training_moves = [m for m in results.moves if m.phase == "training"]
    if idle and training_moves:
        ratio = _pick(training_moves, 95).seconds / _pick(idle, 95).seconds
        verdict = "met" if ratio <= 2 and not results.errors else "NOT met"
        bound = "≥ " if _pick(training_moves, 95).timed_out else ""
        lines.append(
            f"goal p95 under training ≤ 2 × idle p95, zero errors: {bound}{ratio:.1f} ×, {verdict}"
        )
    lines.append(f"errors: {len(results.errors)}")
    lines.extend(f"  {error}" for error in results.errors[:20])
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__)
    parser.add_argument("--sessions", type=int, default=30, help="slider-moving sessions")
    parser.add_argument("--moves", type=int, default=8, help="moves per session, idle phase")
    parser.add_argument("--think", type=float, default=2.0, help="mean seconds between moves")
    parser.add_argument("--train", action="store_true", help="then a phase with one training")
    parser.add_argument("--max-train-moves", type=int, default=60, help="per session")
    parser.add_argument("--move-timeout", type=float, default=120.0, help="seconds per move")
    parser.add_argument("--open-timeout", type=float, default=120.0, help="first page load")
    parser.add_argument("--train-timeout", type=float, default=900.0, help="seconds")
    parser.add_argument("--max-seconds", type=float, default=1800.0, help="whole test")
    parser.add_argument(
        "--url", help="a server already running on this machine, e.g. serve_replicas.sh's proxy"
    )
    parser.add_argument("--pids", help="with --url: its processes, comma-separated, for RSS")
    parser.add_argument("--random-seed", type=int, default=16, help="think times")
    args = parser.parse_args()
    if args.url:
        host = urlsplit(args.url).hostname or ""
        if not (host == "localhost" or host.startswith("127.") or host == "::1"):
            parser.error("--url must be a loopback address: a load test targets this machine")
        pids = [int(p) for p in args.pids.split(",")] if args.pids else []
        results = asyncio.run(run(args, args.url.rstrip("/"), Server(pids)))
    else:
        with streamlit_server() as (url, pid):
            print(f"server {url} (PID {pid})", file=sys.stderr, flush=True)
            results = asyncio.run(run(args, url, Server([pid])))
    print(report(results, args), flush=True)


if __name__ == "__main__":
    main()
