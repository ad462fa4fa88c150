"""Debian's Prometheus Alertmanager on loopback, and a webhook receiver the test owns.

``bash scripts/install-alertmanager.sh`` installs the binary (scripts/test.sh and CI
run it). Each :class:`AlertmanagerDaemon` has its own storage directory, no cluster
(``--cluster.listen-address=``), a config whose one route groups by ``team`` and
sends to the test's :class:`Receiver` with short waits, and is stopped by the
process id it started with.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.localhost import free_port
from tests.polling import wait_until

BINARY = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
INSTALL = "bash scripts/install-alertmanager.sh"
STARTUP = 60.0  # seconds for Alertmanager to answer on a loaded 2-core machine


def need_alertmanager() -> None:
    """Skip without the binary, but fail in CI (``CI`` set), where the install script must have run."""
    if os.access(BINARY, os.X_OK):
        return
    message = f"Debian's prometheus-alertmanager is missing: run '{INSTALL}' (root or sudo), which scripts/test.sh does"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


class _Server(ThreadingHTTPServer):
    daemon_threads = True


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1: keeps every notification Alertmanager posts."""

    server: _Server
    thread: threading.Thread
    notifications: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def received(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.notifications)

    def about(self, alertname: str) -> list[dict[str, Any]]:
        """The notifications that hold an alert of this name."""
        return [n for n in self.received() if any(a["labels"].get("alertname") == alertname for a in n["alerts"])]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def start_receiver() -> Receiver:
    holder: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver = holder[0]
            with receiver.lock:
                receiver.notifications.append(json.loads(body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    receiver = Receiver(server, thread)
    holder.append(receiver)
    thread.start()
    return receiver


CONFIG = """\
route:
  receiver: test
  group_by: [team]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: test
    webhook_configs:
      - url: {url}
        send_resolved: true
"""


@dataclass
class AlertmanagerDaemon:
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def get(self, path: str) -> Any:
        """``GET /api/v2/<path>`` as JSON."""
        with httpx.Client(timeout=10, trust_env=False) as client:
            response = client.get(f"{self.url}/api/v2/{path}")
            response.raise_for_status()
            return response.json()

    def post(self, path: str, body: Any) -> Any:
        with httpx.Client(timeout=10, trust_env=False) as client:
            response = client.post(f"{self.url}/api/v2/{path}", json=body)
            response.raise_for_status()
            return response.json() if response.content else None

    def ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"Alertmanager exited with {self.proc.returncode}; its output:\n{self.output()}")
        with httpx.Client(timeout=2, trust_env=False) as client:
            return client.get(f"{self.url}/-/ready").status_code == 200

    def stop(self) -> None:
        """SIGTERM to the process id started, then SIGKILL if it lingers."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self.proc.poll() is not None:
                return
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(20)
                return
            except subprocess.TimeoutExpired:
                continue


def start_alertmanager(directory: Path, receiver_url: str) -> AlertmanagerDaemon:
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "alertmanager.yml"
    config.write_text(CONFIG.format(url=receiver_url), encoding="utf-8")
    port = free_port()
    log_path = directory / "alertmanager.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                BINARY,
                f"--config.file={config}",
                f"--storage.path={directory / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
                "--log.level=info",
            ],
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    daemon = AlertmanagerDaemon(proc, port, log_path)
    try:
        wait_until(daemon.ready, STARTUP, "Alertmanager to answer /-/ready", ignore=(httpx.HTTPError,))
    except BaseException:
        daemon.stop()
        raise
    return daemon
