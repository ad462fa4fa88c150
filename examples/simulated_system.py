#!/usr/bin/env python3
"""A small simulated research system for the dashboard to watch, in one process.

    .venv/bin/python examples/simulated_system.py            # Ctrl-C stops it

It starts eight components as tiny HTTP servers on 127.0.0.1:8611-8618, each
answering ``GET /health`` with ``{"status": "ok", "latency_ms": ...}``, and three
research agents that send heartbeats to the dashboard (``--dashboard``). On a
repeating cycle (``--cycle``, 120 s) things go wrong and recover, so every state
shows within a couple of minutes:

    phase of the cycle   what happens (cycle 1; later cycles pick other victims)
    10 % - 35 %          quality-system answers slowly (--slow-seconds)      -> degraded
    20 % - 28 %          message-bus says {"status": "degraded"}             -> degraded (checks fail)
    30 % - 60 %          e2e-testing answers 503                             -> degraded, down
    40 % - 90 %          orchestrator closes its port (connection refused)   -> down, recovered
    40 % - 90 %          writer-1 stops sending heartbeats                   -> offline, back

Later cycles draw their victims from ``--seed`` (the same seed, the same
schedule). A line is printed at the start of each cycle and whenever something
changes. Pair it with ``examples/simulated.toml`` (see examples/README.md).
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

try:
    from dashboard_core.agent_client import Heartbeat
except ImportError:  # run as a script from anywhere: the package is in the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from dashboard_core.agent_client import Heartbeat

# name, what it does, typical latency in ms
COMPONENTS: list[tuple[str, str, float]] = [
    ("task-scheduler", "queues research tasks and hands them to agents", 8),
    ("safety-monitor", "watches agent actions against the safety policy", 12),
    ("quality-system", "scores drafts and experiment results", 25),
    ("agent-registry", "knows which agents exist and what they can do", 5),
    ("message-bus", "carries messages between agents and services", 3),
    ("e2e-testing", "runs end-to-end checks of the pipeline", 30),
    ("workflow-engine", "runs multi-step research workflows", 15),
    ("orchestrator", "plans the work and assigns it", 10),
]
NAMES = [c[0] for c in COMPONENTS]

# kind -> (start, end) as fractions of the cycle
FAULTS: dict[str, tuple[float, float]] = {
    "slow": (0.10, 0.35),
    "degraded": (0.20, 0.28),  # two failed checks at most: degraded, never down
    "error": (0.30, 0.60),
    "gone": (0.40, 0.90),
}
SILENCE = (0.40, 0.90)  # one agent sends nothing in this part of the cycle
FIRST_PLAN = {"slow": "quality-system", "degraded": "message-bus", "error": "e2e-testing", "gone": "orchestrator"}
FIRST_SILENT = "writer-1"
AGENT_STEPS_PER_CYCLE = 24  # agents update their task and metrics this often per cycle
TASK_EVERY = 4  # steps between task changes

MODE_WORDS = {
    "ok": "healthy",
    "slow": "slow",
    "degraded": 'says "degraded"',
    "error": "answers 503",
    "gone": "gone",
}


def secs(seconds: float) -> str:
    return f"{seconds:.0f}" if seconds >= 10 else f"{seconds:.1f}"


def say(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {text}", flush=True)


# -- components ------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        comp = self.server.component
        path = self.path.split("?", 1)[0]
        if path == "/health":
            self._health(comp)
        elif path == "/":
            self._json(200, {"name": comp.name, "description": comp.description, "endpoints": ["/health"]})
        else:
            self._json(404, {"status": "error", "message": f"no such path: {path}"})

    def _health(self, comp: Component) -> None:
        began = time.perf_counter()
        mode = comp.mode
        delay = comp.base_latency_ms * comp.rng.uniform(0.5, 1.5) / 1000
        if mode == "slow":
            delay += comp.slow_seconds
        comp.stopping.wait(delay)  # returns early when the system stops
        latency = round((time.perf_counter() - began) * 1000, 1)
        uptime = round(time.monotonic() - comp.listening_since, 1)
        if mode == "error":
            body = {"status": "error", "message": f"{comp.name} is overloaded", "latency_ms": latency}
            self._json(503, body)
        elif mode == "degraded":
            body = {"status": "degraded", "reason": "a dependency is slow", "latency_ms": latency, "uptime_s": uptime}
            self._json(200, body)
        else:
            self._json(200, {"status": "ok", "latency_ms": latency, "uptime_s": uptime})

    def _json(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the checker gave up (its timeout); nothing to tell it

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per check would drown the status lines


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a slow answer in flight must not hold up closing the port
    component: Component


@dataclass
class Component:
    name: str
    description: str
    host: str
    port: int
    base_latency_ms: float
    slow_seconds: float
    stopping: threading.Event
    rng: random.Random
    mode: str = "ok"
    listening_since: float = field(default_factory=time.monotonic)
    _server: _Server | None = None
    _thread: threading.Thread | None = None

    @property
    def listening(self) -> bool:
        return self._server is not None

    def listen(self) -> None:
        """Open the port and serve in a thread; OSError if the port is taken."""
        server = _Server((self.host, self.port), _Handler)
        server.component = self
        self._server = server
        self.listening_since = time.monotonic()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2}, name=f"component-{self.name}", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Close the listening socket: new connections are refused."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None


# -- agents ----------------------------------------------------------------------
@dataclass
class AgentSpec:
    name: str
    role: str
    tasks: list[str]


AGENTS = [
    AgentSpec(
        "researcher-1",
        "literature review",
        [
            "reading arXiv 2411.01234",
            "reading arXiv 2410.09876",
            "summarising 'Scaling laws for tool use'",
            "searching Semantic Scholar for 'agent evaluation'",
            "reading arXiv 2409.04321",
            "clustering related work into themes",
        ],
    ),
    AgentSpec(
        "experimenter-1",
        "experiments",
        [
            "training the baseline (run {run})",
            "sweeping learning rates (run {run})",
            "evaluating checkpoints (run {run})",
            "ablating the retrieval module (run {run})",
        ],
    ),
    AgentSpec(
        "writer-1",
        "writing",
        [
            "outlining the survey",
            "drafting section 2: related work",
            "drafting section 3: method",
            "making figure 4",
            "revising the abstract",
        ],
    ),
]
AGENT_NAMES = [a.name for a in AGENTS]


class Agent:
    """One simulated agent: its work moves on every step; heartbeats unless silent."""

    def __init__(self, spec: AgentSpec, rng: random.Random, hb_args: dict[str, Any]) -> None:
        self.spec = spec
        self.rng = rng
        self.hb_args = hb_args
        self.step_no = 0
        self.task_no = 0
        self.counters: dict[str, float] = {}
        self.status = "ok"
        self.task = spec.tasks[0].format(run=1)
        self.heartbeat: Heartbeat | None = None
        self.step(phase=0.0)

    @property
    def sending(self) -> bool:
        return self.heartbeat is not None

    def metrics(self) -> dict[str, float]:
        tokens = round(max(5.0, self.rng.gauss(42, 8)), 1)
        return {**self.counters, "tokens_per_s": tokens}

    def step(self, phase: float) -> None:
        """Advance the simulated work by one step at this phase of the cycle."""
        self.step_no += 1
        c = self.counters
        name = self.spec.name
        if name == "researcher-1":
            c["papers_read"] = c.get("papers_read", 0) + (1 if self.step_no % 2 == 0 else 0)
            c["notes_written"] = c.get("notes_written", 0) + self.rng.randint(0, 3)
        elif name == "experimenter-1":
            c["runs_done"] = c.get("runs_done", 0) + (1 if self.step_no % TASK_EVERY == 0 else 0)
            c["best_accuracy"] = round(min(0.95, c.get("best_accuracy", 0.6) + self.rng.uniform(0, 0.01)), 4)
        else:
            c["words_written"] = c.get("words_written", 0) + self.rng.randint(40, 220)
        if self.step_no % TASK_EVERY == 0:
            self.task_no += 1
        run = int(c.get("runs_done", 0)) + 1
        self.task = self.spec.tasks[self.task_no % len(self.spec.tasks)].format(run=run)
        self.status = "ok"
        if name == "experimenter-1":
            self.status = "busy"
            if 0.62 <= phase < 0.70:
                self.status = "error"
                self.task = f"run {run} failed: out of memory; retrying with a smaller batch"
        if self.heartbeat is not None:
            self.heartbeat.set(status=self.status, task=self.task, metrics=self.metrics())

    def start_sending(self) -> None:
        if self.heartbeat is None:
            self.heartbeat = Heartbeat(
                self.spec.name,
                role=self.spec.role,
                status=self.status,
                task=self.task,
                metrics=self.metrics(),
                **self.hb_args,
            ).start()

    def stop_sending(self) -> None:
        hb, self.heartbeat = self.heartbeat, None
        if hb is not None:
            hb.stop()


# -- the schedule ----------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    faults: dict[str, str]  # kind -> component
    silent: str | None  # the agent that goes quiet


def plan_for(cycle: int, seed: int, agents: bool) -> Plan:
    if cycle == 0:
        return Plan(dict(FIRST_PLAN), FIRST_SILENT if agents else None)
    rng = random.Random(f"{seed}:{cycle}")
    victims = rng.sample(NAMES, len(FAULTS))
    silent = rng.choice(AGENT_NAMES) if agents else None
    return Plan(dict(zip(FAULTS, victims)), silent)


def modes_at(plan: Plan, phase: float) -> dict[str, str]:
    modes = dict.fromkeys(NAMES, "ok")
    for kind, name in plan.faults.items():
        start, end = FAULTS[kind]
        if start <= phase < end:
            modes[name] = kind
    return modes


def describe_plan(cycle: int, plan: Plan, length: float) -> str:
    def span(window: tuple[float, float]) -> str:
        return f"{secs(window[0] * length)}-{secs(window[1] * length)} s"

    parts = [f"{name} {MODE_WORDS[kind]} {span(FAULTS[kind])}" for kind, name in plan.faults.items()]
    if plan.silent:
        parts.append(f"{plan.silent} silent {span(SILENCE)}")
    return f"cycle {cycle + 1} ({length:g} s): " + ", ".join(parts)


# -- the system ------------------------------------------------------------------
class System:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.stopping = threading.Event()
        rng = random.Random(args.seed)
        self.components = [
            Component(name, desc, args.host, args.base_port + i, latency, args.slow_seconds, self.stopping, rng)
            for i, (name, desc, latency) in enumerate(COMPONENTS)
        ]
        hb_args: dict[str, Any] = {"url": args.dashboard, "timeout": 3.0, "interval": args.heartbeat_interval}
        if args.token:
            hb_args["token"] = args.token
        self.agents = [] if args.no_agents else [Agent(spec, rng, hb_args) for spec in AGENTS]

    def open_ports(self) -> bool:
        for comp in self.components:
            try:
                comp.listen()
            except OSError as exc:
                say(
                    f"cannot listen on {comp.host}:{comp.port} for {comp.name}: {exc.strerror or exc}. "
                    "Is another simulated system running? Choose other ports with --base-port."
                )
                self.close()
                return False
        return True

    def close(self) -> None:
        self.stopping.set()
        for agent in self.agents:
            agent.stop_sending()
        closers = [threading.Thread(target=comp.close) for comp in self.components]  # at once, not one by one
        for thread in closers:
            thread.start()
        for thread in closers:
            thread.join()

    def run(self) -> int:
        args = self.args
        if not self.open_ports():
            return 1
        first, last = self.components[0].port, self.components[-1].port
        agents = f"{len(self.agents)} agents sending heartbeats to {args.dashboard}" if self.agents else "no agents"
        say(
            f"simulated system: {len(self.components)} components on http://{args.host}:{first}-{last}/health, "
            f"{agents}; cycle {args.cycle:g} s, seed {args.seed}. Ctrl-C stops it."
        )
        for agent in self.agents:
            agent.start_sending()
        t0 = time.monotonic()
        step_seconds = args.cycle / AGENT_STEPS_PER_CYCLE
        tick = min(1.0, max(0.05, args.cycle / 200))
        next_step = step_seconds
        cycle_seen = -1
        modes = dict.fromkeys(NAMES, "ok")
        while not self.stopping.is_set():
            elapsed = time.monotonic() - t0
            if args.duration and elapsed >= args.duration:
                break
            cycle, phase = int(elapsed // args.cycle), (elapsed % args.cycle) / args.cycle
            plan = plan_for(cycle, args.seed, bool(self.agents))
            if cycle != cycle_seen:
                cycle_seen = cycle
                say(describe_plan(cycle, plan, args.cycle))
            changes = self._apply(modes_at(plan, phase), modes)
            changes += self._agents(plan, phase)
            if elapsed >= next_step:
                next_step += step_seconds
                for agent in self.agents:
                    agent.step(phase)
            if changes:
                say(f"[cycle {cycle + 1} +{secs(phase * args.cycle)}s] " + "; ".join(changes))
            self.stopping.wait(tick)
        say("stopping: closing the ports and the heartbeats")
        self.close()
        say("stopped")
        return 0

    def _apply(self, wanted: dict[str, str], modes: dict[str, str]) -> list[str]:
        changes = []
        for comp in self.components:
            new, old = wanted[comp.name], modes[comp.name]
            if new == "gone" and comp.listening:
                comp.close()
            elif new != "gone" and not comp.listening:
                try:
                    comp.listen()
                except OSError as exc:  # someone took the port: try again on the next tick
                    if old != "rebind-failed":
                        changes.append(f"{comp.name} cannot reopen port {comp.port} ({exc.strerror or exc})")
                    modes[comp.name] = "rebind-failed"
                    continue
            comp.mode = new
            if new != old:
                modes[comp.name] = new
                if new == "ok":
                    reopened = old in ("gone", "rebind-failed")
                    changes.append(f"{comp.name} recovered" + (f" (port {comp.port} open again)" if reopened else ""))
                elif new == "gone":
                    changes.append(f"{comp.name} gone (port {comp.port} closed)")
                else:
                    changes.append(f"{comp.name} {MODE_WORDS[new]}")
        return changes

    def _agents(self, plan: Plan, phase: float) -> list[str]:
        changes = []
        quiet = SILENCE[0] <= phase < SILENCE[1]
        for agent in self.agents:
            silent = quiet and agent.spec.name == plan.silent
            if silent and agent.sending:
                agent.stop_sending()
                changes.append(f"{agent.spec.name} stops sending heartbeats")
            elif not silent and not agent.sending:
                agent.start_sending()
                changes.append(f"{agent.spec.name} sends heartbeats again")
        return changes


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="simulated_system.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "Ports: task-scheduler, safety-monitor, quality-system, agent-registry, message-bus,\n"
            "e2e-testing, workflow-engine and orchestrator listen on BASE_PORT+0 .. BASE_PORT+7.\n"
            "Watch it with: bash scripts/start.sh -- --config examples/simulated.toml"
        ),
    )
    parser.add_argument(
        "--dashboard", default="http://127.0.0.1:8501", metavar="URL", help="where agents send heartbeats"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address the components listen on (127.0.0.1)")
    parser.add_argument("--base-port", type=int, default=8611, help="port of the first component (8611)")
    parser.add_argument(
        "--cycle", type=float, default=120.0, metavar="SECONDS", help="length of one fail-and-recover cycle (120)"
    )
    parser.add_argument(
        "--slow-seconds", type=float, default=1.5, help="extra delay of a slow component's answer (1.5)"
    )
    parser.add_argument(
        "--heartbeat-interval",
        type=float,
        metavar="SECONDS",
        help="seconds between an agent's heartbeats (default: a third of the dashboard's ttl_seconds)",
    )
    parser.add_argument("--token", help="bearer token for the heartbeats, if the dashboard wants one")
    parser.add_argument("--seed", type=int, help="seed for the schedule after the first cycle (default: random)")
    parser.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this long (default: never)")
    parser.add_argument("--no-agents", action="store_true", help="components only, no heartbeats")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every heartbeat failure")
    args = parser.parse_args(argv)
    if not re.match(r"^https?://[^\s/]+", args.dashboard):
        parser.error(f"--dashboard must be a URL like http://127.0.0.1:8501, not {args.dashboard!r}")
    if args.cycle < 1:
        parser.error("--cycle must be at least 1 second")
    if not 1 <= args.base_port <= 65535 - len(COMPONENTS):
        parser.error(f"--base-port must be between 1 and {65535 - len(COMPONENTS)}")
    if args.slow_seconds < 0:
        parser.error("--slow-seconds cannot be negative")
    if args.heartbeat_interval is not None and args.heartbeat_interval < 0.1:
        parser.error("--heartbeat-interval must be at least 0.1 s")
    if args.seed is None:
        args.seed = random.randrange(10_000)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S"
    )
    system = System(args)

    def on_signal(signum: int, frame: object) -> None:
        system.stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        return system.run()
    finally:
        system.close()


if __name__ == "__main__":
    sys.exit(main())
