"""The agent registry over the API as the server serves it (behind its own
middleware, with API tokens), in process, over a real Runtime: an admin removes
an agent (audited), no other role may; heartbeats are bounded (metric names,
their number, the body's size), and a refused one leaves nothing behind."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dashboard_core import runtime as runtime_module
from dashboard_core.config import load_config
from dashboard_core.models import MAX_HEARTBEAT_BYTES, EventKind
from dashboard_core.runtime import Runtime
from tests.security import served

TOKENS = {role: f"{role}-token-for-the-agents-api" for role in ("viewer", "operator", "admin", "agent")}


def tokens_toml() -> str:
    return "".join(
        f'\n[[auth.tokens]]\nname = "{role}-token"\nrole = "{role}"\n'
        f'token_sha256 = "{hashlib.sha256(token.encode()).hexdigest()}"\n'
        for role, token in TOKENS.items()
    )


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    path = tmp_path / "dashboard.toml"
    path.write_text(
        f"""
[sampler]
interval_seconds = 0.2
history_hours = 1

[storage]
data_dir = {json.dumps(str(tmp_path / "data"))}

[agents]
expected = ["researcher-1"]
{tokens_toml()}
""",
        encoding="utf-8",
    )
    with runtime_module.running(load_config(path)) as rt:
        yield rt


@pytest.fixture
def api(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(served(runtime.config, lambda: runtime), base_url="http://127.0.0.1") as client:
        yield client


def as_(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[role]}"}


def stored(rt: Runtime) -> set[str]:
    return {row["name"] for row in rt.store.all("SELECT name FROM agents")}


def test_an_admin_removes_an_agent_and_it_is_audited(api: TestClient, runtime: Runtime) -> None:
    assert api.post("/api/agents/helper-x/heartbeat", json={"role": "r"}, headers=as_("agent")).status_code == 200
    for role in ("viewer", "operator", "agent"):
        refused = api.delete("/api/agents/helper-x", headers=as_(role))
        assert refused.status_code == 403, (role, refused.text)
        assert refused.json()["success"] is False
    assert "helper-x" in stored(runtime) and runtime.agents.agent("helper-x") is not None
    assert api.delete("/api/agents/helper-x").status_code == 401  # no token at all

    removed = api.delete("/api/agents/helper-x", headers=as_("admin"))
    assert removed.status_code == 200, removed.text
    assert removed.json()["name"] == "helper-x" and removed.json()["role"] == "r"
    assert runtime.agents.agent("helper-x") is None and "helper-x" not in stored(runtime)
    listing = api.get("/api/dashboard/agents", headers=as_("viewer")).json()
    assert [a["name"] for a in listing["agents"]] == ["researcher-1"]
    audit = runtime.events.latest(1, kinds=[EventKind.AUDIT])[0]
    assert audit.data == {
        "who": "admin-token",
        "role": "admin",
        "action": "removed agent",
        "target": "helper-x",
        "from": "testclient",
    }

    unknown = api.delete("/api/agents/helper-x", headers=as_("admin"))
    assert unknown.status_code == 404
    assert unknown.json()["message"] == "There is no agent named 'helper-x' (GET /api/dashboard/agents lists them)."
    expected = api.delete("/api/agents/researcher-1", headers=as_("admin"))
    assert expected.status_code == 409 and "agents.expected" in expected.json()["message"]
    assert api.delete("/api/agents/bad name!", headers=as_("admin")).status_code == 422
    assert len(runtime.events.latest(10, kinds=[EventKind.AUDIT])) == 1  # refusals change nothing


def heartbeat(api: TestClient, name: str, body: object) -> tuple[int, dict]:
    headers = {**as_("agent"), "Content-Type": "application/json"}
    answer = api.post(f"/api/agents/{name}/heartbeat", content=json.dumps(body), headers=headers)
    return answer.status_code, answer.json()


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        # What filled memory and disk: 50 names of 19,002 characters (950 KB, under auth.max_body_bytes).
        ({"metrics": {f"{n:02d}" + "x" * 19_000: 1.0 for n in range(50)}}, 413, f"at most {MAX_HEARTBEAT_BYTES:,}"),
        ({"metrics": {f"m{n}": n for n in range(51)}}, 422, "at most 50 items"),
        ({"metrics": {"x" * 101: 1.0}}, 422, "at most 100 characters"),
        ({"metrics": {"": 1.0}}, 422, "at least 1 character"),
        ({"task": "t" * 1001}, 422, "at most 1000 characters"),
    ],
    ids=["huge-names", "51-metrics", "long-name", "empty-name", "long-task"],
)
def test_a_heartbeat_too_big_is_refused_and_nothing_is_kept(
    api: TestClient, runtime: Runtime, body: object, status: int, says: str
) -> None:
    last = runtime.events.last_id
    code, answer = heartbeat(api, "researcher-1", body)
    assert code == status and answer["success"] is False
    assert says in answer["message"] + " ".join(answer["errors"]), answer
    assert stored(runtime) == set() and runtime.agents.agent("researcher-1").state.value == "missing"  # type: ignore[union-attr]
    assert runtime.events.last_id == last


def test_the_largest_heartbeat_the_bounds_allow_is_accepted(api: TestClient, runtime: Runtime) -> None:
    body = {
        "status": "s" * 64,
        "role": "r" * 200,
        "task": "t" * 1000,
        "metrics": {f"{n:02d}" + "m" * 98: float(n) for n in range(50)},
    }
    assert len(json.dumps(body)) < MAX_HEARTBEAT_BYTES
    code, answer = heartbeat(api, "researcher-1", body)
    assert code == 200, answer
    assert len(answer["agent"]["metrics"]) == 50 and "researcher-1" in stored(runtime)


def test_the_openapi_document_says_the_bounds(api: TestClient) -> None:
    doc = api.get("/api/openapi.json", headers=as_("viewer")).json()
    metrics = doc["components"]["schemas"]["HeartbeatRequest"]["properties"]["metrics"]
    assert metrics["maxProperties"] == 50
    assert metrics["propertyNames"] == {"minLength": 1, "maxLength": 100}
    beat = doc["paths"]["/agents/{name}/heartbeat"]["post"]
    assert str(MAX_HEARTBEAT_BYTES) in doc["components"]["schemas"]["HeartbeatRequest"]["description"].replace(",", "")
    assert "413" in beat["responses"] and "32,768 bytes" in beat["responses"]["413"]["description"]
    remove = doc["paths"]["/agents/{name}"]["delete"]
    assert {"403", "404", "409"} <= set(remove["responses"])
