"""Marks drawn on server-side figures: bands, markers, hover text and links, in the
viewer's time zone, on a Plotly Figure and on a plain figure dict alike."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from dashboard_core.app.urls import href, parse_href
from dashboard_core.metrics.charts import CHARTS_BY_KEY, figure_dict
from dashboard_core.models.testing import RunStatus, Trigger
from dashboard_core.store import open_store
from dashboard_core.testing.charts import history_figure
from dashboard_core.testing.history import RunHistory
from dashboard_core.timeline.figure_marks import (
    MARK_TAG,
    MAX_DRAWN,
    Run,
    RunAxis,
    add_marks,
    clicked_href,
    elsewhere,
    hidden_after,
    history_axis,
    offered_kinds,
    shown_kinds,
)
from dashboard_core.timeline.marks import GOOD, NOTE, Mark, MarkKind, marks_between
from tests.metrics.test_charts import field_table

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BERLIN = "Europe/Berlin"  # UTC+1 in December


def span(minutes: float = 2, kind: MarkKind = MarkKind.TEST_RUN, key: str = "test_run:7", **more: object) -> Mark:
    fields: dict[str, object] = {
        "kind": kind,
        "key": key,
        "start": T0,
        "end": T0 + timedelta(minutes=minutes),
        "state": "passed",
        "colour": GOOD,
        "label": "Test run 7 of smoke: passed",
        "detail": "3 passed, 0 failed",
        "source": "smoke",
        "href": "tests?suite=smoke&run=7",
    }
    return Mark.model_validate(fields | more)


def point() -> Mark:
    return Mark(
        kind=MarkKind.ANNOTATION,
        key="annotation:1",
        start=T0 + timedelta(minutes=5),
        state="note",
        colour=NOTE,
        label="Deployed <v2>",
        source="ci",
        href="events?kind=annotation",
    )


def line_figure() -> dict:
    """A Metrics chart as the fleet view draws it (a plain dict, epoch-ms x)."""
    ts = pd.date_range(T0 - timedelta(minutes=1), periods=20, freq="30s")
    frame = pd.DataFrame({"cpu.total": [float(i) for i in range(20)]}, index=ts)
    drawn = figure_dict(CHARTS_BY_KEY["cpu"], frame, field_table(), BERLIN)
    assert drawn is not None
    return drawn


def marks_trace(figure: dict, kind: str) -> dict:
    return next(t for t in figure["data"] if t.get("name") == "marks" and t["type"] == kind)


def test_a_span_is_a_band_in_the_viewers_time_with_a_hover_target_that_links_to_it() -> None:
    figure = add_marks(line_figure(), [span()], BERLIN)

    band = figure["layout"]["shapes"][-1]
    assert (band["x0"], band["x1"]) == ("2026-12-01 13:00:00.000", "2026-12-01 13:02:00.000")
    assert band["yref"] == "paper" and (band["y0"], band["y1"]) == (0, 1)
    assert band["fillcolor"] == GOOD and band["layer"] == "above" and 0 < band["opacity"] < 1
    bar = marks_trace(figure, "bar")
    assert bar["x"] == ["2026-12-01 13:01:00.000"] and bar["width"] == [120_000.0]  # ms on a date axis
    assert bar["customdata"] == [[MARK_TAG, "tests?suite=smoke&run=7", "test_run:7"]]
    text = bar["hovertext"][0]
    assert "Test run 7 of smoke: passed" in text and "3 passed, 0 failed" in text
    assert "2026-12-01 13:00:00 – 13:02:00" in text  # Berlin, not UTC
    axis = figure["layout"][f"yaxis{bar['yaxis'][1:]}"]
    assert axis["overlaying"] == "y" and axis["range"] == [0, 1] and axis["visible"] is False


def test_a_point_is_a_dotted_line_and_a_marker_with_escaped_hover_text() -> None:
    figure = add_marks(line_figure(), [point()], "UTC")
    line = figure["layout"]["shapes"][-1]
    assert line["type"] == "line" and line["x0"] == line["x1"] == "2026-12-01 12:05:00.000"
    marker = marks_trace(figure, "scatter")
    assert marker["x"] == ["2026-12-01 12:05:00.000"] and marker["marker"]["color"] == [NOTE]
    assert marker["customdata"] == [[MARK_TAG, "events?kind=annotation", "annotation:1"]]
    assert "Deployed &lt;v2&gt;" in marker["hovertext"][0]
    assert not any(t["type"] == "bar" for t in figure["data"])


def test_a_figure_without_marks_to_draw_is_unchanged() -> None:
    drawn = line_figure()
    before = copy.deepcopy(drawn)
    assert add_marks(drawn, [], BERLIN) is drawn
    assert add_marks(drawn, [span()], BERLIN, kinds_shown=[MarkKind.ALERT]) is drawn  # its kind hidden
    fig = go.Figure(before)
    json_before = pio.to_json(fig)
    assert add_marks(fig, [], BERLIN) is fig and pio.to_json(fig) == json_before


def test_a_cached_dict_is_left_alone_and_a_figure_and_a_dict_get_the_same_marks() -> None:
    drawn = line_figure()
    before = copy.deepcopy(drawn)
    marks = [span(), point()]
    from_dict = add_marks(drawn, marks, BERLIN)
    assert drawn.keys() == before.keys() and len(drawn["data"]) == len(before["data"])
    assert "shapes" not in drawn["layout"]  # shared by every session: never changed
    from_figure = add_marks(go.Figure(before), marks, BERLIN)
    assert json.loads(pio.to_json(go.Figure(from_dict))) == json.loads(pio.to_json(from_figure))


def test_the_overlay_axis_is_one_the_figure_does_not_use() -> None:
    fig = go.Figure(layout={"yaxis2": {"overlaying": "y"}})
    add_marks(fig, [span()], "UTC")
    assert fig.data[-1].yaxis == "y3" and fig.layout.yaxis3.overlaying == "y"


def test_only_the_shown_kinds_are_drawn_and_the_offered_ones_are_those_with_marks_in_kind_order() -> None:
    marks = [point(), span()]
    assert offered_kinds(marks) == [MarkKind.TEST_RUN, MarkKind.ANNOTATION]
    figure = add_marks(line_figure(), marks, "UTC", kinds_shown=[MarkKind.ANNOTATION])
    assert [t["type"] for t in figure["data"] if t.get("name") == "marks"] == ["scatter"]


def test_a_kind_hidden_on_one_chart_stays_hidden_where_another_offers_it() -> None:
    offered = [MarkKind.TEST_RUN, MarkKind.ANNOTATION]
    hidden = hidden_after(offered, [MarkKind.ANNOTATION], set())
    assert hidden == {"test_run"}
    hidden = hidden_after([MarkKind.ALERT], [], hidden)  # another chart: alerts off, test runs kept off
    assert hidden == {"test_run", "alert"}
    assert shown_kinds([MarkKind.TEST_RUN, MarkKind.RESTART], hidden) == [MarkKind.RESTART]


def test_a_click_on_a_mark_gives_its_link_and_a_box_or_the_charts_own_point_none() -> None:
    mark_point = {"curve_number": 3, "customdata": [MARK_TAG, "tests?suite=smoke&run=7", "test_run:7"]}
    own_point = {"curve_number": 0, "customdata": ["12:00:00", "12:02:00"]}
    assert clicked_href({"points": [own_point, mark_point], "box": [], "lasso": []}) == "tests?suite=smoke&run=7"
    assert clicked_href({"points": [own_point], "box": []}) is None
    assert clicked_href({"points": [mark_point], "box": [{"x": [1, 2]}]}) is None  # a zoom
    assert clicked_href(None) is None


def test_a_link_made_by_href_reads_back_as_its_page_and_query() -> None:
    assert parse_href(href("tests", {"suite": ["smoke"], "run": ["7"]})) == (
        "tests",
        {"suite": ["smoke"], "run": ["7"]},
    )
    assert parse_href(href("")) == ("", {})
    assert parse_href("https://example.com/tests?run=1") is None
    assert parse_href("nowhere?run=1") is None


def test_the_runs_own_marks_are_left_out_of_its_chart() -> None:
    marks = [span(), span(key="test_run:70", href="tests?suite=smoke&run=70"), point()]
    assert [m.key for m in elsewhere(marks, "tests?suite=smoke&run=7")] == ["test_run:70", "annotation:1"]
    assert [m.key for m in elsewhere(marks, "tests?suite=smoke")] == ["annotation:1"]
    assert [m.key for m in elsewhere(marks, "tests?suite=smoke&run=7", "events?kind=annotation")] == ["test_run:70"]
    assert elsewhere(marks) == marks


def test_by_run_a_mark_covers_the_runs_it_overlaps_and_is_left_out_between_runs() -> None:
    runs = tuple(Run(f"#{i}", T0 + timedelta(minutes=10 * i), T0 + timedelta(minutes=10 * i + 3)) for i in range(4))
    axis = RunAxis(runs)
    during = span(minutes=14, key="alert:1", kind=MarkKind.ALERT)  # 12:00-12:14: runs #0 and #1
    between = span(minutes=1, key="alert:2", kind=MarkKind.ALERT, start=T0 + timedelta(minutes=5))
    figure = add_marks(go.Figure(), [during, between], "UTC", axis=axis)
    (band,) = figure.layout.shapes
    assert (band.x0, band.x1, band.xref) == (-0.5, 1.5, "x")  # category indices
    (marker,) = [t for t in figure.data if t.name == "marks"]
    assert marker.type == "scatter" and list(marker.x) == ["#0"]
    assert axis.window() == (T0, T0 + timedelta(minutes=33))


def test_a_suites_history_chart_gets_what_else_happened_during_its_runs(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    runs = RunHistory(store)
    for minute in (0, 10):
        run = runs.insert("smoke", Trigger.UI, T0 + timedelta(minutes=minute), ["pytest"])
        runs.update(
            run,
            status=RunStatus.PASSED,
            started_at=T0 + timedelta(minutes=minute),
            ended_at=T0 + timedelta(minutes=minute + 2),
        )
    other = runs.insert("slow", Trigger.UI, T0 + timedelta(minutes=11), ["pytest"])
    runs.update(
        other, status=RunStatus.FAILED, started_at=T0 + timedelta(minutes=11), ended_at=T0 + timedelta(minutes=15)
    )
    history = pd.DataFrame(
        {
            "id": [1, 2],
            "started": pd.to_datetime([T0, T0 + timedelta(minutes=10)], utc=True),
            "duration": [120.0, 120.0],
        }
    )
    axis = history_axis(history)
    assert [r.category for r in axis.runs] == ["#1", "#2"] and axis.window() == (T0, T0 + timedelta(minutes=12))
    marks = elsewhere(marks_between(store, *axis.window(), now=T0 + timedelta(hours=1)).marks, "tests?suite=smoke")
    assert [m.key for m in marks] == [f"test_run:{other}"]  # the suite's own runs are its columns
    full = history.assign(status="passed", pass_rate=100.0, passed=3, failed=0, errors=0, selected=None)
    figure = add_marks(history_figure(full), marks, "UTC", axis=axis)
    assert [s.x0 for s in figure.layout.shapes] == [0.5]  # over run #2, which it overlapped
    store.close()


@pytest.mark.parametrize("tz", ["UTC", BERLIN, "America/New_York"])
def test_the_band_moves_with_the_viewers_time_zone_as_the_data_does(tz: str) -> None:
    figure = add_marks(go.Figure(), [span()], tz)
    local = T0.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S.000")
    assert figure.layout.shapes[0].x0 == local


def test_a_band_is_cut_to_the_charts_window_and_a_point_outside_it_left_out() -> None:
    window = (T0 + timedelta(minutes=1), T0 + timedelta(minutes=4))
    figure = add_marks(line_figure(), [span(minutes=10), point()], "UTC", window=window)
    (band,) = figure["layout"]["shapes"]  # the annotation at 12:05 is after the window
    assert (band["x0"], band["x1"]) == ("2026-12-01 12:01:00.000", "2026-12-01 12:04:00.000")
    bar = marks_trace(figure, "bar")
    assert bar["width"] == [180_000.0] and "12:00:00 – 12:10:00" in bar["hovertext"][0]  # the hover says it all


def test_only_the_newest_marks_are_drawn_on_one_chart() -> None:
    at = [T0 + timedelta(minutes=i) for i in range(MAX_DRAWN + 6)]
    many = [span(key=f"test_run:{i}", start=at[i], end=at[i + 1]) for i in range(MAX_DRAWN + 5)]
    figure = add_marks(go.Figure(), many, "UTC")
    keys = [d[2] for d in next(t for t in figure.data if t.type == "bar").customdata]
    assert len(keys) == MAX_DRAWN and keys[0] == "test_run:5" and keys[-1] == f"test_run:{MAX_DRAWN + 4}"


def test_by_run_the_cap_counts_only_the_marks_over_a_run() -> None:
    run = Run("#1", T0, T0 + timedelta(minutes=1))
    later = [
        span(key=f"alert:{i}", start=T0 + timedelta(hours=1, minutes=i), end=T0 + timedelta(hours=2))
        for i in range(MAX_DRAWN)
    ]
    figure = add_marks(go.Figure(), [span(minutes=1), *later], "UTC", axis=RunAxis((run,)))
    assert [d[2] for t in figure.data for d in t.customdata] == ["test_run:7"]


def test_overlapping_bands_of_one_colour_are_drawn_as_one_each_keeping_its_hover() -> None:
    """A dozen components down at once stacked their translucency into an opaque wash."""
    at = [T0 + timedelta(minutes=i) for i in range(12)]
    marks = [span(key=f"test_run:{i}", start=t, end=t + timedelta(minutes=10)) for i, t in enumerate(at)]
    later = T0 + timedelta(hours=2)
    apart = span(key="test_run:99", start=later, end=later + timedelta(minutes=2))
    drawn = add_marks({"data": [], "layout": {}}, [*marks, apart])
    rects = [s for s in drawn["layout"]["shapes"] if s["type"] == "rect"]
    assert len(rects) == 2
    assert rects[0]["x0"].startswith("2026-12-01 12:00") and rects[0]["x1"].startswith("2026-12-01 12:21")
    hover = [t for t in drawn["data"] if t.get("type") == "bar"]
    assert sum(len(t["x"]) for t in hover) == 13
