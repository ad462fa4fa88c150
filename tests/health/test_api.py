"""Components, safety and the overview over the API, in process, with a real
Runtime checking a real HTTP server that a test switches off."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dashboard_core import runtime as runtime_module
from dashboard_core.api import create_api
from dashboard_core.config import load_config
from dashboard_core.runtime import Runtime
from tests.health.conftest import HealthServer
from tests.polling import wait_until


@pytest.fixture
def runtime(http_server: HealthServer, tmp_path: Path) -> Iterator[Runtime]:
    config_file = tmp_path / "dashboard.toml"
    config_file.write_text(
        f"""
[sampler]
interval_seconds = 0.1
history_hours = 1

[storage]
data_dir = {json.dumps(str(tmp_path / "data"))}

[[components]]
name = "web"
description = "a web server the test switches off"
interval_seconds = 0.2
timeout_seconds = 1
down_after = 2
[components.check]
type = "http"
url = "{http_server.url}/health"
json_field = "status"
json_value = "ok"

[agents]
expected = ["researcher-1"]

[alerting]
interval_seconds = 0.1

[[alerts]]
name = "web-down"
rule = "component web down"
severity = "critical"
description = "the web server is gone"

[[alerts]]
name = "cpu-any"
rule = "cpu.total >= 0 for 0s"
severity = "warning"
"""
    )
    with runtime_module.running(load_config(config_file)) as rt:
        yield rt


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_api(lambda: runtime)) as c:
        yield c


def poll(client: TestClient, path: str, ok: Callable[[dict], bool], what: str) -> dict:
    return wait_until(lambda: (body := client.get(path).json()) and ok(body) and body, 30, what)


def test_a_component_goes_down_and_safety_turns_critical(client: TestClient, http_server: HealthServer) -> None:
    web = poll(client, "/components/web", lambda b: b["state"] == "healthy", "web to be healthy")
    assert web["check"].startswith(f"GET {http_server.url}/health expects 200")
    assert web["latency_ms"] is not None and web["performance_percent"] == 100.0
    safety = poll(client, "/dashboard/safety", lambda b: b["status"] == "warning", "the cpu rule to fire")
    assert [a["rule"] for a in safety["firing"]] == ["cpu-any"]

    http_server.set("gone")
    web = poll(client, "/components/web", lambda b: b["state"] == "down", "web to be down")
    assert "connection refused" in web["last_error"] and web["consecutive_failures"] >= 2
    safety = poll(client, "/dashboard/safety", lambda b: b["status"] == "critical", "the web-down rule to fire")
    assert {r["name"]: r["state"] for r in safety["rules"]} == {"web-down": "firing", "cpu-any": "firing"}
    history = client.get("/safety/alerts", params={"rule": "web-down"}).json()
    assert [(a["rule"], a["state"], a["severity"]) for a in history] == [("web-down", "firing", "critical")]

    http_server.set("ok")
    poll(client, "/dashboard/safety", lambda b: b["status"] == "warning", "the web-down alert to resolve")
    poll(client, "/components/web", lambda b: b["state"] == "healthy", "web to recover (its failures leave the window)")
    events = client.get("/events", params={"kind": "component"}).json()["events"]
    assert [e["data"]["to"] for e in events] == ["healthy", "degraded", "down", "degraded", "healthy"]


def test_the_overview_holds_everything_at_once(client: TestClient) -> None:
    def checked(body: dict) -> bool:  # the state and its event come from the monitor's thread
        return body["components"][0]["state"] == "healthy" and any(
            e["kind"] == "component" and e["source"] == "web" for e in body["events"]
        )

    overview = poll(client, "/dashboard/overview", checked, "a check of web and its event")
    assert overview["agents"]["total"] == 1 and overview["agents"]["agents"][0]["state"] == "missing"
    assert overview["safety"] in ("safe", "warning") and overview["suites"] == []
    assert overview["host"]["cpu_cores"] >= 1 and overview["dashboard"]["sampler_running"] is True
    assert [e["id"] for e in overview["events"]] == sorted((e["id"] for e in overview["events"]), reverse=True)


def test_unknown_names_are_404_with_the_known_ones(client: TestClient) -> None:
    for path, says in [
        ("/components/nope", "There is no component named 'nope'. Known components: web."),
        ("/safety/alerts?rule=nope", "There is no alert rule named 'nope'. Known rules: web-down, cpu-any."),
    ]:
        response = client.get(path)
        assert response.status_code == 404 and response.json()["message"] == says
    assert client.post("/components/nope/check").status_code == 404


def test_check_now_answers_at_once(client: TestClient, http_server: HealthServer) -> None:
    before = http_server.requests
    status = client.post("/components/web/check").json()
    assert status["name"] == "web" and http_server.requests > before


def test_check_every_component_now(client: TestClient, http_server: HealthServer) -> None:
    """The worked example of CONTRIBUTING.md, its route (no auth configured here: the local user)."""
    before = http_server.requests
    answer = client.post("/dashboard/components/check")
    assert answer.status_code == 200
    assert [s["name"] for s in answer.json()] == ["web"] and http_server.requests > before
