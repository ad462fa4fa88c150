"""The live cards' and charts' feed (``/api/ui/*``): whole once, then only what is new,
against a real running Runtime through the API in process; the tier tail against
buckets computed the way the store's writer computes them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from dashboard_core.api import create_api
from dashboard_core.metrics.charts import CHARTS_BY_KEY
from dashboard_core.metrics.frame import RollingFrame
from dashboard_core.metrics.history_read import HistoryReader
from dashboard_core.metrics.tiers import Tier, bucket
from dashboard_core.metrics.view_state import MetricsView, parse_view
from dashboard_core.metrics.windows import Window
from dashboard_core.routes.live import PLOTLY_JS, PLOTLY_JS_VERSION
from dashboard_core.runtime import Runtime
from dashboard_core.units import utc_iso
from tests.polling import wait_until


@pytest.fixture
def client(live_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_api(lambda: live_runtime)) as c:
        yield c


def get(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def test_cards_come_whole_then_only_new_points(client: TestClient, live_runtime: Runtime) -> None:
    whole = get(client, "/ui/cards")
    assert whole["whole"] is True
    cards = {c["label"]: c for c in whole["cards"]}
    assert {"CPU", "Memory", "Swap", "Load, 1 min", "Processes"} <= set(cards)
    assert cards["CPU"]["help"] and cards["CPU"]["value"].endswith("%")
    assert 1 <= len(cards["CPU"]["spark"]) <= 60
    since = whole["t"]
    assert since <= live_runtime.history().index[-1].value // 1_000_000  # a sample's time (more may have come)

    newer = wait_until(
        lambda: (b := get(client, "/ui/cards", since=since))["t"] > since and b, 30, "a sample after the first read"
    )
    assert newer["whole"] is False and all("help" not in c for c in newer["cards"])
    # Only the points after `since`: as many as samples were taken since (a few), not the whole line.
    taken = len(live_runtime.frame.to_frame(pd.Timestamp(since + 1, unit="ms", tz="UTC")))
    assert 1 <= len(next(c for c in newer["cards"] if c["label"] == "CPU")["spark"]) <= taken
    same = get(client, "/ui/cards", since=10**15)  # the future: nothing new
    assert all(c["spark"] == [] for c in same["cards"])


def test_charts_come_whole_with_what_it_takes_to_extend_them(client: TestClient, live_runtime: Runtime) -> None:
    body = get(client, "/ui/charts", window="15m", tz="Europe/Berlin")
    assert body["window"]["live"] is True and body["window"]["span"] == 15 * 60_000
    assert body["axis"][1] - body["axis"][0] == 15 * 60_000  # the x axis spans the window chosen
    assert body["step"] == "full" and body["step_ms"] == 100
    # The runtime started seconds ago: history begins inside the window, and the page says so.
    assert body["history_starts"] and body["first"] > body["window"]["start"]
    charts = {c["key"]: c for c in body["charts"]}
    assert {"cpu", "memory", "load"} <= set(charts)
    columns = set(live_runtime.frame.columns)
    for chart in body["charts"]:
        for trace in chart["figure"]["data"]:
            drawn = trace["meta"] if isinstance(trace["meta"], list) else [trace["meta"]]
            assert set(drawn) <= columns  # every trace says which column it draws
    # Berlin is an hour or two ahead of UTC: the axis shows the viewer's wall time.
    assert body["offset"] in (3_600_000, 7_200_000)

    fixed = get(
        client,
        "/ui/charts",
        start=utc_iso(live_runtime.history().index[0], "auto"),
        end=utc_iso(pd.Timestamp.now("UTC"), "auto"),
    )
    assert fixed["window"]["live"] is False and fixed["history_starts"] is None


def test_points_are_the_rows_after_since(client: TestClient, live_runtime: Runtime) -> None:
    body = get(client, "/ui/charts", window="15m")
    since = body["last"]
    rows = wait_until(
        lambda: (r := get(client, "/ui/charts/points", since=since, step="full"))["t"] and r, 30, "a newer sample"
    )
    assert min(rows["t"]) > since and rows["x"] == rows["t"]  # UTC: axis and clock agree
    assert "cpu.total" in rows["columns"] and len(rows["columns"]["cpu.total"]) == len(rows["t"])
    assert not any(c.startswith("proc.") for c in rows["columns"])  # only what charts draw


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"since": 0, "step": "3s"}, "step '3s' is not a resolution of this dashboard: full, 10s, 1m"),
        ({"since": 0, "tz": "Mars/Olympus"}, "tz 'Mars/Olympus' is not an IANA time zone"),
        ({"step": "full"}, "since"),
    ],
)
def test_bad_points_queries_say_what_is_wrong(client: TestClient, params: dict[str, Any], says: str) -> None:
    response = client.get("/ui/charts/points", params=params)
    assert response.status_code in (400, 422)
    assert says in response.text


# plotly.js-cartesian-dist-min 4.1.1's plotly-cartesian.min.js (dashboard_core/assets/README.md).
CARTESIAN_SHA256 = "79542150855a52c567260e3137095dbe2b744e6d702a5cabe67da246942fba7a"


def test_the_chart_library_is_the_cartesian_bundle_served_here_and_kept_by_the_browser(client: TestClient) -> None:
    """The charts draw only scatter and heatmap traces: plotly.js's cartesian bundle
    (1.5 MB to parse, not the full 4.8 MB), gzipped, its version in its path."""
    response = client.get(PLOTLY_JS, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["content-encoding"] == "gzip"
    assert hashlib.sha256(response.content).hexdigest() == CARTESIAN_SHA256  # httpx has unzipped it
    assert "immutable" in response.headers["cache-control"]
    assert PLOTLY_JS == f"/ui/plotly-cartesian-{PLOTLY_JS_VERSION}.min.js"


def test_the_chart_library_is_the_plotly_js_the_python_package_builds_figures_for() -> None:
    """After an upgrade of ``plotly`` the vendored bundle must follow (its README says how)."""
    with resources.files("plotly").joinpath("package_data/plotly.min.js").open("rb") as script:
        bundled = re.search(rb"plotly\.js v(\S+)", script.read(200))
    assert bundled is not None and bundled.group(1).decode() == PLOTLY_JS_VERSION


T0 = 1_800_000_000  # a multiple of 60 s


def test_a_tier_tail_resends_the_bucket_that_may_have_filled() -> None:
    """At a tier's resolution the tail starts at the bucket holding ``since`` (it was
    drawn while still filling) and holds the means the tier itself would store."""
    frame = RollingFrame(600)
    rng = np.random.default_rng(7)
    values = rng.uniform(0, 100, 95)
    for i, v in enumerate(values):
        frame.append(int((T0 + i) * 1e9), {"cpu.total": float(v)})
    tier = Tier(seconds=10, keep_days=1, stats=("mean", "min", "max"))
    reader = HistoryReader(frame, None, sample_interval=1)
    since_ms = (T0 + 42) * 1000  # inside the bucket starting at +40
    tail = reader.tail(since_ms, tier)
    assert tail.ts_ns[0] == (T0 + 40) * 1_000_000_000 and len(tail) == 6  # +40 ... +90
    ts = ((T0 + np.arange(95)) * 1e9).astype(np.int64)
    want = bucket(ts, values.reshape(-1, 1), ["cpu.total"], 10_000).stat("mean")[4:, 0]
    np.testing.assert_allclose(tail.column("cpu.total"), want, rtol=1e-6)
    assert len(reader.tail(since_ms, None)) == 95 - 43  # every sample after since
    frame.append(int((T0 + 95) * 1e9) + 400_000, {"cpu.total": 1.0})  # at +95.0004 s
    assert len(reader.tail((T0 + 94) * 1000, None)) == 1  # it is after +94 s
    assert len(reader.tail((T0 + 95) * 1000, None)) == 0  # the browser has it: `since` is its time in whole ms


def test_a_view_round_trips_through_its_url() -> None:
    fixed = Window(pd.Timestamp("2026-12-01T10:00:00Z"), pd.Timestamp("2026-12-01T10:30:00.250Z"))
    for view in (MetricsView("1h"), MetricsView("15m", fixed, "memory")):
        assert parse_view(view.params()) == view
    assert MetricsView("15m", fixed).params() == {"from": "2026-12-01T10:00:00Z", "to": "2026-12-01T10:30:00.250Z"}


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"window": "2w"}, "window '2w' is not one of 5m, 15m"),
        ({"from": "2026-12-01T10:00:00Z"}, "give both from and to"),
        ({"from": "yesterday", "to": "today"}, "is not a date and time"),
        ({"chart": "gpu"}, "chart 'gpu' is not one of cpu,"),
    ],
)
def test_a_bad_url_is_named_and_falls_back(params: dict[str, str], says: str) -> None:
    view = parse_view(params)
    assert says in view.problem
    assert view.fixed is None and view.preset == "15m" and view.chart is None
    assert ("instead" in view.problem) == ("chart" not in params)


def test_every_chart_key_is_a_chart() -> None:
    assert parse_view({"chart": next(iter(CHARTS_BY_KEY))}).problem == ""
