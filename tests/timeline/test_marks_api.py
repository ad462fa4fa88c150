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
    assert body["marks"] == [] and "test_run" in body["kinds"]


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
