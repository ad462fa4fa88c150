"""Marks too narrow to see on a long chart come merged, never hiding another outcome."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from dashboard_core.models.testing import RunStatus, Trigger
from dashboard_core.store import open_store
from dashboard_core.testing.history import RunHistory
from dashboard_core.timeline.marks import MarkKind, marks_between

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def test_a_month_of_runs_every_10_minutes_comes_as_a_few_marks_with_the_failure_on_its_own(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    runs = RunHistory(store)
    failed_at = T0 + timedelta(days=3)
    for i in range(6 * 24 * 7):  # a week of a run every 10 minutes, 2 minutes each
        began = T0 + timedelta(minutes=10 * i)
        status = RunStatus.FAILED if began == failed_at else RunStatus.PASSED
        run = runs.insert("smoke", Trigger.API, began, ["pytest"])
        runs.update(run, status=status, started_at=began, ended_at=began + timedelta(minutes=2))
    end = T0 + timedelta(days=30)

    every = marks_between(store, T0, end, [MarkKind.TEST_RUN], end).marks
    merged = marks_between(store, T0, end, [MarkKind.TEST_RUN], end, resolution_s=30 * 86_400 / 1000).marks

    assert len(every) == 6 * 24 * 7
    assert len(merged) == 3  # the passes before the failure, the failure, the passes after
    before, failure, after = merged
    assert failure.state == "failed" and failure.start == failed_at and failure.href == every[3 * 144].href
    assert before.label == f"{3 * 144} test runs of smoke: passed" and before.start == T0
    assert after.end == every[-1].end
    assert before.href is not None and before.href.startswith("events?kind=test_run&source=smoke&from=")
    store.close()


def test_marks_wide_enough_to_see_stay_one_by_one(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    runs = RunHistory(store)
    for i in range(3):
        began = T0 + timedelta(hours=i)
        run = runs.insert("smoke", Trigger.API, began, ["pytest"])
        runs.update(run, status=RunStatus.PASSED, started_at=began, ended_at=began + timedelta(minutes=30))
    end = T0 + timedelta(hours=4)

    page = marks_between(store, T0, end, [MarkKind.TEST_RUN], end, resolution_s=60.0)

    assert [m.label for m in page.marks] == [f"Test run {i} of smoke: passed" for i in (1, 2, 3)]
    store.close()


def test_a_groups_fast_link_is_the_events_pages_own() -> None:
    from dashboard_core.app.links import Link, events_span_href
    from dashboard_core.app.urls import EVENTS
    from dashboard_core.app.view_state import EventsView, events_query
    from dashboard_core.models import EventKind

    start, end = T0, T0 + timedelta(days=2, seconds=7)
    slow = Link(
        "Events",
        EVENTS,
        events_query(EventsView(kinds=(EventKind.WORKFLOW,), source="nightly build", start=start, end=end)),
        "",
    ).href
    assert events_span_href(EventKind.WORKFLOW, "nightly build", start.timestamp(), end.timestamp()) == slow
