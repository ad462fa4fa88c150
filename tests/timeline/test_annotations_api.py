"""The annotations API over a real Runtime, in process (ASGI): add (our body and
Grafana's), list by window and tags, read, edit, delete; each change audited and
published as an event; bad bodies refused with a sentence; roles through the
server's own middleware with API tokens."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from dashboard_core import runtime as runtime_module
from dashboard_core.api import create_api
from dashboard_core.models import EventKind
from dashboard_core.runtime import Runtime
from tests.security import auth_toml, bearer, security_config, served

GRAFANA_BODY = {
    "dashboardUID": "jcIIG-07z",
    "panelId": 2,
    "time": 1767261600000,  # 2026-01-01T10:00:00Z
    "timeEnd": 1767265200000,  # an hour later
    "tags": ["deploy", "ci"],
    "text": "Deployed v1.2 from CI",
}


@pytest.fixture
def client(live_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_api(lambda: live_runtime)) as c:
        yield c


def events_after(rt: Runtime, after: int, kind: EventKind) -> list[dict[str, object]]:
    return [e.data for e in rt.events.since(after, 1000) if e.kind is kind]


def test_a_grafana_body_is_taken_as_grafana_would_and_answered_as_grafana_does(
    client: TestClient, live_runtime: Runtime
) -> None:
    before = live_runtime.events.last_id
    response = client.post("/annotations", json=GRAFANA_BODY)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "Annotation added" and isinstance(body["id"], int)
    note = body["annotation"]
    assert (note["start"], note["end"]) == ("2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z")
    assert note["tags"] == ["deploy", "ci"] and note["author"] == "local"
    assert events_after(live_runtime, before, EventKind.ANNOTATION)[0]["annotation_id"] == body["id"]
    audit = events_after(live_runtime, before, EventKind.AUDIT)
    assert [(a["action"], str(a["target"]).split()[0]) for a in audit] == [("added annotation", str(body["id"]))]


def test_add_list_edit_and_delete_each_published_and_audited(client: TestClient, live_runtime: Runtime) -> None:
    before = live_runtime.events.last_id
    point = client.post("/annotations", json={"text": "Restarted db", "tags": ["ops"], "start": "2026-02-01T08:00:00Z"})
    span = client.post(
        "/annotations",
        json={"text": "Load test", "tags": ["ops", "load"], "start": "2026-02-01T09:00", "end": "2026-02-01T10:00Z"},
    )
    assert point.status_code == span.status_code == 200, (point.text, span.text)
    point_id, span_id = point.json()["id"], span.json()["id"]
    assert span.json()["annotation"]["start"] == "2026-02-01T09:00:00Z"  # no offset: UTC

    window = {"start": "2026-02-01T00:00:00Z", "end": "2026-02-02T00:00:00Z"}
    listed = client.get("/annotations", params=window).json()
    assert [n["id"] for n in listed] == [point_id, span_id]
    assert [n["id"] for n in client.get("/annotations", params={**window, "tags": ["ops", "load"]}).json()] == [span_id]
    assert (
        client.get("/annotations", params={"start": "2026-02-01T09:30:00Z", "end": "2026-02-01T09:40:00Z"}).json()[0][
            "id"
        ]
        == span_id
    )  # a span that covers the window

    edited = client.patch(f"/annotations/{span_id}", json={"text": "Load test (10k users)", "end": None})
    assert edited.status_code == 200, edited.text
    assert edited.json()["end"] is None and edited.json()["tags"] == ["ops", "load"]  # a point now; tags kept
    assert client.get(f"/annotations/{span_id}").json()["text"] == "Load test (10k users)"

    deleted = client.delete(f"/annotations/{point_id}")
    assert deleted.json() == {"id": point_id, "message": "Annotation deleted"}
    assert client.get(f"/annotations/{point_id}").status_code == 404
    assert client.delete(f"/annotations/{point_id}").status_code == 404

    changes = events_after(live_runtime, before, EventKind.ANNOTATION)
    assert [(c["annotation_id"], c["action"]) for c in changes] == [
        (point_id, "added"),
        (span_id, "added"),
        (span_id, "edited"),
        (point_id, "deleted"),
    ]
    audit = [a["action"] for a in events_after(live_runtime, before, EventKind.AUDIT)]
    assert audit == ["added annotation", "added annotation", "edited annotation", "deleted annotation"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"text": "backwards", "time": 1767265200000, "timeEnd": 1767261600000}, "ends"),
        ({"text": "two starts", "time": 1767265200000, "start": "2026-01-01T00:00:00Z"}, "not both"),
        ({"text": "   "}, "text"),
        ({"tags": ["deploy"]}, "text"),
        ({"text": "far", "start": "1900-01-01T00:00:00Z"}, "1970"),
        ({"text": "bad tag", "tags": [""]}, "tags"),
    ],
)
def test_a_bad_body_is_refused_with_what_is_wrong(client: TestClient, body: dict[str, object], words: str) -> None:
    response = client.post("/annotations", json=body)
    assert response.status_code == 422, response.text
    said = response.json()
    assert said["success"] is False and words in (said["message"] + " ".join(said["errors"]))


def test_an_edit_that_would_end_before_it_starts_is_refused(client: TestClient) -> None:
    made = client.post("/annotations", json={"text": "window", "start": "2026-03-01T10:00:00Z"}).json()["id"]
    response = client.patch(f"/annotations/{made}", json={"end": "2026-03-01T09:00:00Z"})
    assert response.status_code == 422 and "before it starts" in response.json()["message"]
    assert client.get(f"/annotations/{made}").json()["end"] is None


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The API behind the server's middleware with a viewer, an operator and an agent token."""
    config = security_config(tmp_path_factory.mktemp("annotations"), extra=auth_toml())
    with runtime_module.running(config) as rt:
        with TestClient(served(config, lambda: rt), base_url="http://127.0.0.1") as c:
            yield c


def test_a_viewer_reads_but_only_an_operator_token_adds_edits_or_deletes(secured: TestClient) -> None:
    refused = secured.post("/api/annotations", json=GRAFANA_BODY, headers=bearer("viewer"))
    assert refused.status_code == 403 and "operator" in refused.json()["message"]
    assert secured.post("/api/annotations", json=GRAFANA_BODY).status_code == 401  # no token
    added = secured.post("/api/annotations", json=GRAFANA_BODY, headers=bearer("operator"))
    assert added.status_code == 200, added.text
    note = added.json()["annotation"]
    assert note["author"] == "operator-token"
    window = {"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"}
    assert [n["id"] for n in secured.get("/api/annotations", params=window, headers=bearer("viewer")).json()] == [
        note["id"]
    ]
    path = f"/api/annotations/{note['id']}"
    assert secured.patch(path, json={"text": "x"}, headers=bearer("viewer")).status_code == 403
    assert secured.delete(path, headers=bearer("viewer")).status_code == 403
    assert secured.delete(path, headers=bearer("operator")).status_code == 200


def test_listing_defaults_to_the_last_24_hours(client: TestClient) -> None:
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    made = client.post("/annotations", json={"text": "just now", "start": now}).json()["id"]
    old = client.post("/annotations", json={"text": "old", "start": "2020-01-01T00:00:00Z"}).json()["id"]
    ids = [n["id"] for n in client.get("/annotations").json()]
    assert made in ids and old not in ids
