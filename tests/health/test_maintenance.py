"""Maintenance windows: when they occur (weekly across DST, cron, once), what the config
refuses, uptime without them (real SQLite), and a real component checked during one:
shown as maintenance, its alert muted (a webhook receiver the test owns gets nothing)."""

from __future__ import annotations

import json
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dashboard_core import runtime as runtime_module
from dashboard_core.api import create_api
from dashboard_core.config import Config, ConfigError, MaintenanceConfig, load_config
from dashboard_core.events import EventLog
from dashboard_core.health.alerts import AlertEngine
from dashboard_core.health.maintenance import Maintenance, current_span, next_span, spans_between
from dashboard_core.health.monitor import HealthMonitor
from dashboard_core.health.webhook import WebhookNotifier
from dashboard_core.metrics.frame import RollingFrame, Rows
from dashboard_core.models import AgentInfo, ComponentState, EventKind, RunInfo
from dashboard_core.store import Store
from dashboard_core.timeline.marks import MarkKind, marks_between
from tests.health.conftest import make_config
from tests.localhost import free_port
from tests.polling import wait_until


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def window(**fields: Any) -> MaintenanceConfig:
    return MaintenanceConfig.model_validate({"name": "w", "components": ["db"], **fields})


# -- when ---------------------------------------------------------------------------------
def test_a_weekly_window_keeps_its_wall_clock_time_across_both_dst_changes() -> None:
    w = window(days=["sun"], at="02:00:00", duration="2h", timezone="Europe/Paris")
    # Winter (UTC+1): Sunday 2027-03-21 02:00 is 01:00 UTC.
    assert next_span(w, utc(2027, 3, 20)) == (utc(2027, 3, 21, 1), utc(2027, 3, 21, 3))
    # 2027-03-28 the clocks jump from 02:00 to 03:00: 02:00 does not exist and is read
    # with the winter offset (01:00 UTC, i.e. 03:00 summer time); it lasts 2 real hours.
    assert next_span(w, utc(2027, 3, 22)) == (utc(2027, 3, 28, 1), utc(2027, 3, 28, 3))
    # Summer (UTC+2): 02:00 is 00:00 UTC.
    assert next_span(w, utc(2027, 3, 29)) == (utc(2027, 4, 4, 0), utc(2027, 4, 4, 2))
    # 2027-10-31 02:00 happens twice: the first one (summer time, 00:00 UTC).
    assert next_span(w, utc(2027, 10, 25)) == (utc(2027, 10, 31, 0), utc(2027, 10, 31, 2))
    assert next_span(w, utc(2027, 11, 1)) == (utc(2027, 11, 7, 1), utc(2027, 11, 7, 3))
    assert current_span(w, utc(2027, 4, 4, 1, 59)) == (utc(2027, 4, 4, 0), utc(2027, 4, 4, 2))
    assert current_span(w, utc(2027, 4, 4, 2)) is None  # the end is not in it


def test_a_weekly_window_over_midnight_covers_the_next_morning() -> None:
    w = window(days=["fri", "sat"], at="23:00:00", duration="3h")
    assert current_span(w, utc(2027, 1, 2, 1, 30)) == (utc(2027, 1, 1, 23), utc(2027, 1, 2, 2))  # Fri 23h to Sat 2h
    assert current_span(w, utc(2027, 1, 3, 1, 59)) == (utc(2027, 1, 2, 23), utc(2027, 1, 3, 2))
    assert current_span(w, utc(2027, 1, 4, 1)) is None  # Sunday night: no Sunday start
    assert next_span(w, utc(2027, 1, 3, 12)) == (utc(2027, 1, 8, 23), utc(2027, 1, 9, 2))


def test_a_cron_window_follows_its_zone_and_joins_overlapping_occurrences() -> None:
    w = window(cron="30 3 * * 1-5", duration="30m", timezone="America/New_York")
    # 2027-03-14 US clocks go forward: Friday the 12th is EST (UTC-5), Monday the 15th EDT (UTC-4).
    assert next_span(w, utc(2027, 3, 12)) == (utc(2027, 3, 12, 8, 30), utc(2027, 3, 12, 9))
    assert next_span(w, utc(2027, 3, 13)) == (utc(2027, 3, 15, 7, 30), utc(2027, 3, 15, 8))
    overlapping = window(cron="0 8,9 * * *", duration="90m")  # 08:00 runs into 09:00's: one span a day
    assert spans_between(overlapping, utc(2027, 1, 1), utc(2027, 1, 3)) == [
        (utc(2027, 1, 1, 8), utc(2027, 1, 1, 10, 30)),
        (utc(2027, 1, 2, 8), utc(2027, 1, 2, 10, 30)),
    ]
    nightly = window(cron="0 2 * * *", duration="1h")
    assert len(spans_between(nightly, utc(2027, 1, 1), utc(2027, 1, 8))) == 7


def test_a_one_off_window_is_read_in_its_zone_unless_it_has_an_offset() -> None:
    local = window(start="2027-06-01T22:00:00", end="2027-06-02T01:00:00", timezone="Europe/Berlin")
    assert current_span(local, utc(2027, 6, 1, 20)) == (utc(2027, 6, 1, 20), utc(2027, 6, 1, 23))
    fixed = window(start="2027-06-01T22:00:00+00:00", end="2027-06-02T01:00:00+00:00", timezone="Europe/Berlin")
    assert current_span(fixed, utc(2027, 6, 1, 20)) is None
    assert next_span(fixed, utc(2027, 6, 1)) == (utc(2027, 6, 1, 22), utc(2027, 6, 2, 1))
    assert next_span(fixed, utc(2027, 6, 3)) is None  # over


def test_the_mute_covers_an_alert_by_rule_component_or_agent() -> None:
    windows = [
        window(name="db-work", components=["db"], start="2027-01-01T00:00:00", end="2027-01-02T00:00:00"),
        MaintenanceConfig(name="fleet", agents=["*"], rules=["disk-full"], days=["mon"], at="00:00:00", duration="1d"),
    ]
    m = Maintenance(windows)
    at = utc(2027, 1, 1, 12)  # a Friday
    mute = m.mute_for({"alertname": "db-down", "kind": "component", "component": "db"}, at)
    assert mute is not None and (mute.kind, mute.id, mute.until) == ("maintenance", "db-work", utc(2027, 1, 2))
    assert m.mute_for({"alertname": "web-down", "component": "web"}, at) is None
    assert m.mute_for({"alertname": "db-down", "component": "db"}, utc(2027, 1, 2)) is None
    monday = utc(2027, 1, 4, 8)
    assert m.mute_for({"alertname": "x", "agent": "gpu-7"}, monday).id == "fleet"  # type: ignore[union-attr]
    assert m.mute_for({"alertname": "x", "agent": "any"}, monday).id == "fleet"  # type: ignore[union-attr]
    assert m.mute_for({"alertname": "disk-full", "kind": "metric"}, monday).id == "fleet"  # type: ignore[union-attr]
    assert m.mute_for({"alertname": "disk-full", "kind": "metric"}, at) is None
    assert m.window_of("agents", "gpu-7", monday) == "fleet" and m.window_of("components", "db", monday) is None


# -- what the config refuses ----------------------------------------------------------------
def load(tmp_path: Path, text: str) -> str:
    file = tmp_path / "dashboard.toml"
    file.write_text('[[components]]\nname = "db"\ncheck = { type = "tcp", port = 5432 }\n' + text)
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    return str(caught.value)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('components = ["db"]\ndays = ["sun"]\nat = 02:00:00', "a recurring window needs a duration (e.g. 2h)"),
        ('components = ["db"]\ncron = "0 2 * *"\nduration = "1h"', "give 5 fields"),
        ('components = ["db"]\ncron = "0 25 * * *"\nduration = "1h"', "cron '0 25 * * *' is not valid: Bad hour"),
        ('components = ["db"]\ncron = "0 2 * * *"\nduration = "soon"', "is not a duration like 30s"),
        ('components = ["db"]\ndays = ["sunday"]\nat = 02:00:00\nduration = "1h"', "maintenance.0 (w).days.0"),
        ('components = ["db"]\nstart = 2027-01-02T00:00:00\nend = 2027-01-01T00:00:00', "must come after start"),
        ('components = ["db"]\nstart = 2027-01-01T00:00:00', "needs both start and end"),
        (
            'components = ["db"]\nstart = 2027-01-01T00:00:00\nend = 2027-01-02T00:00:00\ncron = "0 2 * * *"',
            "give exactly one schedule",
        ),
        ('cron = "0 2 * * *"\nduration = "1h"', "name what the window covers"),
        ('components = ["db"]\ncron = "0 2 * * *"\nduration = "1h"\ntimezone = "Mars/Olympus"', "IANA time zone"),
        ('components = ["web"]\ncron = "0 2 * * *"\nduration = "1h"', "no component named 'web'; known components: db"),
        ('rules = ["nope"]\ncron = "0 2 * * *"\nduration = "1h"', "no rule named 'nope'"),
        (
            'components = ["db"]\ndays = ["sun"]\nat = 02:00:00\nduration = "8d"',
            "as long as the longest time between two starts (10080 min)",
        ),
        ('components = ["db"]\ncron = "*/10 * * * *"\nduration = "10m"', "the window would never end"),
        ('components = ["db"]\ndays = ["mon", "thu"]\nat = 02:00:00\nduration = "4d"', "the window would never end"),
    ],
)
def test_a_bad_window_is_refused_with_where_and_why(tmp_path: Path, text: str, said: str) -> None:
    message = load(tmp_path, f'[[maintenance]]\nname = "w"\n{text}\n')
    assert said in message, message
    assert "maintenance" in message


def test_window_names_are_unique(tmp_path: Path) -> None:
    one = '[[maintenance]]\nname = "w"\ncomponents = ["db"]\ncron = "0 2 * * *"\nduration = "1h"\n'
    assert "maintenance window names must be unique; repeated: w" in load(tmp_path, one + one)


# -- uptime --------------------------------------------------------------------------------
T0 = 1_800_000_000.0  # 2027-01-15 08:00 UTC
HOUR = 3600.0


def test_uptime_leaves_out_the_checks_made_in_a_window(store: Store, events: EventLog) -> None:
    def config(exclude: bool) -> Any:
        start = datetime.fromtimestamp(T0 - 5 * HOUR, UTC).replace(tzinfo=None).isoformat()
        end = datetime.fromtimestamp(T0 - 3 * HOUR, UTC).replace(tzinfo=None).isoformat()
        window = {"name": "upgrade", "components": ["db"], "start": start, "end": end}
        return make_config(
            [
                {"name": "db", "check": {"type": "tcp", "port": 5432}},
                {"name": "web", "check": {"type": "tcp", "port": 80}},
            ],
            maintenance=[window | {"exclude_from_uptime": exclude}],
        )

    rows = [(T0 - h * HOUR, 1) for h in (1, 2, 6, 30)]  # good checks outside the window
    rows += [(T0 - h * HOUR, 0) for h in (4.5, 4, 3.5)]  # failed ones during the upgrade
    for component in ("db", "web"):
        store.executemany(
            "INSERT INTO health_checks (component, at, ok, latency_ms, state, message)"
            f" VALUES ('{component}', ?, ?, 1, 'healthy', '')",
            rows,
        )
    db, web = HealthMonitor(config(True), store, events, clock=lambda: T0).statuses()
    assert (db.uptime_24h_percent, db.uptime_7d_percent) == (100.0, 100.0)
    assert (web.uptime_24h_percent, web.uptime_7d_percent) == (50.0, 100 * 4 / 7)  # no window over web
    db, _ = HealthMonitor(config(False), store, events, clock=lambda: T0).statuses()
    assert (db.uptime_24h_percent, db.uptime_7d_percent) == (50.0, 100 * 4 / 7)  # exclude_from_uptime = false


# -- a real component in a window -----------------------------------------------------------
class Receiver:
    """A webhook receiver on a free loopback port: keeps every POSTed body."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
                owner.bodies.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0)))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def rules(self) -> list[str]:
        return [b["alert"]["rule"] for b in list(self.bodies)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


@contextmanager
def listening(port: int) -> Iterator[None]:
    """A listener on ``port`` that accepts and closes connections, while in the block."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", port), socketserver.BaseRequestHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_a_component_down_in_a_window_shows_maintenance_and_its_alert_notifies_no_one(
    tmp_path: Path, receiver: Receiver
) -> None:
    db_port, cache_port = free_port(), free_port()  # nothing listens: both components are down
    while cache_port == db_port:
        cache_port = free_port()
    file = tmp_path / "dashboard.toml"
    file.write_text(
        f"""
[storage]
data_dir = {json.dumps(str(tmp_path / "data"))}

[[components]]
name = "db"
interval_seconds = 0.2
down_after = 1
check = {{ type = "tcp", port = {db_port} }}

[[components]]
name = "cache"
interval_seconds = 0.2
down_after = 1
check = {{ type = "tcp", port = {cache_port} }}

[alerting]
interval_seconds = 0.1
webhook_attempts = 1

[[alerts]]
name = "db-down"
rule = "component db down"
webhook = "{receiver.url}"

[[alerts]]
name = "cache-down"
rule = "component cache down"
webhook = "{receiver.url}"

[[maintenance]]
name = "db-upgrade"
description = "the database is upgraded"
components = ["db"]
start = 2020-01-01T00:00:00Z
end = 2100-01-01T00:00:00Z
"""
    )
    with runtime_module.running(load_config(file)) as rt, TestClient(create_api(lambda: rt)) as client:
        # cache, in no window, notifies: the path to the receiver works.
        wait_until(lambda: "cache-down" in receiver.rules(), 30, "the cache-down notification")

        def muted_event() -> dict[str, Any] | None:
            page = client.get("/events", params={"kind": EventKind.ALERT.value}).json()
            return next(
                (e for e in page["events"] if e["source"] == "db-down" and e["data"]["state"] == "firing"), None
            )

        event = wait_until(muted_event, 30, "db-down to fire")
        wait_until(lambda: rt.alerts.notifier is None or rt.alerts.notifier.pending() == 0, 30, "no POST pending")
        assert "db-down" not in receiver.rules()  # fired, recorded, and told no one
        assert event["data"]["muted"]["kind"] == "maintenance" and event["data"]["muted"]["id"] == "db-upgrade"
        assert [a["rule"] for a in client.get("/safety/alerts", params={"rule": "db-down"}).json()] == ["db-down"]

        db = client.get("/components/db").json()
        assert (db["state"], db["maintenance"]) == ("down", "db-upgrade")  # checks go on
        assert client.get("/components/cache").json()["maintenance"] is None
        windows = client.get("/maintenance").json()
        assert [(w["name"], w["active"], w["kind"]) for w in windows] == [("db-upgrade", True, "once")]
        assert windows[0]["current"]["end"] == "2100-01-01T00:00:00Z" and windows[0]["next"] is None
        changes = [
            e for e in client.get("/events", params={"kind": "component"}).json()["events"] if e["source"] == "db"
        ]
        assert changes and all(e["message"].endswith("(maintenance: db-upgrade)") for e in changes)

        def db_down_states() -> list[str]:
            return [a["state"] for a in client.get("/safety/alerts", params={"rule": "db-down"}).json()]

        with listening(db_port):  # db answers again: its alert resolves, in the window too
            wait_until(lambda: db_down_states() == ["resolved"], 30, "db-down to resolve")
        wait_until(lambda: rt.alerts.notifier is None or rt.alerts.notifier.pending() == 0, 30, "no POST pending")
        assert "db-down" not in receiver.rules()  # nor its resolution


def test_the_time_axis_draws_each_span_of_a_window(store: Store, events: EventLog) -> None:
    config = make_config(
        [{"name": "db", "check": {"type": "tcp", "port": 5432}}],
        maintenance=[
            {"name": "nightly", "description": "backups", "components": ["db"], "cron": "0 2 * * *", "duration": "1h"}
        ],
    )
    HealthMonitor(config, store, events)  # the dashboard's windows, found by its store
    now = utc(2027, 1, 3, 2, 30)
    marks = marks_between(store, utc(2027, 1, 1), utc(2027, 1, 4), [MarkKind.MAINTENANCE], now).marks
    assert [(m.start, m.end, m.state) for m in marks] == [
        (utc(2027, 1, 1, 2), utc(2027, 1, 1, 3), "over"),
        (utc(2027, 1, 2, 2), utc(2027, 1, 2, 3), "over"),
        (utc(2027, 1, 3, 2), utc(2027, 1, 3, 3), "in force"),
    ]
    assert marks[0].source == "nightly" and "backups" in marks[0].detail and marks[0].href == "safety"
    coarse = marks_between(store, utc(2027, 1, 1), utc(2027, 1, 4), [MarkKind.MAINTENANCE], now, resolution_s=86400)
    assert [(m.start, m.end) for m in coarse.marks] == [(utc(2027, 1, 1, 2), utc(2027, 1, 3, 3))]  # a pixel a day


class MetricInputs:
    """A metric rule's samples, appended by the test (what the Runtime's frame holds)."""

    def __init__(self) -> None:
        self.frame = RollingFrame(1000)

    def samples(self, start_ns: int, end_ns: int) -> Rows:
        return self.frame.rows(start_ns, end_ns)

    def component_state(self, name: str) -> ComponentState | None:
        return None

    def agents(self) -> list[AgentInfo]:
        return []

    def last_full_run(self, suite: str) -> RunInfo | None:
        return None


def test_an_alert_told_before_a_window_is_told_it_resolved_and_one_fired_in_it_is_not(
    store: Store, events: EventLog, receiver: Receiver
) -> None:
    now = time.time()
    begins = datetime.fromtimestamp(now + 15, UTC).isoformat()
    ends = datetime.fromtimestamp(now + 1000, UTC).isoformat()
    config = Config.model_validate(
        {
            "alerts": [{"name": "cpu-high", "rule": "cpu.total > 90", "webhook": receiver.url}],
            "alerting": {"webhook_timeout_seconds": 5, "webhook_attempts": 1},
            "maintenance": [{"name": "tuning", "rules": ["cpu-high"], "start": begins, "end": ends}],
        }
    )
    inputs, notifier = MetricInputs(), WebhookNotifier(hostname="test-host", attempts=1)
    engine = AlertEngine(config, store, events, inputs, notifier=notifier)
    engine.mutes.add(Maintenance(config.maintenance))
    notifier.start()
    try:
        for at, cpu in ((0, 99.0), (20, 10.0), (30, 99.0), (40, 10.0)):  # the window begins at 15
            inputs.frame.append(int((now + at - 1) * 1e9), {"cpu.total": cpu})
            engine.evaluate(now + at)
        assert [a.state.value for a in engine.history()] == ["resolved", "resolved"]  # both recorded
        wait_until(lambda: len(receiver.bodies) == 2 and notifier.pending() == 0, 30, "the two POSTs told")
    finally:
        notifier.stop()
    assert [b["state"] for b in receiver.bodies] == ["firing", "resolved"]  # the first alert, start to end
    assert receiver.bodies[0]["alert"]["id"] == receiver.bodies[1]["alert"]["id"] == engine.history()[1].id
