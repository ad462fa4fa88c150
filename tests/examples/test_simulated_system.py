"""examples/simulated_system.py as a real subprocess on free ports, with a fast cycle.

Its heartbeats go to a recording server in this test; its components are asked
for ``/health`` directly. Nothing sleeps to synchronise: every wait polls with a
deadline.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.httpjson import reply_json
from tests.localhost import free_port
from tests.polling import wait_until

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "examples" / "simulated_system.py"
COMPONENTS = [
    "task-scheduler",
    "safety-monitor",
    "quality-system",
    "agent-registry",
    "message-bus",
    "e2e-testing",
    "workflow-engine",
    "orchestrator",
]
AGENTS = ["researcher-1", "experimenter-1", "writer-1"]
CYCLE = 6.0  # seconds; the silent agent is quiet from 40 % to 90 % of it
TTL = 0.6  # what the recording "dashboard" answers: heartbeats every 0.2 s


class Recorder:
    """A stand-in dashboard: records heartbeats and answers like the real one."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.posts: list[tuple[float, str, dict[str, Any]]] = []  # (monotonic time, agent, body)
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                name = self.path.split("/")[3]
                with recorder.lock:
                    recorder.posts.append((time.monotonic(), name, body))
                agent = {"name": name, "state": "online", "status": body.get("status")}
                reply_json(self, 200, {"success": True, "agent": agent, "ttl_seconds": TTL})

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def by_agent(self) -> dict[str, list[tuple[float, dict[str, Any]]]]:
        with self.lock:
            posts = list(self.posts)
        out: dict[str, list[tuple[float, dict[str, Any]]]] = {}
        for at, name, body in posts:
            out.setdefault(name, []).append((at, body))
        return out

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def free_port_block(n: int) -> int:
    """A port such that it and the next n-1 are free on 127.0.0.1 right now."""
    for _ in range(100):
        base = free_port()
        if base + n > 65535:
            continue
        try:
            for port in range(base, base + n):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise AssertionError(f"found no {n} free consecutive ports on 127.0.0.1")


def health(port: int) -> str:
    """'ok', 'degraded' (200 with another status), 'http NNN', 'refused', 'reset' or 'timeout'."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
    try:
        conn.request("GET", "/health")
        response = conn.getresponse()
        body = json.loads(response.read())
        if response.status != 200:
            return f"http {response.status}"
        assert isinstance(body.get("latency_ms"), int | float), body
        return "ok" if body.get("status") == "ok" else str(body.get("status"))
    except ConnectionRefusedError:
        return "refused"
    except (ConnectionError, http.client.HTTPException, ValueError):
        return "reset"  # the port closed while this request waited in its backlog
    except TimeoutError:
        return "timeout"
    finally:
        conn.close()


def hermetic_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in {"http_proxy", "https_proxy", "all_proxy"}}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONUNBUFFERED"] = "1"
    return env


class System:
    def __init__(self, proc: subprocess.Popen[bytes], base: int, log_path: Path, log_file: Any) -> None:
        self.proc, self.base, self.log_path, self.log_file = proc, base, log_path, log_file

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def started_or_exited(self) -> bool:
        return self.proc.poll() is not None or "simulated system:" in self.output()

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    try:
        yield rec
    finally:
        rec.close()


@pytest.fixture
def system(recorder: Recorder, tmp_path: Path) -> Iterator[System]:
    started: list[System] = []
    try:
        for attempt in range(3):
            base = free_port_block(len(COMPONENTS))
            log_path = tmp_path / f"simulated-{attempt}.log"
            log_file = log_path.open("wb")
            argv = [sys.executable, str(SCRIPT), "--base-port", str(base), "--dashboard", recorder.url]
            argv += ["--cycle", str(CYCLE), "--slow-seconds", "0.3", "--seed", "7"]
            proc = subprocess.Popen(
                argv,
                cwd=tmp_path,  # the script finds the package by itself
                env=hermetic_env(),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            sim = System(proc, base, log_path, log_file)
            started.append(sim)
            wait_until(sim.started_or_exited, 30, "the simulated system to start")
            if proc.poll() is None:
                yield sim
                return
            if "cannot listen" not in sim.output():  # not a port race: a real failure
                raise AssertionError(f"the simulated system exited with {proc.returncode}:\n{sim.output()}")
        raise AssertionError("the simulated system found no free ports in 3 attempts")
    finally:
        for sim in started:
            if sim.proc.poll() is None:
                sim.kill()
            sim.log_file.close()


def test_components_fail_and_recover_agents_beat_and_sigterm_stops_it(system: System, recorder: Recorder) -> None:
    ports = {name: system.base + i for i, name in enumerate(COMPONENTS)}
    seen: dict[str, list[str]] = {name: [] for name in COMPONENTS}

    def recovered_after(failure: str) -> bool:
        """Some component answered ok, then failed this way, then answered ok again."""
        for states in seen.values():
            first_ok = states.index("ok") if "ok" in states else None
            if first_ok is None:
                continue
            rest = states[first_ok:]
            if failure in rest and "ok" in rest[rest.index(failure) :]:
                return True
        return False

    def observe() -> bool:
        assert system.proc.poll() is None, f"the simulated system died:\n{system.output()}"
        for name, port in ports.items():
            state = health(port)
            if not seen[name] or seen[name][-1] != state:
                seen[name].append(state)
        every_one_answered = all("ok" in states for states in seen.values())
        return every_one_answered and recovered_after("http 503") and recovered_after("refused")

    try:
        wait_until(
            observe, 4 * CYCLE, "every component healthy once, a 503 and a closed port each followed by recovery"
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nseen: {seen}\noutput:\n{system.output()}") from None

    # heartbeats from the three agents, with a role, a task that changes and metrics
    def agents_beat() -> bool:
        posts = recorder.by_agent()
        return all(len({body.get("task") for _, body in posts.get(name, [])}) >= 2 for name in AGENTS)

    wait_until(agents_beat, 3 * CYCLE, "heartbeats with two different tasks from each of the three agents")
    posts = recorder.by_agent()
    assert set(posts) == set(AGENTS)
    for name in AGENTS:
        first = posts[name][0][1]
        assert first["role"] and first["task"] and first["status"], first
        assert first["metrics"]["tokens_per_s"] > 0, first

    # writer-1 goes quiet for half a cycle, then sends again
    def quiet_then_back() -> bool:
        times = [at for at, _ in recorder.by_agent().get("writer-1", [])]
        return any(b - a >= 0.3 * CYCLE for a, b in zip(times, times[1:]))

    wait_until(quiet_then_back, 3 * CYCLE, "writer-1 to go quiet and come back")

    # SIGTERM: a clean exit within a few seconds, ports closed, nothing left behind
    began = time.monotonic()
    os.kill(system.proc.pid, signal.SIGTERM)
    try:
        code = system.proc.wait(10)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"still running 10 s after SIGTERM:\n{system.output()}") from None
    assert time.monotonic() - began < 5, f"took {time.monotonic() - began:.1f} s to stop"
    assert code == 0, system.output()
    assert "stopped" in system.output()
    with pytest.raises(ProcessLookupError):
        os.killpg(system.proc.pid, 0)  # no process is left in its group
    assert {name: health(port) for name, port in ports.items()} == dict.fromkeys(COMPONENTS, "refused")
    assert "Traceback" not in system.output(), system.output()


def _script_module(monkeypatch: pytest.MonkeyPatch) -> Any:
    spec = importlib.util.spec_from_file_location("simulated_system", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_simulated_toml_watches_what_the_script_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard_core.config import HttpCheck, load_config

    config = load_config(REPO / "examples" / "simulated.toml")
    script = _script_module(monkeypatch)
    assert [c.name for c in config.components] == script.NAMES == COMPONENTS
    for i, component in enumerate(config.components):
        assert isinstance(component.check, HttpCheck)
        assert component.check.url == f"http://127.0.0.1:{8611 + i}/health"
        assert (component.check.json_field, component.check.json_value) == ("status", "ok")
        assert component.interval_seconds == 5
        # a slow answer is degraded (over slow_ms) but not a failed check (under the timeout)
        assert component.slow_ms is not None and component.slow_ms < 1500 < component.timeout_seconds * 1000
    assert set(script.AGENT_NAMES) < set(config.agents.expected)  # plus one that never comes: missing
    demo = config.suite("demo")
    assert demo is not None and (config.resolve(demo.cwd) / demo.paths[0] / "test_demo.py").is_file()
    rules = {a.name: a.rule for a in config.alerts}
    assert rules["orchestrator-down"] == "component orchestrator down for 30s"
    validate = getattr(pytest.importorskip("dashboard_core.health.compiled_rules"), "validate_alerts", None)
    if validate is not None:
        validate(config)  # every rule parses and names known metrics, components, agents and suites
