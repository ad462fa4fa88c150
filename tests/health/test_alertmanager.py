"""The dashboard and the real Prometheus Alertmanager (Debian's, on loopback; see
tests/health/alertmanager_server.py): alerts posted, grouped, silenced both ways and
resolved, as the webhook receiver the test owns and Alertmanager's own API see it.

The dashboard side (tests/health/alertmanager_dashboard.py) is a real AlertEngine whose
component rules the test makes fire, with the AlertmanagerLink the Runtime builds; one
test runs a whole Runtime.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dashboard_core import runtime as runtime_module
from dashboard_core.config import load_config
from dashboard_core.models import ComponentState
from dashboard_core.models.silences import Matcher
from dashboard_core.store import Store, open_store
from tests.health.alertmanager_dashboard import PUBLIC, Dashboard, make_config
from tests.health.alertmanager_server import (
    AlertmanagerDaemon,
    Receiver,
    need_alertmanager,
    start_alertmanager,
    start_receiver,
)
from tests.localhost import free_port
from tests.polling import wait_until

DEADLINE = 60.0  # seconds for Alertmanager to notify on a loaded 2-core machine (group_wait is 1 s)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    need_alertmanager()
    receiver = start_receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def alertmanager(tmp_path: Path, receiver: Receiver) -> Iterator[AlertmanagerDaemon]:
    daemon = start_alertmanager(tmp_path / "alertmanager", receiver.url)
    yield daemon
    daemon.stop()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(tmp_path / "data")
    yield store
    store.close()


@pytest.fixture
def dashboard(alertmanager: AlertmanagerDaemon, store: Store) -> Iterator[Dashboard]:
    dash = Dashboard(make_config(alertmanager.url), store)
    dash.link.start()
    yield dash
    dash.link.stop()


def am_alerts(alertmanager: AlertmanagerDaemon) -> dict[str, dict[str, Any]]:
    """Alertmanager's alerts by alertname (active, silenced and all)."""
    return {a["labels"]["alertname"]: a for a in alertmanager.get("alerts")}


def test_two_alerts_of_one_group_arrive_in_one_notification_and_resolve(
    dashboard: Dashboard, alertmanager: AlertmanagerDaemon, receiver: Receiver
) -> None:
    dashboard.set(ComponentState.DOWN, "db", "cache")  # the same team: one group
    firing = wait_until(
        lambda: [n for n in receiver.received() if n["status"] == "firing"],
        DEADLINE,
        "Alertmanager to notify the receiver",
    )
    # Both fired in one evaluation and went out in one post (the forwarder posts all that
    # fire); Alertmanager's group_wait holds the group's first notification: one holds both.
    first = firing[0]
    assert first["groupLabels"] == {"team": "data"}
    assert sorted(a["labels"]["alertname"] for a in first["alerts"]) == ["cache-down", "db-down"]
    db = next(a for a in first["alerts"] if a["labels"]["alertname"] == "db-down")
    assert db["labels"] == {
        "alertname": "db-down",
        "severity": "critical",
        "kind": "component",
        "component": "db",
        "team": "data",
    }
    assert db["annotations"]["description"] == "db is down: restart it"
    assert db["annotations"]["rule"] == "component db down"
    assert db["annotations"]["summary"]
    assert db["generatorURL"] == "https://dash.example.org/safety?rule=db-down"
    # Re-posted while it fires (every second here), each post moving endsAt on, ahead of now.
    ends = datetime.fromisoformat(am_alerts(alertmanager)["db-down"]["endsAt"])
    assert ends > datetime.now(UTC)
    wait_until(
        lambda: datetime.fromisoformat(am_alerts(alertmanager)["db-down"]["endsAt"]) > ends,
        DEADLINE,
        "a re-post to move endsAt on",
    )

    dashboard.set(ComponentState.HEALTHY, "db", "cache")
    resolved = wait_until(
        lambda: [n for n in receiver.received() if n["status"] == "resolved"],
        DEADLINE,
        "the resolved notification",
    )
    assert sorted(a["labels"]["alertname"] for a in resolved[0]["alerts"]) == ["cache-down", "db-down"]
    records = {r.rule: r for r in dashboard.engine.history()}
    ended = next(a for a in resolved[0]["alerts"] if a["labels"]["alertname"] == "db-down")
    # Ended with the moment it resolved, not left to run out.
    ended_at = records["db-down"].ended_at
    assert ended_at is not None
    assert abs(datetime.fromisoformat(ended["endsAt"]) - ended_at) < timedelta(milliseconds=1)
    assert dashboard.link.error() is None


def test_a_dashboard_silence_mutes_in_alertmanager_and_ends_there_too(
    dashboard: Dashboard, alertmanager: AlertmanagerDaemon, receiver: Receiver
) -> None:
    now = datetime.now(UTC)
    silence = dashboard.book.create(
        (Matcher(name="alertname", value="db-down"),), now, now + timedelta(hours=1), "ops", "planned restart"
    )
    copied = wait_until(
        lambda: (s := dashboard.book.get(silence.id)) is not None and s.alertmanager_id and s,
        DEADLINE,
        "the silence to be copied to Alertmanager",
    )
    [am_silence] = [s for s in alertmanager.get("silences") if s["id"] == copied.alertmanager_id]
    assert am_silence["status"]["state"] == "active"
    assert am_silence["matchers"] == [{"name": "alertname", "value": "db-down", "isRegex": False, "isEqual": True}]
    assert am_silence["createdBy"] == "ops"
    assert am_silence["comment"].startswith("planned restart (from the dashboard at https://dash.example.org/")
    # Shown once in the dashboard: the copy is not listed again as Alertmanager's.
    assert dashboard.link.silences.polled
    assert [s.id for s in dashboard.book.list() if s.comment.startswith("planned restart")] == [silence.id]

    dashboard.set(ComponentState.DOWN, "db")  # silenced: Alertmanager gets it and keeps it quiet
    dashboard.set(ComponentState.DOWN, "web")  # another team's: notified
    wait_until(lambda: receiver.about("web-down"), DEADLINE, "the notification about web-down")
    db = wait_until(lambda: am_alerts(alertmanager).get("db-down"), DEADLINE, "db-down in Alertmanager")
    assert db["status"]["state"] == "suppressed"
    assert db["status"]["silencedBy"] == [copied.alertmanager_id]
    assert receiver.about("db-down") == []

    dashboard.book.expire(silence.id, "ops")
    wait_until(
        lambda: (
            [s for s in alertmanager.get("silences") if s["id"] == copied.alertmanager_id][0]["status"]["state"]
            == "expired"
        ),
        DEADLINE,
        "the copy to expire in Alertmanager",
    )
    # Unsilenced, the alert that still fires is notified now.
    wait_until(lambda: receiver.about("db-down"), DEADLINE, "the notification about db-down")


def test_a_silence_made_before_the_link_is_copied_when_it_starts(
    alertmanager: AlertmanagerDaemon, store: Store
) -> None:
    dash = Dashboard(make_config(alertmanager.url), store, linked=False)
    now = datetime.now(UTC)
    silence = dash.book.create(
        (Matcher(name="team", value="data"),), now, now + timedelta(hours=1), "ops", "made with no Alertmanager"
    )
    dash.link_up()  # a restart with [alerting.alertmanager] added
    dash.link.start()
    try:
        copied = wait_until(
            lambda: (s := dash.book.get(silence.id)) is not None and s.alertmanager_id and s,
            DEADLINE,
            "the silence to be copied to Alertmanager",
        )
    finally:
        dash.link.stop()
    [am_silence] = [s for s in alertmanager.get("silences") if s["id"] == copied.alertmanager_id]
    assert am_silence["matchers"] == [{"name": "team", "value": "data", "isRegex": False, "isEqual": True}]


def test_an_alertmanager_silence_shows_in_the_dashboard_and_mutes_there(
    dashboard: Dashboard, alertmanager: AlertmanagerDaemon
) -> None:
    now = datetime.now(UTC)
    made = alertmanager.post(
        "silences",
        {
            "matchers": [{"name": "team", "value": "da.*", "isRegex": True, "isEqual": True}],
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(hours=2)).isoformat(),
            "createdBy": "amtool user",
            "comment": "made in Alertmanager",
        },
    )
    am_id = made["silenceID"]
    shown = wait_until(
        lambda: [s for s in dashboard.book.list() if s.id == am_id], DEADLINE, "Alertmanager's silence in the list"
    )
    [silence] = shown
    assert (silence.origin, silence.created_by, silence.comment, silence.state) == (
        "alertmanager",
        "amtool user",
        "made in Alertmanager",
        "active",
    )
    assert silence.matchers == (Matcher(name="team", value="da.*", is_regex=True),)
    # A copy this dashboard made before a restart is known by its comment's note: not listed as Alertmanager's.
    copy = alertmanager.post(
        "silences",
        {
            "matchers": [{"name": "alertname", "value": "web-down", "isRegex": False, "isEqual": True}],
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(hours=2)).isoformat(),
            "createdBy": "ops",
            "comment": "copied before (from the dashboard at https://dash.example.org/, silence 42)",
        },
    )["silenceID"]
    wait_until(lambda: dashboard.link.silences.in_alertmanager("42"), DEADLINE, "the old copy to be recognised")
    assert copy not in {s.id for s in dashboard.book.list()}
    mute = dashboard.engine.mutes.mute_for(dashboard.engine.labels["db-down"], datetime.now(UTC))
    assert mute is not None and mute.id == am_id
    assert dashboard.engine.mutes.mute_for(dashboard.engine.labels["cache-down"], datetime.now(UTC)) == mute
    assert dashboard.engine.mutes.mute_for(dashboard.engine.labels["web-down"], datetime.now(UTC)) is None
    # Expired from the dashboard, it ends in Alertmanager (and leaves the dashboard's list).
    ended = dashboard.book.expire(am_id, "ops")
    assert (ended.state, ended.expired_by) == ("expired", "ops")
    wait_until(
        lambda: alertmanager.get(f"silence/{am_id}")["status"]["state"] == "expired", DEADLINE, "it to end there"
    )
    wait_until(lambda: am_id not in {s.id for s in dashboard.book.list()}, DEADLINE, "it to leave the list")


def test_the_engine_never_waits_for_alertmanager_and_failures_show(store: Store) -> None:
    """An Alertmanager that takes connections and never answers: the engine goes on
    evaluating while the post of its alert hangs; once it fails, the failure shows."""
    hanging = socket.socket()
    hanging.bind(("127.0.0.1", 0))
    hanging.listen(16)
    url = f"http://127.0.0.1:{hanging.getsockname()[1]}"
    dash = Dashboard(make_config(url, timeout_seconds=60.0), store)
    dash.link.start()
    held: list[socket.socket] = []
    try:
        dash.set(ComponentState.DOWN, "db")
        hanging.settimeout(DEADLINE)
        while True:  # the silence sync reads too: hold every request until the post of the alert comes
            connection, _ = hanging.accept()
            held.append(connection)
            connection.settimeout(DEADLINE)
            if connection.recv(65536).startswith(b"POST /api/v2/alerts "):
                break
        dash.set(ComponentState.DOWN, "web")  # evaluated while the post waits for an answer
        assert [r.rule for r in dash.engine.firing()] == ["db-down", "web-down"]
        assert dash.link.forwarder.error() is None  # still waiting
        for connection in held:
            connection.close()
        error = wait_until(dash.link.forwarder.error, DEADLINE, "the failure to show")
        assert error.startswith(f"Posting 1 alert(s) at {url} failed: ")
    finally:
        for connection in held:
            connection.close()
        hanging.close()  # connections still queued are refused: nothing waits out its timeout
        dash.link.stop()


def test_a_dead_alertmanager_is_shown(store: Store) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    dash = Dashboard(make_config(url), store)
    dash.link.start()
    try:
        dash.set(ComponentState.DOWN, "db")
        error = wait_until(dash.link.forwarder.error, DEADLINE, "the failure to post to show")
        assert error.startswith(f"Posting 1 alert(s) at {url} failed: ConnectError")
    finally:
        dash.link.stop()


def test_the_runtime_posts_its_alerts(tmp_path: Path, alertmanager: AlertmanagerDaemon, receiver: Receiver) -> None:
    path = always_firing(
        tmp_path,
        alertmanager.url,
        alerting=f'public_url = "{PUBLIC}"',
        alertmanager="silence_poll_seconds = 1",
        alert='labels = { team = "ops" }',
    )
    with runtime_module.running(load_config(path)) as rt:
        assert rt.alertmanager is not None
        [note] = wait_until(lambda: receiver.about("always"), DEADLINE, "the Runtime's alert to be notified")
    assert note["status"] == "firing" and note["groupLabels"] == {"team": "ops"}
    [alert] = note["alerts"]
    assert alert["labels"]["kind"] == "metric" and alert["labels"]["field"] == "cpu.total"
    assert alert["generatorURL"] == "https://dash.example.org/safety?rule=always"


def test_the_safety_api_says_when_alertmanager_takes_nothing(tmp_path: Path) -> None:
    """GET /api/dashboard/safety carries the failure the Safety page shows (none while it works)."""
    from fastapi.testclient import TestClient

    from dashboard_core.api import create_api

    url = f"http://127.0.0.1:{free_port()}"
    path = always_firing(tmp_path, url)
    with runtime_module.running(load_config(path)) as rt, TestClient(create_api(lambda: rt)) as client:

        def said() -> str | None:
            body = client.get("/dashboard/safety").json()
            return body["alertmanager_error"]

        error = wait_until(said, DEADLINE, "the failure in the safety report")
        assert error.startswith(f"Alertmanager at {url} does not take alerts or silences: ") and "ConnectError" in error


def always_firing(tmp_path: Path, url: str, *, alerting: str = "", alertmanager: str = "", alert: str = "") -> Path:
    """A dashboard.toml whose rule "always" fires at once, its alerts going to Alertmanager at
    ``url``; each keyword adds lines to its table."""
    path = tmp_path / "dashboard.toml"
    path.write_text(
        f"""
[sampler]
interval_seconds = 0.2
history_hours = 1

[storage]
data_dir = "data"

[alerting]
interval_seconds = 0.2
{alerting}

[alerting.alertmanager]
url = "{url}"
repost_seconds = 1
{alertmanager}

[[alerts]]
name = "always"
rule = "cpu.total >= 0"
{alert}
""",
        encoding="utf-8",
    )
    return path
