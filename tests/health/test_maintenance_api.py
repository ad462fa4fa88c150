"""Planning one-off maintenance windows over the API, with a real Runtime and store:
planned, listed, in force on the component, kept across a restart, removed; each
change audited; bad bodies refused with a sentence; only operators may."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dashboard_core import runtime as runtime_module
from dashboard_core.api import create_api
from dashboard_core.config import Config, load_config
from dashboard_core.models import EventKind, HeartbeatRequest
from tests.localhost import free_port
from tests.security import auth_toml, bearer, security_config, served


def far_from_now() -> str:
    """A daily cron twelve hours from now: the config's nightly window is never in force
    while the test runs (at 03:00 UTC a fixed "0 3 * * *" was)."""
    return f"0 {(datetime.now(UTC).hour + 12) % 24} * * *"


NIGHTLY = far_from_now()  # once: the config and the assertions name the same hour


@pytest.fixture
def config(tmp_path: Path) -> Config:
    file = tmp_path / "dashboard.toml"
    file.write_text(
        f"""
[storage]
data_dir = {json.dumps(str(tmp_path / "data"))}

[[components]]
name = "db"
check = {{ type = "tcp", port = {free_port()} }}

[[alerts]]
name = "db-down"
rule = "component db down"

[[maintenance]]
name = "nightly"
components = ["db"]
cron = "{NIGHTLY}"
duration = "30m"
"""
    )
    return load_config(file)


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def test_a_planned_window_is_in_force_kept_across_a_restart_and_ended(config: Config) -> None:
    now = datetime.now(UTC)
    body = {
        "name": "db-upgrade",
        "description": "PostgreSQL 17",
        "components": ["db"],
        "rules": ["db-down"],
        "start": iso(now - timedelta(minutes=1)),
        "end": iso(now + timedelta(hours=2)),
    }
    with runtime_module.running(config) as rt, TestClient(create_api(lambda: rt)) as client:
        before = rt.events.last_id
        made = client.post("/maintenance", json=body)
        assert made.status_code == 201, made.text
        assert (made.json()["active"], made.json()["origin"], made.json()["created_by"]) == (True, "api", "local")
        assert client.get("/components/db").json()["maintenance"] == "db-upgrade"
        audit = [e.data for e in rt.events.since(before, 100) if e.kind is EventKind.AUDIT]
        assert [a["action"] for a in audit] == ["planned maintenance window"]

        again = client.post("/maintenance", json=body)
        assert again.status_code == 409 and "already a maintenance window named 'db-upgrade'" in again.json()["message"]
        unknown = client.post("/maintenance", json=body | {"name": "x", "components": ["web"]})
        assert unknown.status_code == 422 and "no component named 'web'; known components: db" in unknown.text
        past = client.post("/maintenance", json=body | {"name": "x", "end": iso(now - timedelta(seconds=1))})
        assert past.status_code == 422 and "it ends before now" in past.json()["message"]
        backwards = client.post("/maintenance", json=body | {"name": "x", "end": body["start"]})
        assert backwards.status_code == 422 and any("must come after start" in e for e in backwards.json()["errors"])
        naive = client.post("/maintenance", json=body | {"name": "x", "start": "2027-01-01T00:00:00"})
        assert naive.status_code == 422  # a time without an offset means nothing to a server
        assert client.delete("/maintenance/nightly").status_code == 409  # dashboard.toml's
        assert client.delete("/maintenance/nope").status_code == 404

    with runtime_module.running(config) as rt, TestClient(create_api(lambda: rt)) as client:  # restarted
        assert [(w["name"], w["origin"]) for w in client.get("/maintenance").json()] == [
            ("nightly", "config"),
            ("db-upgrade", "api"),
        ]
        assert client.get("/components/db").json()["maintenance"] == "db-upgrade"
        mute = rt.health.maintenance.mute_for({"alertname": "db-down"}, datetime.now(UTC))
        assert mute is not None and mute.id == "db-upgrade"
        before = rt.events.last_id
        assert client.delete("/maintenance/db-upgrade").status_code == 204  # in force: it ends now
        ended = {w["name"]: w for w in client.get("/maintenance").json()}["db-upgrade"]
        assert not ended["active"] and ended["next"] is None
        assert client.get("/components/db").json()["maintenance"] is None
        assert rt.health.maintenance.mute_for({"alertname": "db-down"}, datetime.now(UTC)) is None
        audit = [e.data["action"] for e in rt.events.since(before, 100) if e.kind is EventKind.AUDIT]
        assert audit == ["ended maintenance window early"]
        over = client.delete("/maintenance/db-upgrade")  # over now: kept, as uptime left it out
        assert over.status_code == 409 and "is over" in over.json()["message"]

    with runtime_module.running(config) as rt:  # the window as it ended, with what it covered
        kept = rt.health.maintenance.planned("db-upgrade")
        assert kept is not None and kept.window.end is not None
        assert now < kept.window.end < datetime.now(UTC)
        spans = rt.health.maintenance.uptime_spans("db", now - timedelta(hours=1), datetime.now(UTC))
        assert spans == [(kept.window.start, kept.window.end)]


def test_a_window_that_has_not_begun_is_removed_and_one_that_has_keeps_its_past(config: Config) -> None:
    now = datetime.now(UTC)
    later = {
        "name": "later",
        "components": ["db"],
        "start": iso(now + timedelta(hours=1)),
        "end": iso(now + timedelta(hours=2)),
    }
    with runtime_module.running(config) as rt, TestClient(create_api(lambda: rt)) as client:
        assert client.post("/maintenance", json=later).status_code == 201
        assert client.delete("/maintenance/later").status_code == 204
        assert "later" not in [w["name"] for w in client.get("/maintenance").json()]
        assert client.delete("/maintenance/later").status_code == 404
        assert client.post("/maintenance", json=later).status_code == 201  # the name is free again
    with runtime_module.running(config) as rt:
        assert rt.health.maintenance.planned("later") is not None  # the second one, kept


def test_only_an_operator_plans_or_removes_a_window(tmp_path: Path) -> None:
    config = security_config(tmp_path, extra=auth_toml())
    now = datetime.now(UTC)
    body = {"name": "fleet", "agents": ["*"], "start": iso(now), "end": iso(now + timedelta(hours=1))}
    with runtime_module.running(config) as rt, TestClient(served(config, lambda: rt), base_url="http://127.0.0.1") as c:
        refused = c.post("/api/maintenance", json=body, headers=bearer("viewer"))
        assert refused.status_code == 403 and "operator" in refused.json()["message"]
        made = c.post("/api/maintenance", json=body, headers=bearer("operator"))
        assert made.status_code == 201 and made.json()["created_by"] == "operator-token"
        assert [w["name"] for w in c.get("/api/maintenance", headers=bearer("viewer")).json()] == ["fleet"]
        rt.agents.heartbeat("researcher-1", HeartbeatRequest())
        agent = rt.agents.agent("researcher-1")  # the registry sees the windows planned over the API
        assert agent is not None and agent.maintenance == "fleet"
        assert c.delete("/api/maintenance/fleet", headers=bearer("viewer")).status_code == 403
        assert c.delete("/api/maintenance/fleet", headers=bearer("operator")).status_code == 204
