"""Audit events reach admins only, on a real server over real HTTP: the
overview, a page of events, Server-Sent Events and the WebSocket (its history
and live), for a viewer logged in with a password (a session cookie), an
operator token and an admin token.

Audit events come from real logins (each one is audited, with the name and the
address); the visible events between them from heartbeats. A reader that may
not see audit events reads until a visible marker event that follows them, so
nothing waits for an event that should not come.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import websockets.sync.client

from dashboard_core.auth.credentials import hash_password, new_token
from tests.e2e.conftest import Server, http_client, launch_server

pytestmark = pytest.mark.timeout(300)

PASSWORD = "viewer-pass-1"
OPERATOR_TOKEN, OPERATOR_DIGEST = new_token()
ADMIN_TOKEN, ADMIN_DIGEST = new_token()
CONFIG = f"""
[agents]
ttl_seconds = 86400  # no agent goes offline during the tests: no event but the tests' own

[[auth.users]]
name = "vera"
role = "viewer"
password_hash = "{hash_password(PASSWORD)}"

[[auth.tokens]]
name = "ci"
role = "operator"
token_sha256 = "{OPERATOR_DIGEST}"

[[auth.tokens]]
name = "auditor"
role = "admin"
token_sha256 = "{ADMIN_DIGEST}"
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = launch_server(tmp_path_factory.mktemp("visibility"), CONFIG, headers=bearer(ADMIN_TOKEN))
    try:
        yield srv
    finally:
        srv.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def log_in(server: Server) -> str:
    """A real login (an audit event naming vera and her address); the session cookie."""
    with http_client(server.url, timeout=60, follow_redirects=False, headers={"Origin": server.url}) as c:
        answer = c.post("/auth/login", data={"name": "vera", "password": PASSWORD, "next": "/"})
        assert answer.status_code == 303, answer.text
        return c.cookies["dashboard_session"]


def readers(server: Server) -> dict[str, dict[str, str]]:
    """The request headers of each reader: a viewer's session, an operator's and an admin's token."""
    return {
        "viewer": {"Cookie": f"dashboard_session={log_in(server)}", "Origin": server.url},
        "operator": bearer(OPERATOR_TOKEN),
        "admin": bearer(ADMIN_TOKEN),
    }


def beat(server: Server, name: str) -> int:
    """A heartbeat of a new agent: a visible event (its first heartbeat); that event's id."""
    with http_client(server.url, headers=bearer(OPERATOR_TOKEN)) as c:
        assert c.post(f"/api/agents/{name}/heartbeat", json={}).status_code == 200
        page = c.get("/api/events", params={"kind": "agent", "since_id": 0, "limit": 1000}).json()["events"]
    return next(e["id"] for e in page if e["source"] == name)


def last_id(server: Server) -> int:
    with http_client(server.url, headers=bearer(ADMIN_TOKEN)) as c:
        return int(c.get("/api/events", params={"limit": 1}).json()["last_id"])


def kinds(events: list[dict[str, Any]]) -> set[str]:
    return {e["kind"] for e in events}


def test_the_overview_and_a_page_of_events_hold_audit_events_for_admins_only(server: Server) -> None:
    first = beat(server, "page-start")
    for n in range(4):  # a visible event, then audit events after it (the newest events are logins)
        beat(server, f"page-{n}")
        for _ in range(3):
            log_in(server)
    for role, headers in readers(server).items():
        with http_client(server.url, headers=headers) as c:
            overview = c.get("/api/dashboard/overview")
            assert overview.status_code == 200, overview.text
            latest = overview.json()["events"]
            page = c.get("/api/events", params={"since_id": first, "limit": 3}).json()["events"]
            asked = c.get("/api/events", params={"since_id": 0, "kind": "audit"}).json()["events"]
        if role == "admin":
            assert [e["kind"] for e in latest[:5]] == ["audit"] * 4 + ["agent"], latest
            assert latest[0]["data"]["who"] == "vera" and latest[0]["data"]["action"] == "login"
            assert [e["kind"] for e in page] == ["agent", "audit", "audit"]
            assert len(asked) >= 12
        else:
            assert "audit" not in kinds(latest), (role, latest)
            assert [e["source"] for e in latest[:4]] == ["page-3", "page-2", "page-1", "page-0"], (role, latest)
            # a page of 3 is 3 events this reader may see, though audit events lie between them
            assert [e["source"] for e in page] == ["page-0", "page-1", "page-2"], (role, page)
            assert asked == [], (role, asked)


def sse(server: Server, headers: dict[str, str], since_id: int, timeout: float = 60) -> Iterator[dict]:
    """The events the stream sends after ``since_id``, as they come (for ``timeout`` seconds at most)."""
    current: dict = {}
    deadline = time.monotonic() + timeout
    with http_client(server.url, timeout=timeout, headers=headers) as client:
        with client.stream("GET", "/api/events/stream", params={"since_id": since_id}) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if time.monotonic() > deadline:
                    raise AssertionError(f"the stream gave nothing more within {timeout} s")
                if line.startswith(("event:", "data:")):
                    key, _, value = line.partition(": ")
                    current[key] = json.loads(value) if key == "data" else value
                elif line == "" and current:
                    yield current["data"]
                    current = {}
    raise AssertionError("the stream ended")


def until(events: Iterator[dict], source: str) -> list[dict]:
    """Events up to (and with) the first one about ``source``."""
    found = []
    for event in events:
        found.append(event)
        if event["source"] == source:
            return found
    raise AssertionError(f"no event about {source!r}: {found}")


def ws_url(server: Server, since_id: int | None = None) -> str:
    query = "" if since_id is None else f"?since_id={since_id}"
    return server.url.replace("http://", "ws://") + "/api/ws" + query


def ws_read(ws: Any, source: str, timeout: float = 60) -> list[dict]:
    """The messages the WebSocket sends up to (and with) the first event about ``source``."""
    found: list[dict] = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no event about {source!r} within {timeout} s: {found}")
        found.append(json.loads(ws.recv(timeout=left)))
        if found[-1]["source"] == source:
            return found


def test_streams_and_the_websocket_send_audit_events_to_admins_only(server: Server) -> None:
    headers = readers(server)
    start = last_id(server)
    log_in(server)
    log_in(server)
    beat(server, "history-marker")
    for role, h in headers.items():
        replayed = until(sse(server, h, start), "history-marker")
        with websockets.sync.client.connect(ws_url(server, start), open_timeout=30, additional_headers=h) as ws:
            history = ws_read(ws, "history-marker")
        expected = {"audit", "agent"} if role == "admin" else {"agent"}
        assert kinds(replayed) == expected, (role, replayed)
        assert kinds(history) == expected, (role, history)
        if role == "admin":
            assert sum(e["kind"] == "audit" for e in history) == 2

    # Live: each reader has had the event before the login (it follows the log's end) when the login happens.
    before = last_id(server)
    with ExitStack() as stack:
        connections = {
            role: stack.enter_context(
                websockets.sync.client.connect(ws_url(server, before), open_timeout=30, additional_headers=h)
            )
            for role, h in headers.items()
        }
        beat(server, "live-open")
        for ws in connections.values():
            assert [e["source"] for e in ws_read(ws, "live-open")] == ["live-open"]
        log_in(server)
        beat(server, "live-marker")
        for role, ws in connections.items():
            live = ws_read(ws, "live-marker")
            if role == "admin":
                assert [e["kind"] for e in live] == ["audit", "agent"], live
                assert live[0]["data"]["who"] == "vera" and live[0]["data"]["from"] == "127.0.0.1"
            else:
                assert [e["source"] for e in live] == ["live-marker"], (role, live)

    for role, h in headers.items():  # the same for Server-Sent Events
        stream = sse(server, h, last_id(server))
        beat(server, f"sse-open-{role}")
        assert [e["source"] for e in until(stream, f"sse-open-{role}")] == [f"sse-open-{role}"]
        log_in(server)
        beat(server, f"sse-marker-{role}")
        live = until(stream, f"sse-marker-{role}")
        stream.close()
        assert [e["kind"] for e in live] == (["audit", "agent"] if role == "admin" else ["agent"]), (role, live)
