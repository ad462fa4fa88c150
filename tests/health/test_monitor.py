"""The state tracker with crafted results, and a live monitor against real things."""

from __future__ import annotations

import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from dashboard_core.config import ComponentConfig, Config
from dashboard_core.events import EventLog
from dashboard_core.health.checks import CheckReport
from dashboard_core.health.component_state import StateTracker
from dashboard_core.health.monitor import HealthMonitor
from dashboard_core.health.python_check import python_call_running
from dashboard_core.models import CheckResult, ComponentState, EventKind, Severity
from dashboard_core.store import Store
from tests.health.conftest import HealthServer, make_config
from tests.polling import wait_until

T0 = 1_700_000_000.0
THIS = __name__


def tracked(**extra: Any) -> StateTracker:
    comp = ComponentConfig.model_validate({"name": "svc", "check": {"type": "tcp", "port": 1}, **extra})
    return StateTracker(comp)


def result(t: float, ok: bool = True, latency: float = 5.0, message: str = "", **extra: Any) -> CheckReport:
    return CheckReport(
        ok=ok,
        latency_ms=latency,
        message=message or ("connected" if ok else "connection refused by 127.0.0.1:1"),
        at=datetime.fromtimestamp(T0 + t, UTC),
        **extra,
    )


def at(t: float) -> datetime:
    return datetime.fromtimestamp(T0 + t, UTC)


# -- the state tracker ---------------------------------------------------------------
def test_tracker_walks_unknown_healthy_degraded_down_and_back() -> None:
    tr = tracked(slow_ms=100, window=3, down_after=2)
    s = tr.status(T0)
    assert (s.state, s.last_checked, s.state_since, s.performance_percent) == (ComponentState.UNKNOWN, None, None, None)
    assert s.check == "TCP 127.0.0.1:1"

    change = tr.fold(result(0))
    assert change is not None and (change.old, change.new) == (ComponentState.UNKNOWN, ComponentState.HEALTHY)
    assert change.message == "svc is healthy (5.0 ms)"
    assert change.severity is Severity.INFO

    change = tr.fold(result(1, latency=150))  # slow
    assert change is not None and change.new is ComponentState.DEGRADED
    assert change.message == "svc is degraded: slow: 150 ms, over the 100 ms limit"
    assert change.severity is Severity.WARNING

    change = tr.fold(result(2))
    assert change is not None and change.message == "svc recovered: healthy (5.0 ms)"

    change = tr.fold(result(3, ok=False))  # one failure: degraded, not yet down
    assert change is not None and change.new is ComponentState.DEGRADED
    assert change.message == "svc is degraded: connection refused by 127.0.0.1:1"
    assert (tr.consecutive_failures, tr.last_error) == (1, "connection refused by 127.0.0.1:1")

    change = tr.fold(result(4, ok=False))  # down_after failures in a row
    assert change is not None and (change.old, change.new) == (ComponentState.DEGRADED, ComponentState.DOWN)
    assert change.message == "svc is down: connection refused by 127.0.0.1:1"
    assert change.severity is Severity.CRITICAL
    assert tr.fold(result(5, ok=False, message="timed out after 5 s")) is None  # still down
    s = tr.status(T0 + 5)
    assert (s.state, s.consecutive_failures, s.last_error) == (ComponentState.DOWN, 3, "timed out after 5 s")
    assert (s.state_since, s.last_checked) == (at(4), at(5))

    change = tr.fold(result(6))  # answers again, but 2 of the last 3 failed
    assert change is not None and (change.old, change.new) == (ComponentState.DOWN, ComponentState.DEGRADED)
    assert change.message == "svc is degraded: 2 of the last 3 checks failed"
    assert tr.consecutive_failures == 0
    assert tr.fold(result(7)) is None  # 1 of the last 3
    change = tr.fold(result(8))
    assert change is not None and change.message == "svc recovered: healthy (5.0 ms)"
    s = tr.status(T0 + 8)
    assert (s.state, s.state_since, s.latency_ms) == (ComponentState.HEALTHY, at(8), 5.0)
    assert s.last_error == "timed out after 5 s"  # the last failure stays readable
    assert s.performance_percent == 100 * 6 / 9


def test_tracker_honours_what_a_python_check_reports() -> None:
    tr = tracked(window=2, down_after=3)
    tr.fold(result(0))
    change = tr.fold(result(1, message="queue is 900 deep", reported_state=ComponentState.DEGRADED))
    assert change is not None and change.message == "svc is degraded: queue is 900 deep"
    change = tr.fold(result(2, ok=False, message="the disk is full", reported_state=ComponentState.DOWN))
    assert change is not None and change.message == "svc is down: the disk is full"  # at once, not after 3
    assert tr.fold(result(3)).new is ComponentState.DEGRADED  # type: ignore[union-attr]
    assert tr.fold(result(4)).new is ComponentState.HEALTHY  # type: ignore[union-attr]


def test_tracker_takes_plain_check_results() -> None:
    tr = tracked(down_after=1)
    change = tr.fold(CheckResult(ok=False, latency_ms=None, message="refused", at=at(0)))
    assert change is not None and change.message == "svc is down: refused"


def test_performance_is_the_share_of_good_checks_in_the_last_hour() -> None:
    tr = tracked()
    for t, ok in [(0, False), (1000, True), (2000, True), (3000, True)]:
        tr.fold(result(t, ok=ok))
    assert tr.performance_percent(T0 + 3000) == 75.0
    assert tr.performance_percent(T0 + 3700) == 100.0  # the failure at 0 is older than an hour
    assert tr.performance_percent(T0 + 3000 + 3601) is None


# -- a live monitor ------------------------------------------------------------------
@contextmanager
def running(monitor: HealthMonitor) -> Iterator[HealthMonitor]:
    monitor.start()
    try:
        yield monitor
    finally:
        monitor.stop()
        assert not monitor.running


def state_of(monitor: HealthMonitor, name: str) -> ComponentState:
    status = monitor.status(name)
    assert status is not None
    return status.state


def rows(store: Store, name: str) -> int:
    row = store.one("SELECT COUNT(*) FROM health_checks WHERE component = ?", (name,))
    return int(row[0]) if row else 0


def test_monitor_follows_a_real_server_down_and_back(http_server: HealthServer, store: Store, events: EventLog) -> None:
    url = http_server.url + "/health"
    config = make_config(
        [
            {
                "name": "web",
                "description": "the web tier",
                "check": {"type": "http", "url": url, "json_field": "status", "json_value": "ok"},
                "interval_seconds": 0.2,
                "timeout_seconds": 2,
                "window": 2,
                "down_after": 2,
            }
        ]
    )
    with running(HealthMonitor(config, store, events)) as monitor:
        wait_until(lambda: state_of(monitor, "web") is ComponentState.HEALTHY, 30, "web to be healthy")
        http_server.set("error")
        wait_until(lambda: state_of(monitor, "web") is ComponentState.DOWN, 30, "web to go down")
        down = monitor.status("web")
        assert down is not None and down.consecutive_failures >= 2
        assert down.last_error == f"GET {url} answered 500, expected 200"
        http_server.set("ok")
        wait_until(lambda: state_of(monitor, "web") is ComponentState.HEALTHY, 30, "web to recover")
        status = monitor.statuses()[0]
    assert status.name == "web" and status.description == "the web tier"
    assert status.check == f"GET {url} expects 200 with status = 'ok'"
    assert status.performance_percent is not None and 0 < status.performance_percent < 100

    changes = list(reversed(events.latest(100, kinds=[EventKind.COMPONENT], source="web")))
    assert [(e.data["from"], e.data["to"]) for e in changes] == [
        ("unknown", "healthy"),
        ("healthy", "degraded"),
        ("degraded", "down"),
        ("down", "degraded"),
        ("degraded", "healthy"),
    ]
    assert [e.severity for e in changes] == [
        Severity.INFO,
        Severity.WARNING,
        Severity.CRITICAL,
        Severity.WARNING,
        Severity.INFO,
    ]
    assert changes[2].message == f"web is down: GET {url} answered 500, expected 200"
    assert changes[3].message == "web is degraded: 1 of the last 2 checks failed"
    assert changes[4].message.startswith("web recovered: healthy (") and changes[4].message.endswith(" ms)")

    stored = store.all("SELECT ok, state, message FROM health_checks WHERE component = 'web' ORDER BY at")
    assert len(stored) >= 5  # healthy, 2 failures, 2 good ones
    assert {r["state"] for r in stored} == {"healthy", "degraded", "down"}
    assert any(not r["ok"] and r["message"] == f"GET {url} answered 500, expected 200" for r in stored)


def hang_argv(pidfile: Path) -> list[str]:
    code = f"""
        import os, time
        open({str(pidfile)!r} + '.tmp', 'w').write(str(os.getpid()))
        os.rename({str(pidfile)!r} + '.tmp', {str(pidfile)!r})
        time.sleep(60)
        """
    return [sys.executable, "-c", textwrap.dedent(code)]


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_hanging_check_does_not_delay_another_component(
    tmp_path: Path, tcp_port: int, store: Store, events: EventLog
) -> None:
    pidfile = tmp_path / "hang.pid"
    config = make_config(
        [
            {
                "name": "hang",
                "check": {"type": "command", "argv": hang_argv(pidfile)},
                "interval_seconds": 0.2,
                "timeout_seconds": 20,
            },
            {"name": "fast", "check": {"type": "tcp", "port": tcp_port}, "interval_seconds": 0.2},
        ]
    )
    with running(HealthMonitor(config, store, events)) as monitor:
        wait_until(pidfile.exists, 30, "the hanging command to start")
        before = rows(store, "fast")
        wait_until(lambda: rows(store, "fast") >= before + 5, 15, "5 more checks of the fast component")
        assert rows(store, "hang") == 0  # its first check is still running
        assert state_of(monitor, "hang") is ComponentState.UNKNOWN
        assert state_of(monitor, "fast") is ComponentState.HEALTHY
        assert [s.name for s in monitor.statuses()] == ["hang", "fast"]
        pid = int(pidfile.read_text())
        started = time.monotonic()
    assert time.monotonic() - started < 3  # stop() did not wait for the hanging command
    wait_until(lambda: gone(pid), 5, "the hanging command to be killed")


RELEASE = threading.Event()
ENTERED = threading.Event()


def hangs() -> bool:
    ENTERED.set()
    RELEASE.wait(30)  # the hung function under test; released by the test
    return True


def test_stop_is_prompt_while_checks_hang(tmp_path: Path, store: Store, events: EventLog) -> None:
    pidfile = tmp_path / "hang.pid"
    RELEASE.clear()
    ENTERED.clear()
    config = make_config(
        [
            {"name": "cmd", "check": {"type": "command", "argv": hang_argv(pidfile)}, "timeout_seconds": 60},
            {"name": "hung-py", "check": {"type": "python", "callable": f"{THIS}:hangs"}, "timeout_seconds": 60},
        ]
    )
    monitor = HealthMonitor(config, store, events)
    monitor.start()
    try:
        wait_until(lambda: pidfile.exists() and ENTERED.is_set(), 30, "both checks to be hanging")
        pid = int(pidfile.read_text())
        started = time.monotonic()
        monitor.stop()
        assert time.monotonic() - started < 3
        assert not monitor.running
        wait_until(lambda: gone(pid), 5, "the hanging command to be killed")
    finally:
        RELEASE.set()
        monitor.stop()
    wait_until(lambda: not python_call_running("hung-py"), 10, "the released call to return")


def test_uptime_comes_from_the_store_and_is_cached(store: Store, events: EventLog) -> None:
    now = [T0]
    config = make_config(
        [
            {"name": "db", "check": {"type": "tcp", "port": 5432}},
            {"name": "new", "check": {"type": "tcp", "port": 5433}},
        ]
    )
    hour, day = 3600.0, 86400.0
    chosen = [
        (T0 - 1 * hour, 1),
        (T0 - 2 * hour, 1),
        (T0 - 3 * hour, 1),
        (T0 - 23 * hour, 0),  # 24 h: 3 of 4 good
        (T0 - 3 * day, 0),
        (T0 - 6 * day, 0),  # 7 days: 3 of 6 good
        (T0 - 8 * day, 1),  # older than 7 days: not counted
    ]
    store.executemany(
        "INSERT INTO health_checks (component, at, ok, latency_ms, state, message) VALUES ('db', ?, ?, 1, 'healthy', '')",
        chosen,
    )
    monitor = HealthMonitor(config, store, events, clock=lambda: now[0])
    db, new = monitor.statuses()
    assert (db.uptime_24h_percent, db.uptime_7d_percent) == (75.0, 50.0)
    assert (new.uptime_24h_percent, new.uptime_7d_percent) == (None, None)
    assert db.state is ComponentState.UNKNOWN

    store.execute(
        "INSERT INTO health_checks (component, at, ok, latency_ms, state, message) VALUES ('db', ?, 0, 1, 'down', '')",
        (T0 - 60,),
    )
    now[0] = T0 + 10
    status = monitor.status("db")
    assert status is not None and status.uptime_24h_percent == 75.0  # cached
    now[0] = T0 + 31
    status = monitor.status("db")
    assert status is not None and status.uptime_24h_percent == 60.0  # 3 of 5
    assert monitor.status("nope") is None


def test_old_rows_are_pruned_and_check_now_checks_at_once(tcp_port: int, store: Store, events: EventLog) -> None:
    config = Config.model_validate(
        {
            "health": {"history_days": 1},
            "components": [{"name": "db", "check": {"type": "tcp", "port": tcp_port}, "interval_seconds": 3600}],
        }
    )
    now = time.time()
    store.executemany(
        "INSERT INTO health_checks (component, at, ok, latency_ms, state, message) VALUES ('db', ?, 1, 1, 'healthy', '')",
        [(now - 2 * 86400,), (now - 3600,)],
    )
    with running(HealthMonitor(config, store, events)) as monitor:
        wait_until(lambda: monitor.status("db").last_checked, 30, "the first check")  # type: ignore[union-attr]
        wait_until(lambda: rows(store, "db") == 2, 30, "the old row to be pruned")
        oldest = store.one("SELECT MIN(at) FROM health_checks")
        assert oldest is not None and oldest[0] == now - 3600
        first = monitor.status("db")
        assert first is not None and first.last_checked is not None
        status = monitor.check_now("db")
        assert status is not None and status.last_checked is not None and status.last_checked > first.last_checked
        assert rows(store, "db") == 3
        assert monitor.check_now("nope") is None
