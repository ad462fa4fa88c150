"""Agents and events on a real server over real HTTP: heartbeats and the TTL,
Server-Sent Events that replay from Last-Event-ID then go live, the WebSocket,
and a server that stops promptly while a stream is open."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import websockets.sync.client

from tests.e2e.conftest import Server, http_client
from tests.polling import wait_until

pytestmark = pytest.mark.timeout(180)

AGENTS = '\n[agents]\nttl_seconds = 1.5\nexpected = ["researcher-1", "never-comes"]\n'


def beat(server: Server, name: str, **body: object) -> dict:
    with server.client() as client:
        response = client.post(f"/api/agents/{name}/heartbeat", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def sse_events(server: Server, headers: dict[str, str], count: int, timeout: float = 30) -> list[dict]:
    """Read ``count`` events from the stream (each: id, event, data), then hang up."""
    found: list[dict] = []
    current: dict = {}
    deadline = time.monotonic() + timeout
    with http_client(server.url, timeout=timeout) as client:
        with client.stream("GET", "/api/events/stream", headers=headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            for line in response.iter_lines():
                if time.monotonic() > deadline:
                    raise AssertionError(f"only {len(found)} of {count} events within {timeout} s: {found}")
                if line.startswith(("id:", "event:", "data:")):
                    key, _, value = line.partition(": ")
                    current[key] = json.loads(value) if key == "data" else value
                elif line == "" and current:
                    found.append(current)
                    current = {}
                    if len(found) == count:
                        return found
    raise AssertionError("the stream ended")


@pytest.fixture
def agents_server(server_factory: Callable[..., Server]) -> Iterator[Server]:
    yield server_factory(AGENTS)


def test_heartbeats_make_agents_online_then_offline_after_the_ttl(agents_server: Server) -> None:
    answer = beat(agents_server, "researcher-1", status="busy", role="literature review", metrics={"papers_read": 4})
    assert answer["success"] is True and answer["ttl_seconds"] == 1.5
    assert answer["agent"]["state"] == "online" and answer["agent"]["metrics"] == {"papers_read": 4.0}
    with agents_server.client() as client:
        listing = client.get("/api/dashboard/agents").json()
        assert listing["online"] == 1 and listing["total"] == 2
        assert {a["name"]: a["state"] for a in listing["agents"]} == {"researcher-1": "online", "never-comes": "missing"}
        wait_until(
            lambda: client.get("/api/dashboard/agents").json()["agents"][0]["state"] == "offline",
            30,
            "researcher-1 to go offline after its TTL",
        )
        kinds = [(e["source"], e["data"]["to"]) for e in client.get("/api/events", params={"kind": "agent"}).json()["events"]]
        assert kinds == [("researcher-1", "online"), ("researcher-1", "offline")]
        bad = client.post("/api/agents/researcher-1/heartbeat", json={"metrics": {"x": "lots"}})
        assert bad.status_code == 422 and bad.json()["success"] is False
        assert client.post("/api/agents/bad name!/heartbeat", json={}).status_code == 422


def test_sse_replays_from_last_event_id_then_goes_live(agents_server: Server) -> None:
    for name in ("a-1", "a-2", "a-3"):
        beat(agents_server, name)
    with agents_server.client() as client:
        page = client.get("/api/events", params={"since_id": 0}).json()
    ids = [e["id"] for e in page["events"]]
    assert len(ids) == 3 and page["last_id"] == ids[-1]

    # A client that saw the first event comes back: it gets the other two, then a live one.
    got: list[dict] = []
    reader = threading.Thread(target=lambda: got.extend(sse_events(agents_server, {"Last-Event-ID": str(ids[0])}, 3)))
    reader.start()
    wait_until(lambda: len(got) >= 0 and reader.is_alive(), 5, "the reader to start")
    beat(agents_server, "a-4")  # live, after the replay
    reader.join(60)
    assert [int(e["id"]) for e in got][:2] == ids[1:]
    assert [e["data"]["source"] for e in got] == ["a-2", "a-3", "a-4"]
    assert {e["event"] for e in got} == {"agent"}


def test_the_websocket_pushes_events(agents_server: Server) -> None:
    beat(agents_server, "before")
    url = agents_server.url.replace("http://", "ws://") + "/api/ws?since_id=0"
    with websockets.sync.client.connect(url, open_timeout=30) as ws:
        first = json.loads(ws.recv(timeout=30))
        assert first["source"] == "before" and first["kind"] == "agent"
        beat(agents_server, "after")
        second = json.loads(ws.recv(timeout=30))
        assert second["source"] == "after" and second["id"] == first["id"] + 1


def test_the_server_stops_promptly_with_a_stream_open(agents_server: Server) -> None:
    opened = threading.Event()

    def hold_a_stream() -> None:
        try:
            with http_client(agents_server.url, timeout=60) as client:
                with client.stream("GET", "/api/events/stream") as response:
                    opened.set()
                    for _ in response.iter_lines():
                        pass
        except Exception:  # the server went away: that is the point
            pass

    holder = threading.Thread(target=hold_a_stream, daemon=True)
    holder.start()
    assert opened.wait(30)
    started = time.monotonic()
    code = agents_server.stop(timeout=20)
    assert time.monotonic() - started < 10, "the open event stream held the server up"
    assert code in (0, -signal.SIGTERM, 128 + signal.SIGTERM)  # uvicorn re-raises the signal it caught
    assert "Runtime stopped" in agents_server.output()
