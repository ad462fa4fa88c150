"""Test runs on a real server: concurrent API calls, the CLI against it, and a
SIGKILL of the server during a run, then a restart on the same store."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import psutil
import pytest

from tests.e2e.conftest import REPO, Server, hermetic_env, launch_server
from tests.polling import wait_until
from tests.testing.conftest import suites_entries

pytestmark = pytest.mark.timeout(300)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "dashboard_core", *args]
    return subprocess.run(argv, cwd=REPO, env=hermetic_env(), capture_output=True, text=True, timeout=180)


def run_of(server: Server, test_id: str | int) -> dict:
    with server.client() as client:
        return client.get(f"/api/testing/runs/{test_id}").json()


def finished(server: Server, test_id: str | int) -> dict:
    return wait_until(
        lambda: (r := run_of(server, test_id))["status"] not in ("queued", "running") and r,
        120,
        f"run {test_id} to finish",
    )


def saved_passes(directory: Path, test_id: str) -> int | None:
    """What the store file says, read as another process would (the server saves every 0.2 s)."""
    with closing(sqlite3.connect(directory / "data" / "dashboard.sqlite3")) as db:
        row = db.execute("SELECT passed FROM test_runs WHERE id = ?", (int(test_id),)).fetchone()
    return row[0] if row else None


def test_concurrent_requests_start_one_run(server_factory: Callable[..., Server], tmp_path: Path) -> None:
    server = server_factory(suites_entries(tmp_path))
    barrier = threading.Barrier(6)
    answers: list[dict] = []

    def ask() -> None:
        with server.client() as client:
            barrier.wait()
            answers.append(client.post("/api/dashboard/testing/run-suite", json={"test_suite": "gated"}).json())

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(answers) == 6 and len({a["test_id"] for a in answers}) == 1
    assert sorted(a["already_running"] for a in answers) == [False] + [True] * 5
    (tmp_path / "gate").touch()
    assert finished(server, answers[0]["test_id"])["status"] == "passed"


def test_the_cli_runs_a_suite_on_the_server_and_cancels_one(
    server_factory: Callable[..., Server], tmp_path: Path
) -> None:
    server = server_factory(suites_entries(tmp_path))
    done = cli("run-suite", "demo", "--url", server.url)
    assert done.returncode == 1, done.stderr
    assert f"started on the dashboard at {server.url}" in done.stderr
    assert "1 failed, 7 passed, 1 skipped, 1 xfailed, 1 xpassed, 1 error in" in done.stdout
    with server.client() as client:
        runs = client.get("/api/testing/runs", params={"trigger": "cli"}).json()
        assert runs["total"] == 1 and runs["items"][0]["suite"] == "demo"
        test_id = client.post("/api/dashboard/testing/run-suite", json={"test_suite": "gated"}).json()["test_id"]
    cancel = cli("cancel-run", test_id, "--url", server.url)
    assert cancel.returncode == 0, cancel.stderr
    assert finished(server, test_id)["status"] == "cancelled"


def test_a_server_killed_during_a_run_marks_it_interrupted_on_restart(tmp_path: Path) -> None:
    directory = tmp_path / "server"
    extra = suites_entries(tmp_path)
    first = launch_server(directory, extra)
    try:
        with first.client() as client:
            test_id = client.post("/api/dashboard/testing/run-suite", json={"test_suite": "gated"}).json()["test_id"]
        running = wait_until(
            lambda: (r := run_of(first, test_id))["counts"]["passed"] == 1 and r, 60, "the first test to pass"
        )
        assert running["status"] == "running"
        wait_until(lambda: saved_passes(directory, test_id) == 1, 30, "the pass to be saved in the store")
        gated = str(tmp_path / "gated")
        pytest_pid = next(p.pid for p in psutil.Process(first.proc.pid).children(recursive=True) if gated in p.cmdline())
        first.proc.send_signal(signal.SIGKILL)  # no shutdown, no cleanup: a crash
        first.proc.wait(30)
    finally:
        first.stop()
    assert psutil.pid_exists(pytest_pid)  # its own session: the orphan survives the crash...

    second = launch_server(directory, extra)
    try:
        run = run_of(second, test_id)
        assert run["status"] == "interrupted"
        assert "the dashboard stopped during this run" in run["message"]
        assert "the processes it left behind were killed" in run["message"]
        assert run["counts"]["passed"] == 1  # what was recorded before the crash is kept
        assert [c["nodeid"].split("::")[-1] for c in run["cases"]] == ["test_first"]
        # The start says so as an event, as for an interrupted workflow.
        with second.client() as client:
            events = client.get("/api/events", params={"limit": 1000}).json()["events"]
        told = sorted(
            (e for e in events if e["kind"] == "test_run" and e["data"].get("run_id") == int(test_id)),
            key=lambda e: e["id"],
        )
        assert [(e["data"]["status"], e["severity"]) for e in told] == [("running", "info"), ("interrupted", "warning")]
        assert told[-1]["message"] == f"Run {test_id} of gated interrupted: 1 passed ({run['message']})"
        wait_until(  # ...until the next start kills it
            lambda: not psutil.pid_exists(pytest_pid) or psutil.Process(pytest_pid).status() == psutil.STATUS_ZOMBIE,
            30,
            "the orphaned pytest to be killed",
        )
    finally:
        second.stop()
