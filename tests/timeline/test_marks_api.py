"""``GET /api/timeline/marks`` over a real Runtime, in process (ASGI)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from dashboard_core.api import create_api
from dashboard_core.runtime import Runtime


@pytest.fixture
def client(live_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_api(lambda: live_runtime)) as c:
        yield c


def test_a_window_without_runs_has_no_marks(client: TestClient) -> None:
    body = client.get("/timeline/marks", params={"start": "2026-01-01T00:00:00Z"}).json()
    assert body["marks"] == {} and "test_run" in body["kinds"]


def test_a_window_that_ends_before_it_starts_is_refused(client: TestClient) -> None:
    response = client.get("/timeline/marks", params={"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"})
    assert response.status_code == 400
    assert "start" in response.json()["message"]


def test_an_unknown_kind_is_refused_with_the_known_ones(client: TestClient) -> None:
    response = client.get("/timeline/marks", params={"start": "2026-01-01T00:00:00Z", "kind": "bogus"})
    assert response.status_code == 422
    assert "test_run" in str(response.json()["errors"])


def test_a_width_below_a_useful_chart_is_refused(client: TestClient) -> None:
    response = client.get("/timeline/marks", params={"window": "24h", "width": 10})
    assert response.status_code == 422
    assert "width" in str(response.json()["errors"])


def test_marks_come_compact_a_point_without_an_end_and_no_default_fields(
    client: TestClient, live_runtime: Runtime
) -> None:
    """Grouped by kind, epoch ms, and nothing that has its default: a point has no ``end``."""
    from datetime import UTC, datetime

    from dashboard_core.models.annotations import AnnotationRequest
    from dashboard_core.timeline.annotations import Annotations

    at = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    note = Annotations(live_runtime.store).create(AnnotationRequest(start=at, text="v1.2 out"), "ci")
    body = client.get("/timeline/marks", params={"start": "2026-01-01T09:00:00Z", "end": "2026-01-01T11:00:00Z"}).json()

    assert set(body["marks"]) == {"annotation"}
    [point] = body["marks"]["annotation"]
    assert point == {
        "key": f"annotation:{note.id}",
        "start": int(at.timestamp() * 1000),
        "state": "point",
        "colour": point["colour"],
        "label": "v1.2 out",
        "detail": "by ci",
        "source": "ci",
        "href": point["href"],
    }
    assert "end" not in point and "ongoing" not in point and point["href"].startswith("events?kind=annotation")
    assert body["start"] == int(datetime(2026, 1, 1, 9, tzinfo=UTC).timestamp() * 1000)
