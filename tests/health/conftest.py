"""Real things for the health tests: an HTTP server whose answer a test switches,
a TCP listener, a process with a unique command line, a temp store and event log."""

from __future__ import annotations

import socketserver
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from dashboard_core.config import Config
from dashboard_core.events import EventLog
from dashboard_core.store import Store, open_store
from tests.httpjson import reply_json
from tests.localhost import free_port

MODES = ("ok", "slow", "error", "wrong", "redirect", "gone")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and hung up: not an error of the test


@dataclass
class HealthServer:
    """A real HTTP server on 127.0.0.1 whose behaviour a test can switch:

    ``ok`` answers 200 ``{"status": "ok"}``; ``slow`` does the same after ``delay``
    seconds; ``error`` answers 500; ``wrong`` answers 200 ``{"status": "degraded"}``;
    ``redirect`` answers 302 to /health; ``gone`` shuts the server down (connections
    are refused); any other mode after ``gone`` serves again on the same port.
    """

    port: int
    mode: str = "ok"
    delay: float = 2.0
    requests: int = 0
    _server: _Server | None = None
    _thread: threading.Thread | None = None
    _release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set(self, mode: str, delay: float | None = None) -> None:
        assert mode in MODES, mode
        if delay is not None:
            self.delay = delay
        self.mode = mode
        if mode == "gone":
            self._shutdown()
        elif self._server is None:
            self._serve()

    def _serve(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with owner._lock:
                    owner.requests += 1
                mode = owner.mode
                if mode == "slow":
                    owner._release.wait(owner.delay)  # the behaviour under test: a slow answer
                if mode == "error":
                    self._answer(500, {"status": "error"})
                elif mode == "wrong":
                    self._answer(200, {"status": "degraded"})
                elif mode == "redirect":
                    self.send_response(302)
                    self.send_header("Location", "/health")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self._answer(200, {"status": "ok", "ready": True, "workers": 3, "nested": {"items": [1, 2]}})

            do_POST = do_GET

            def do_HEAD(self) -> None:
                self.send_response(500 if owner.mode == "error" else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                reply_json(self, status, body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._release.clear()
        self._server = _Server(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def _shutdown(self) -> None:
        self._release.set()  # slow answers finish now
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None


@pytest.fixture
def http_server() -> Iterator[HealthServer]:
    server = HealthServer(port=free_port())
    server.set("ok")
    try:
        yield server
    finally:
        server.set("gone")


class _Quiet(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        pass  # accept and close


@pytest.fixture
def tcp_port() -> Iterator[int]:
    """A port on 127.0.0.1 with a real listener that accepts and closes connections."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Quiet)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass(frozen=True)
class MarkedProcess:
    pid: int
    marker: str  # a unique argument on its command line
    popen: subprocess.Popen[bytes]


@pytest.fixture
def marked_process() -> Iterator[MarkedProcess]:
    """A real sleeping process whose command line holds a unique marker."""
    marker = f"health-marker-{uuid.uuid4().hex}"
    popen = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", marker],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield MarkedProcess(popen.pid, marker, popen)
    finally:
        popen.kill()
        popen.wait(10)


def make_config(components: list[dict[str, Any]], **extra: Any) -> Config:
    return Config.model_validate({"components": components, **extra})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "data")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def events(store: Store) -> EventLog:
    return EventLog(store)
