"""An annotation posted the way a deploy script posts to Grafana, on a real server over
real HTTP with an operator API token: a viewer's open event stream hears of it (what an
open chart redraws its marks on), and the time axis' marks have it at its time."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from dashboard_core.auth.credentials import new_token
from tests.e2e.conftest import Server, http_client, launch_server
from tests.polling import wait_until

pytestmark = pytest.mark.timeout(300)

VIEWER_TOKEN, VIEWER_DIGEST = new_token()
OPERATOR_TOKEN, OPERATOR_DIGEST = new_token()
CONFIG = f"""
[[auth.tokens]]
name = "wall-screen"
role = "viewer"
token_sha256 = "{VIEWER_DIGEST}"

[[auth.tokens]]
name = "deploy-job"
role = "operator"
token_sha256 = "{OPERATOR_DIGEST}"
"""
GRAFANA_BODY = {"dashboardUID": "abc", "panelId": 1, "time": 1767261600000, "tags": ["deploy"], "text": "v1.2 out"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = launch_server(tmp_path_factory.mktemp("annotations"), CONFIG, headers=bearer(VIEWER_TOKEN))
    try:
        yield srv
    finally:
        srv.stop()


class StreamReader(threading.Thread):
    """Reads a viewer's /api/events/stream from an event id on, keeping each event's data by kind."""

    def __init__(self, server: Server, since_id: int) -> None:
        super().__init__(daemon=True)
        self.server, self.since_id = server, since_id
        self.connected = threading.Event()
        self.annotations: list[dict[str, object]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with http_client(self.server.url, timeout=60, headers=bearer(VIEWER_TOKEN)) as client:
            with client.stream("GET", "/api/events/stream", params={"since_id": self.since_id}) as response:
                self.connected.set()
                kind = ""
                for line in response.iter_lines():
                    if self.stop.is_set():
                        return
                    if line.startswith("event:"):
                        kind = line.partition(": ")[2]
                    elif line.startswith("data:") and kind == "annotation":
                        self.annotations.append(json.loads(line.partition(": ")[2]))


def test_a_grafana_style_post_reaches_an_open_stream_and_the_marks(server: Server) -> None:
    with http_client(server.url, headers=bearer(VIEWER_TOKEN)) as viewer:
        last_id = viewer.get("/api/events", params={"limit": 1}).json()["last_id"]
        refused = viewer.post("/api/annotations", json=GRAFANA_BODY)
        assert refused.status_code == 403, refused.text
    reader = StreamReader(server, last_id)
    reader.start()
    assert reader.connected.wait(60), "the event stream did not answer"
    with http_client(server.url, headers=bearer(OPERATOR_TOKEN)) as job:
        posted = time.monotonic()
        answer = job.post("/api/annotations", json=GRAFANA_BODY)
    assert answer.status_code == 200, answer.text
    assert answer.json()["message"] == "Annotation added"
    note_id = answer.json()["id"]
    wait_until(
        lambda: any(a["data"]["annotation_id"] == note_id for a in reader.annotations),  # type: ignore[index]
        60,
        "the annotation's event on the viewer's open stream",
    )
    heard_after = time.monotonic() - posted  # said, not asserted: no timing thresholds on a shared machine
    reader.stop.set()
    [event] = [a for a in reader.annotations if a["data"]["annotation_id"] == note_id]  # type: ignore[index]
    assert event["source"] == "deploy-job" and event["data"]["action"] == "added", event  # type: ignore[index]
    with http_client(server.url, headers=bearer(VIEWER_TOKEN)) as viewer:
        marks = viewer.get(
            "/api/timeline/marks",
            params={"start": "2026-01-01T09:00:00Z", "end": "2026-01-01T11:00:00Z", "kind": "annotation"},
        ).json()["marks"]["annotation"]  # compact: by kind, epoch ms, a point without an end
    ten = int(datetime(2026, 1, 1, 10, tzinfo=UTC).timestamp() * 1000)
    assert [(m["key"], m["start"], m.get("end"), m["label"]) for m in marks] == [
        (f"annotation:{note_id}", ten, None, "v1.2 out")
    ], f"heard after {heard_after:.2f} s"
