"""The story of a window and its evidence bundle, over a real started Runtime (real
sampler, real store file) and through the API in process (ASGI)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient

from dashboard_core.api import create_api
from dashboard_core.auth.principals import OPEN
from dashboard_core.config.metrics import ApiConfig
from dashboard_core.metrics.fields import FieldTable
from dashboard_core.metrics.frame import Rows
from dashboard_core.metrics.history_read import HistoryRead
from dashboard_core.metrics.windows import Window
from dashboard_core.models import EventKind
from dashboard_core.models.testing import RunStatus, Trigger
from dashboard_core.runtime import Runtime
from dashboard_core.testing.history import RunHistory
from dashboard_core.timeline.bundle import MEMBERS
from dashboard_core.timeline.story import metric_rows, summarise, summary_line, window_story
from dashboard_core.units import utc_iso
from tests.polling import wait_until


@pytest.fixture
def client(live_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_api(lambda: live_runtime)) as c:
        yield c


def sampled_window(rt: Runtime) -> Window:
    """A window in the past that holds the samples taken so far (fixed: two reads agree)."""
    rows = rt.frame.rows(0)
    first = datetime.fromtimestamp(int(rows.ts_ns[0]) / 1e9, UTC)
    last = datetime.fromtimestamp(int(rows.ts_ns[-1]) / 1e9, UTC)
    return Window(first - timedelta(minutes=5), last + timedelta(milliseconds=1))


def a_finished_run(rt: Runtime, suite: str, start: datetime, status: RunStatus) -> int:
    runs = RunHistory(rt.store)
    run = runs.insert(suite, Trigger.API, start, ["pytest"])
    runs.update(run, status=status, started_at=start, ended_at=start + timedelta(seconds=30))
    return run


def test_the_story_groups_the_marks_counts_the_events_and_sums_up_the_host(live_runtime: Runtime) -> None:
    rt = live_runtime
    window = sampled_window(rt)
    inside = a_finished_run(rt, "smoke", window.start + timedelta(minutes=1), RunStatus.FAILED)
    a_finished_run(rt, "smoke", window.start - timedelta(hours=2), RunStatus.PASSED)  # outside the window
    rt.events.publish(EventKind.TEST_RUN, "smoke", "Run finished: failed")

    story = window_story(rt, Window(window.start, datetime.now(UTC)), OPEN)

    assert [(g.kind.value, g.count) for g in story.groups] == [("test_run", 1)]
    assert story.groups[0].label == "Test runs"
    assert story.groups[0].marks[0].key == f"test_run:{inside}"
    assert story.events.get("test_run", 0) >= 1
    cpu = next(m for m in story.metrics if m.name == "cpu.total")
    assert cpu.unit == "%" and cpu.min is not None and cpu.max is not None
    assert cpu.min <= cpu.mean <= cpu.max  # type: ignore[operator]
    assert {"cpu.total", "memory.percent"} <= {m.name for m in story.metrics}
    assert "1 mark (Test runs: 1)" in summary_line(story)
    assert all(row["mean"].endswith("%") for row in metric_rows(story) if "CPU" in row["metric"])


def test_a_window_with_nothing_in_it_says_so() -> None:
    rows = Rows(np.array([], dtype=np.int64), ["cpu.total"], np.empty((0, 1)))
    summaries = summarise(HistoryRead(rows), FieldTable())
    assert [(s.name, s.min, s.mean, s.max) for s in summaries] == [("cpu.total", None, None, None)]


def test_a_tier_reports_its_buckets_own_extremes_not_the_extremes_of_its_means() -> None:
    """A 1-minute bucket holding a 1 s spike to 100 % has a mean near 10 %: the
    maximum must be the bucket's own (kept by the tier), not the mean's."""
    ts = np.array([0, 60_000_000_000], dtype=np.int64)
    means = Rows(ts, ["cpu.total"], np.array([[10.0], [12.0]]))
    lows = Rows(ts, ["cpu.total"], np.array([[1.0], [3.0]]))
    highs = Rows(ts, ["cpu.total"], np.array([[100.0], [20.0]]))
    read = HistoryRead(means, extreme_rows={"min": lows, "max": highs})
    (cpu,) = summarise(read, FieldTable())
    assert (cpu.min, cpu.mean, cpu.max) == (1.0, 11.0, 100.0)


def test_nan_gaps_are_left_out() -> None:
    ts = np.array([0, 1_000_000_000, 2_000_000_000], dtype=np.int64)
    rows = Rows(ts, ["load.1"], np.array([[np.nan], [1.0], [3.0]]))
    (load,) = summarise(HistoryRead(rows), FieldTable())
    assert (load.min, load.mean, load.max) == (1.0, 2.0, 3.0)


def test_the_story_route_answers_for_a_window(client: TestClient, live_runtime: Runtime) -> None:
    window = sampled_window(live_runtime)
    a_finished_run(live_runtime, "api-suite", window.start + timedelta(seconds=10), RunStatus.PASSED)
    params = {"start": utc_iso(window.start, "microseconds"), "end": utc_iso(window.end, "microseconds")}
    body = client.get("/timeline/story", params=params).json()
    assert body["marks"] == 1 and body["groups"][0]["marks"][0]["source"] == "api-suite"
    assert any(m["name"] == "cpu.total" for m in body["metrics"])
    refused = client.get("/timeline/story", params={"start": params["end"], "end": params["start"]})
    assert refused.status_code == 400


def test_the_bundle_holds_the_story_marks_events_and_the_very_csv_of_the_window(
    client: TestClient, live_runtime: Runtime
) -> None:
    rt = live_runtime
    window = sampled_window(rt)
    run = a_finished_run(rt, "smoke", window.start + timedelta(seconds=1), RunStatus.PASSED)
    event = rt.events.publish(EventKind.SYSTEM, "=cmd|' /C calc'!A0", '=HYPERLINK("http://x")')
    # A window that ends just after the event, with every sample of it taken: two reads agree.
    end = event.at + timedelta(milliseconds=1)
    wait_until(lambda: int(rt.frame.rows(0).ts_ns[-1]) > end.timestamp() * 1e9, 30, "a sample after the event")
    window = Window(window.start, end)
    params = {"start": utc_iso(window.start, "microseconds"), "end": utc_iso(window.end, "microseconds")}

    response = client.get("/timeline/bundle.zip", params=params)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith('attachment; filename="window_')
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.namelist() == list(MEMBERS)
    story = json.loads(archive.read("story.json"))
    assert story["marks"] == 1 and story["groups"][0]["marks"][0]["key"] == f"test_run:{run}"
    marks = list(csv.DictReader(io.StringIO(archive.read("marks.csv").decode())))
    assert [(m["key"], m["state"], m["href"]) for m in marks] == [
        (f"test_run:{run}", "passed", f"tests?suite=smoke&run={run}")
    ]
    assert marks[0]["start"].endswith("Z")
    events = list(csv.DictReader(io.StringIO(archive.read("events.csv").decode())))
    mine = next(e for e in events if e["id"] == str(event.id))
    assert mine["message"].startswith("'=") and mine["source"].startswith("'=")  # no formula in a spreadsheet
    # metrics.csv is what the history CSV of the same window sends, byte for byte
    same = client.get("/metrics/history.csv", params=params)
    assert archive.read("metrics.csv") == same.content
    assert same.content.count(b"\n") > 3 and b"cpu.total" in same.content.splitlines()[0]


def test_a_bundle_past_the_csv_row_limit_is_refused_before_it_is_built(
    client: TestClient, live_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = live_runtime.config
    monkeypatch.setattr(live_runtime, "config", config.model_copy(update={"api": ApiConfig(csv_max_rows=1)}))
    window = sampled_window(live_runtime)
    params = {"start": utc_iso(window.start, "microseconds"), "end": utc_iso(window.end, "microseconds")}
    response = client.get("/timeline/bundle.zip", params=params)
    assert response.status_code == 413
    assert "csv_max_rows" in response.json()["message"]
