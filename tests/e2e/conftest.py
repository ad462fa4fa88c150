"""Fixtures for end-to-end tests: real ``streamlit run`` servers on free ports.

Every server is a subprocess in its own process group, started from the repo
root with a temp config (``storage.data_dir`` in the temp dir, a 0.5 s sampler)
and stopped in teardown (SIGTERM to the group, SIGKILL if it lingers). Nothing
here sleeps to synchronise: :func:`wait_until` polls with a deadline and names
what it waited for when the deadline passes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.localhost import CHROMIUM, free_port, launch_chromium
from tests.polling import wait_until

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable

START_TIMEOUT = 60.0  # a loaded 2-core machine can take a while to import Streamlit
STOP_TIMEOUT = 10.0
SAMPLE_INTERVAL = 0.5
CHART_REFRESH = 1  # seconds; the shipped default is 5


# -- helpers ---------------------------------------------------------------------
def hermetic_env() -> dict[str, str]:
    """The environment for subprocesses: no proxies, no outside dashboard config."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in {"http_proxy", "https_proxy", "all_proxy"}
        and k not in {"DASHBOARD_CONFIG", "DASHBOARD_URL"}
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def http_client(
    base_url: str, timeout: float = 15.0, headers: dict[str, str] | None = None, **kwargs: Any
) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=timeout, trust_env=False, headers=headers, **kwargs)


def login_flow_client(server: Server, **kwargs: Any) -> httpx.Client:
    """Redirects are shown, not followed: the login flows are what is tested."""
    return http_client(server.url, timeout=30, follow_redirects=False, **kwargs)


def write_config(directory: Path, extra: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    data_dir = json.dumps((directory / "data").as_posix())  # a TOML basic string
    path = directory / "dashboard.toml"
    path.write_text(
        f"[sampler]\ninterval_seconds = {SAMPLE_INTERVAL}\n\n[storage]\ndata_dir = {data_dir}\n"
        f"\n[ui]\nchart_refresh_seconds = {CHART_REFRESH}\n{extra}",
        encoding="utf-8",
    )
    return path


def streamlit_argv(port: int, config: Path) -> list[str]:
    return [
        PYTHON,
        "-m",
        "streamlit",
        "run",
        "streamlit_app.py",
        "--server.port",
        str(port),
        "--",
        "--config",
        str(config),
    ]


# -- the server ------------------------------------------------------------------
@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    config: Path
    log_path: Path
    _log_file: Any = field(repr=False, default=None)
    headers: dict[str, str] = field(default_factory=dict)  # e.g. an API token when auth is configured

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def client(self) -> httpx.Client:
        return http_client(self.url, headers=self.headers)

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Until Streamlit answers, the Runtime is sampling and a full sample exists."""
        with self.client() as client:

            def ready() -> bool:
                if self.proc.poll() is not None:
                    raise AssertionError(
                        f"the server exited with {self.proc.returncode} while starting; its output:\n{self.output()}"
                    )
                if client.get("/_stcore/health").status_code != 200:
                    return False
                if not client.get("/api/health").json().get("success"):
                    return False
                latest = client.get("/api/metrics/latest")
                # the first sample has no rates (cpu.total is null): wait for the second
                return latest.status_code == 200 and latest.json()["values"].get("cpu.total") is not None

            try:
                wait_until(
                    ready,
                    timeout,
                    f"the dashboard on {self.url} to answer and sample",
                    ignore=(httpx.HTTPError, ValueError),
                )
            except AssertionError as exc:
                raise AssertionError(f"{exc}\nserver output:\n{self.output()}") from None

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM to the process group, SIGKILL after ``timeout``; the exit code."""
        try:
            if self.proc.poll() is None:
                _signal_group(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    _signal_group(self.proc.pid, signal.SIGKILL)
                    self.proc.wait(timeout)
            _signal_group(self.proc.pid, signal.SIGKILL)  # stragglers in the group, if any
        finally:
            if self._log_file is not None:
                self._log_file.close()
        return self.proc.returncode


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def spawn_server(
    argv: list[str],
    port: int,
    config: Path,
    log_path: Path,
    headers: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
) -> Server:
    """Start a server process (``argv``) in its own process group, its output in ``log_path``;
    ``env``: variables added to :func:`hermetic_env`."""
    log_file = log_path.open("wb")
    proc = subprocess.Popen(
        argv,
        cwd=REPO,
        env={**hermetic_env(), **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Server(proc, port, config, log_path, log_file, headers or {})


def launch_server(
    directory: Path, extra_config: str = "", attempts: int = 3, headers: dict[str, str] | None = None
) -> Server:
    """Start a dashboard on a free port and wait until it samples.

    A port taken between :func:`free_port` and the server's bind is retried on a
    new port; any other start-up failure fails with the server's output.
    """
    config = write_config(directory, extra_config)
    for attempt in range(1, attempts + 1):
        port = free_port()
        server = spawn_server(streamlit_argv(port, config), port, config, directory / f"server-{port}.log", headers)
        try:
            server.wait_ready()
            return server
        except AssertionError:
            server.stop()
            if attempt < attempts and "already in use" in server.output():
                continue
            raise
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One dashboard shared by tests that only read from it."""
    srv = launch_server(tmp_path_factory.mktemp("shared-server"))
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start fresh dashboards for one test; all are stopped afterwards."""
    started: list[Server] = []

    def start(extra_config: str = "") -> Server:
        srv = launch_server(tmp_path / f"server{len(started)}", extra_config)
        started.append(srv)
        return srv

    try:
        yield start
    finally:
        for srv in started:
            srv.stop()


@pytest.fixture
def fresh_server(server_factory: Callable[..., Server]) -> Server:
    return server_factory()


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


# -- browser ---------------------------------------------------------------------
@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    setattr(item, f"rep_{report.when}", report)  # lets the page fixture see a failure
    return report


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Any, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A new browser context and page; a screenshot lands in tmp_path if the test fails."""
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)
    context = chromium.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            shot = tmp_path / "failure.png"
            try:
                pg.screenshot(path=str(shot), full_page=True)
                print(f"screenshot of the failing page: {shot}")
            except Exception as exc:  # a screenshot must never hide the real failure
                print(f"no screenshot: {exc!r}")
        context.close()
