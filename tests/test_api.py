"""The REST API over a real Runtime, in process (ASGI), with typed error bodies."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from dashboard_core.api import create_api
from dashboard_core.config import ApiConfig, Config
from dashboard_core.runtime import Runtime


@pytest.fixture
def client(live_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_api(lambda: live_runtime)) as c:
        yield c


def test_health(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["success"] is True and body["message"] == "ok"
    assert pd.Timestamp(body["timestamp"]).tzinfo is not None


def test_health_while_starting_says_so() -> None:
    with TestClient(create_api(lambda: None)) as c:
        body = c.get("/health").json()
        assert body["success"] is False and body["message"].startswith("starting")
        latest = c.get("/metrics/latest")
        assert latest.status_code == 503
        assert latest.json() == {"success": False, "message": latest.json()["message"], "errors": []}
        assert "not running yet" in latest.json()["message"]


def test_info_lists_the_endpoints(client: TestClient) -> None:
    info = client.get("/").json()
    paths = {e["path"] for e in info["endpoints"]}
    assert {"/health", "/metrics/latest", "/metrics/history.csv", "/dashboard/overview"} <= paths
    assert info["version"] and info["docs"] == "/docs"


def test_latest_and_fields(client: TestClient, live_runtime: Runtime) -> None:
    latest = client.get("/metrics/latest").json()
    assert {"cpu.total", "memory.percent", "load.1", "proc.count"} <= latest["values"].keys()
    fields = {f["name"]: f for f in client.get("/metrics/fields").json()}
    assert fields["nic.recv"]["kind"] == "rate" and fields["nic.recv"]["label"] == "interface"
    assert fields["memory.percent"]["unit"] == "%"


def test_history_csv(client: TestClient, live_runtime: Runtime) -> None:
    response = client.get("/metrics/history.csv", params={"window": "15m"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'attachment; filename="metrics_' in response.headers["content-disposition"]
    df = pd.read_csv(io.BytesIO(response.content))
    assert df.columns[0] == "timestamp"
    assert len(df) == int(response.headers["x-rows"]) >= 3
    assert df["timestamp"].str.endswith("Z").all()


def test_history_csv_by_start_and_end(client: TestClient, live_runtime: Runtime) -> None:
    index = live_runtime.history().index
    start, end = index[1], index[2]
    response = client.get("/metrics/history.csv", params={"start": start.isoformat(), "end": end.isoformat()})
    df = pd.read_csv(io.BytesIO(response.content))
    stamps = pd.to_datetime(df["timestamp"], utc=True, format="ISO8601")
    assert len(df) == 2
    assert stamps.min() >= start.floor("ms") and stamps.max() <= end


@pytest.mark.parametrize(
    ("params", "status", "text"),
    [
        ({"window": "soon"}, 400, "not a span"),
        ({"start": "2026-11-25T10:00:00Z", "end": "2026-11-25T09:00:00Z"}, 400, "is not before end"),
    ],
)
def test_bad_windows_are_400_with_a_sentence(
    client: TestClient, params: dict[str, str], status: int, text: str
) -> None:
    response = client.get("/metrics/history.csv", params=params)
    assert response.status_code == status
    assert response.json()["success"] is False and text in response.json()["message"]


def test_too_many_rows_is_413(fast_config: Config) -> None:
    rt = Runtime(fast_config.model_copy(update={"api": ApiConfig(csv_max_rows=1)}))
    rt.sampler.sample_once()
    rt.sampler.sample_once()
    with TestClient(create_api(lambda: rt)) as c:
        response = c.get("/metrics/history.csv", params={"window": "1h"})
    assert response.status_code == 413
    assert "csv_max_rows" in response.json()["message"]


def test_invalid_query_is_422_with_each_error(client: TestClient) -> None:
    response = client.get("/metrics/processes", params={"by": "disk", "n": 0})
    assert response.status_code == 422
    body = response.json()
    assert body["success"] is False
    assert any(e.startswith("query.by") for e in body["errors"]) and any(
        e.startswith("query.n") for e in body["errors"]
    )


def test_overview_and_processes(client: TestClient, live_runtime: Runtime) -> None:
    overview = client.get("/dashboard/overview").json()
    assert overview["host"]["cpu_cores"] >= 1
    assert overview["dashboard"]["sampler_running"] is True
    assert overview["dashboard"]["capacity"] == live_runtime.frame.capacity
    top = client.get("/metrics/processes", params={"by": "memory", "n": 3}).json()
    assert len(top) == 3 and top[0]["rss"] >= top[1]["rss"] >= top[2]["rss"]


def test_docs_work_offline(client: TestClient) -> None:
    html = client.get("/docs").text
    assert "swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert client.get("/openapi.json").json()["info"]["title"] == "dashboard API"


def test_every_operation_is_in_one_described_area() -> None:
    """The docs group operations by tag: one tag each, every tag described and used, and
    the API's description names every area (an untagged route would land in "default")."""
    from dashboard_core.routes.tags import Tag

    doc = create_api(lambda: None).openapi()
    described = {t["name"]: t["description"] for t in doc["tags"]}
    assert list(described) == [t.value for t in Tag]
    assert all(len(text) > 20 for text in described.values()), described
    used: set[str] = set()
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            assert len(operation.get("tags", [])) == 1, f"{method.upper()} {path}: tags {operation.get('tags')}"
            assert operation["tags"][0] in described, f"{method.upper()} {path}: unknown tag {operation['tags']}"
            used.add(operation["tags"][0])
    assert used == set(described), f"tags no operation carries: {set(described) - used}"
    for name in described:
        assert f"**{name}**" in doc["info"]["description"], f"the API's description leaves out {name}"
