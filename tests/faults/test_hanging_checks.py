"""Health checks that hang for ever, on a real server: a command (``sleep
100000``) and a python function that never returns, each with a 1 s timeout.

The server keeps serving, another component is still checked on time, the
hanging ones are down with "timed out after 1 s" (the python one then says its
call has not returned), nothing recorded is lost, no ``sleep`` piles up, and
SIGTERM still stops the server promptly. (In process: tests/health/test_monitor.py.)
"""

from __future__ import annotations

import re
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.e2e.conftest import Server, launch_server
from tests.faults.common import gone, q, serves_pages, stored
from tests.polling import wait_until

pytestmark = pytest.mark.timeout(300)

SLEEP = shutil.which("sleep") or "/bin/sleep"
HUNG_PYTHON = re.compile(r"the previous call has not returned after \d+(\.\d)? s")

COMPONENTS = f"""
[[components]]
name = "hang-cmd"
description = "a command that never ends"
check = {{ type = "command", argv = {q([SLEEP, "100000"])} }}
interval_seconds = 1
timeout_seconds = 1
down_after = 1

[[components]]
name = "hang-py"
description = "a python check that never returns"
check = {{ type = "python", callable = "tests.faults.checks:never_returns" }}
interval_seconds = 1
timeout_seconds = 1
down_after = 1

[[components]]
name = "api"
description = "this dashboard's own API"
check = {{ type = "http", url = "/api/health" }}
interval_seconds = 0.5
timeout_seconds = 5
"""


def get(server: Server, path: str) -> Any:
    with server.client() as client:
        response = client.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
        return response.json()


def sleeps(server: Server) -> list[int]:
    """The hanging command's processes still alive under the server."""
    found = []
    for p in psutil.Process(server.proc.pid).children(recursive=True):
        try:
            if p.cmdline() == [SLEEP, "100000"] and p.status() != psutil.STATUS_ZOMBIE:
                found.append(p.pid)
        except psutil.Error:
            pass
    return found


def checked_at(db: Path, component: str, since: float) -> list[float]:
    return [
        row[0] for row in stored(db, "SELECT at FROM health_checks WHERE component = ? AND at >= ?", (component, since))
    ]


def test_checks_that_hang_for_ever_on_a_real_server(tmp_path: Path) -> None:
    directory = tmp_path / "server"
    server = launch_server(directory, COMPONENTS)
    db = directory / "data" / "dashboard.sqlite3"
    sleep_pids: set[int] = set()
    try:
        wait_until(lambda: get(server, "/api/components/api")["state"] == "healthy", 60, "the api component")
        with server.client() as client:
            assert client.post("/api/agents/scout/heartbeat", json={"task": "watching"}).status_code == 200

        # Says what happened: both hanging checks are down, timed out after 1 s.
        def down() -> dict[str, dict[str, Any]] | None:
            found = {c["name"]: c for c in get(server, "/api/components")}
            hung = [found["hang-cmd"], found["hang-py"]]
            return found if all(c["state"] == "down" for c in hung) else None

        components = wait_until(down, 60, "the hanging components to be down")
        assert components["hang-cmd"]["last_error"] == "timed out after 1 s"
        assert components["api"]["state"] == "healthy"
        events = get(server, "/api/events?kind=component&limit=1000")["events"]
        said = {(e["source"], e["message"], e["severity"]) for e in events}
        assert ("hang-cmd", "hang-cmd is down: timed out after 1 s", "critical") in said
        assert ("hang-py", "hang-py is down: timed out after 1 s", "critical") in said
        before = get(server, "/api/events?limit=1000")["events"]

        # The hung python call is not piled up: the next checks report it as still hung.
        hung = wait_until(
            lambda: (c := get(server, "/api/components/hang-py"))["consecutive_failures"] >= 3 and c,
            60,
            "more checks of the hung python component",
        )
        assert hung["state"] == "down" and HUNG_PYTHON.fullmatch(hung["last_error"]), hung["last_error"]

        # Other components are checked on time, the hanging ones every timeout plus interval.
        since = time.time()
        wait_until(lambda: len(checked_at(db, "api", since)) >= 10, 60, "ten more checks of the api component")
        times = checked_at(db, "api", since)
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert max(gaps) < 2.5, f"the api component waited on the hanging ones: gaps {gaps}"
        wait_until(lambda: len(checked_at(db, "hang-cmd", since)) >= 2, 30, "the hanging command to be checked again")
        wait_until(lambda: len(checked_at(db, "hang-py", since)) >= 2, 30, "the hung python check to be checked again")
        messages = {row[0] for row in stored(db, "SELECT message FROM health_checks WHERE component = 'hang-cmd'")}
        assert messages == {"timed out after 1 s"}

        # A timed-out command is killed before the next one starts: they never pile up.
        def ran_again() -> bool:
            current = sleeps(server)
            assert len(current) <= 1, f"sleep processes piled up: {current}"
            sleep_pids.update(current)
            return len(sleep_pids) >= 3

        wait_until(ran_again, 60, "the hanging command to be run three times", interval=0.05)
        assert sum(1 for pid in sleep_pids if not gone(pid)) <= 1

        # Keeps serving, and loses nothing.
        with server.client() as client:
            assert client.get("/api/health").json()["message"] == "ok"
            assert serves_pages(client)
            overview = client.get("/api/dashboard/overview").json()
        assert {c["name"]: c["state"] for c in overview["components"]} == {
            "hang-cmd": "down",
            "hang-py": "down",
            "api": "healthy",
        }
        after = {e["id"]: e for e in get(server, "/api/events?limit=1000")["events"]}
        assert all(after.get(e["id"]) == e for e in before)
        assert [a["name"] for a in get(server, "/api/dashboard/agents")["agents"]] == ["scout"]
    finally:
        started = time.monotonic()
        code = server.stop(timeout=20)
        took = time.monotonic() - started
    # SIGTERM still stops it promptly: the hung call and the hanging command do not hold it.
    assert took < 10, f"stopping took {took:.1f} s"
    assert code in (0, -signal.SIGTERM, 128 + signal.SIGTERM), server.output()[-3000:]
    assert "Runtime stopped" in server.output()
    for pid in sleep_pids:
        wait_until(lambda pid=pid: gone(pid), 10, f"the hanging command {pid} to be killed")
