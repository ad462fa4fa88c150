"""Marks too narrow to see on a long chart come merged, never hiding another outcome."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dashboard_core.models.testing import RunStatus, Trigger
from dashboard_core.store import Store, open_store
from dashboard_core.testing.history import RunHistory
from dashboard_core.timeline.mark_groups import merge_narrow
from dashboard_core.timeline.marks import Mark, MarkKind, marks_between

T0 = datetime(2026, 11, 1, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


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


def _bench_fill() -> Any:
    """bench/timeline_read.py's store of every kind (its realistic rates), as a fixture."""
    spec = importlib.util.spec_from_file_location("timeline_read", ROOT / "bench" / "timeline_read.py")
    assert spec is not None and spec.loader is not None
    sys.path.insert(0, str(ROOT / "bench"))  # its own `from _common import ...`
    try:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return module.fill


def _still_going(store: Store, now: float) -> None:
    """What has no end yet: a test run, a workflow run with a step, an alert, a silence (they end now)."""
    with store.transaction() as db:
        db.execute(
            "INSERT INTO test_runs (suite, trigger, status, queued_at, started_at) VALUES (?, ?, ?, ?, ?)",
            ("smoke", "api", "running", now - 30, now - 30),
        )
        run = db.execute(
            "INSERT INTO workflow_runs (workflow, trigger, status, started_at) VALUES (?, ?, ?, ?)",
            ("deploy", "api", "running", now - 50),
        ).lastrowid
        db.execute(
            "INSERT INTO workflow_steps (run_id, step, status, started_at) VALUES (?, ?, ?, ?)",
            (run, "build", "running", now - 50),
        )
        db.execute(
            "INSERT INTO alerts (rule, severity, state, began_at, fired_at) VALUES (?, ?, ?, ?, ?)",
            ("cpu-high", "critical", "firing", now - 100, now - 40),
        )
        db.execute(
            "INSERT INTO silences (matchers, starts_at, ends_at, created_by, comment, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                '[{"name": "alertname", "value": "cpu-high", "is_regex": false, "is_equal": true}]',
                now - 60,
                now + 3600,
                "ann",
                "load test",
                now - 60,
            ),
        )


@pytest.mark.parametrize(("days", "notes", "width"), [(3, 300, 100), (3, 300, 700), (30, 1000, 1000)])
def test_marks_merged_as_rows_are_the_marks_merge_narrow_makes(
    tmp_path: Path, days: int, notes: int, width: int
) -> None:
    """Every kind, folded before any mark is made, draws exactly what merging every
    mark made one by one drew; and a 30-day chart gets no more marks of a kind than pixels."""
    store = open_store(tmp_path)
    now = T0 + timedelta(days=days)
    _bench_fill()(store, now.timestamp(), days, notes)
    _still_going(store, now.timestamp())
    start, resolution = now - timedelta(days=days), days * 86_400 / width

    every = marks_between(store, start, now, None, now).marks
    merged = marks_between(store, start, now, None, now, resolution_s=resolution).marks

    assert len(merged) < len(every)
    assert [m.model_dump() for m in merged] == [m.model_dump() for m in merge_narrow(every, resolution)]
    assert {m.kind for m in merged} == set(MarkKind) - {MarkKind.MAINTENANCE}  # windows: test_maintenance.py
    if days == 30:  # at the bench's rates (in a crowded 3 days of 100 notes a day, points and spans alternate)
        for kind in MarkKind:
            assert sum(1 for m in merged if m.kind == kind) <= width, kind
    store.close()


def test_a_long_chart_makes_only_the_marks_it_draws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What is merged is folded as rows: the read makes no mark it throws away (making
    9,000 marks to merge them was most of a 30-day read's time)."""
    store = open_store(tmp_path)
    now = T0 + timedelta(days=3)
    _bench_fill()(store, now.timestamp(), 3, 300)
    made = 0
    real_init = Mark.__init__

    def counted(self: Mark, **data: Any) -> None:
        nonlocal made
        made += 1
        real_init(self, **data)

    monkeypatch.setattr(Mark, "__init__", counted)
    drawn = marks_between(store, now - timedelta(days=3), now, None, now, resolution_s=3 * 86_400 / 300).marks
    every = marks_between(store, now - timedelta(days=3), now, None, now).marks

    assert made == len(drawn) + len(every) and len(drawn) < len(every) / 2
    store.close()
