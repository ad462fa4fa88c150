"""Marks read from a real store file: what overlaps a window, and where it leads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dashboard_core.events import EventLog
from dashboard_core.models import EventKind
from dashboard_core.models.annotations import AnnotationRequest
from dashboard_core.models.testing import RunStatus, Trigger
from dashboard_core.store import Store, open_store
from dashboard_core.testing.history import RunHistory
from dashboard_core.timeline.annotations import Annotations
from dashboard_core.timeline.marks import BAD, BUSY, GOOD, WARN, MarkKind, marks_between
from dashboard_core.workflows.history import WorkflowHistory

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_test_runs_are_spans_coloured_by_outcome_with_a_link(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    runs = RunHistory(store)
    done = runs.insert("smoke", Trigger.UI, T0, ["pytest"])
    runs.update(done, status=RunStatus.PASSED, started_at=T0, ended_at=T0 + timedelta(minutes=2))
    failed = runs.insert("smoke", Trigger.API, T0 + timedelta(minutes=5), ["pytest"])
    runs.update(
        failed, status=RunStatus.FAILED, started_at=T0 + timedelta(minutes=5), ended_at=T0 + timedelta(minutes=6)
    )
    going = runs.insert("slow", Trigger.UI, T0 + timedelta(minutes=7), ["pytest"])
    runs.update(going, status=RunStatus.RUNNING, started_at=T0 + timedelta(minutes=7))
    before = runs.insert("smoke", Trigger.UI, T0 - timedelta(hours=2), ["pytest"])
    runs.update(before, status=RunStatus.PASSED, started_at=T0 - timedelta(hours=2), ended_at=T0 - timedelta(hours=1))

    now = T0 + timedelta(minutes=8)
    page = marks_between(store, T0 + timedelta(minutes=1), now, [MarkKind.TEST_RUN], now)

    assert [m.key for m in page.marks] == [f"test_run:{done}", f"test_run:{failed}", f"test_run:{going}"]
    first, second, third = page.marks
    assert (first.start, first.end, first.colour, first.ongoing) == (T0, T0 + timedelta(minutes=2), GOOD, False)
    assert second.colour == BAD and second.state == "failed"
    assert third.ongoing and third.end == now
    assert first.href == f"tests?suite=smoke&run={done}"
    assert "Test run" in first.label and "passed" in first.label
    store.close()


# -- the other kinds -------------------------------------------------------------------
def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def epoch(minutes: float) -> float:
    return at(minutes).timestamp()


class StepClock:
    """The event log's clock: each event at the time a test sets."""

    def __init__(self) -> None:
        self.now = epoch(0)

    def __call__(self) -> float:
        return self.now


def log_at(store: Store, clock: StepClock, minutes: float, kind: EventKind, source: str, **data: object) -> None:
    clock.now = epoch(minutes)
    EventLog(store, clock=clock).publish(kind, source, f"{source} {data}", data=data)


def test_workflow_runs_and_their_steps_are_spans_with_links(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    history = WorkflowHistory(store)
    done = history.insert("deploy", Trigger.API, {}, epoch(-30), ["build", "ship"])  # began before the window
    history.update_step(done, "build", status="succeeded", started_at=epoch(-30), ended_at=epoch(-20))
    history.update_step(done, "ship", status="failed", started_at=epoch(-20), ended_at=epoch(5), message="exit 1")
    history.update_run(done, status="failed", ended_at=epoch(5))
    going = history.insert("serve", Trigger.UI, {}, epoch(10), ["web"])  # still running
    history.update_step(going, "web", status="running", started_at=epoch(10))
    old = history.insert("deploy", Trigger.API, {}, epoch(-90), ["build"])
    history.update_run(old, status="succeeded", ended_at=epoch(-60))

    now = at(20)
    runs = marks_between(store, at(0), now, [MarkKind.WORKFLOW_RUN], now).marks
    assert [(m.key, m.state, m.colour, m.ongoing) for m in runs] == [
        (f"workflow_run:{done}", "failed", BAD, False),
        (f"workflow_run:{going}", "running", BUSY, True),
    ]
    assert runs[0].start == at(-30) and runs[1].end == now
    assert runs[0].href == f"workflows?workflow=deploy&run={done}"

    steps = marks_between(store, at(0), now, [MarkKind.WORKFLOW_STEP], now).marks
    assert [(m.key, m.state, m.ongoing) for m in steps] == [
        (f"workflow_step:{done}:ship", "failed", False),  # build ended before the window
        (f"workflow_step:{going}:web", "running", True),
    ]
    assert "ship" in steps[0].label and steps[0].href == f"workflows?workflow=deploy&run={done}"
    store.close()


def test_a_service_restart_is_a_point_from_its_workflow_event(tmp_path: Path) -> None:
    store, clock = open_store(tmp_path), StepClock()
    log_at(store, clock, 3, EventKind.WORKFLOW, "serve", run_id=4, to="backing off", step="web", restarts=2)
    log_at(store, clock, 4, EventKind.WORKFLOW, "serve", run_id=4, to="running")  # not a restart
    log_at(store, clock, 30, EventKind.WORKFLOW, "serve", run_id=4, to="backing off", step="web", restarts=3)

    page = marks_between(store, at(0), at(10), [MarkKind.RESTART], at(40))
    assert [(m.start, m.end, m.state) for m in page.marks] == [(at(3), None, "restarting")]
    assert "Restart 2 of web" in page.marks[0].label and page.marks[0].href == "workflows?workflow=serve&run=4"
    store.close()


def add_alert(store: Store, rule: str, severity: str, began: float, fired: float, ended: float | None) -> int:
    """A row as the alert engine writes it when a rule fires (and resolves)."""
    cursor = store.execute(
        "INSERT INTO alerts (rule, severity, state, began_at, fired_at, ended_at, message) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            rule,
            severity,
            "firing" if ended is None else "resolved",
            epoch(began),
            epoch(fired),
            ended and epoch(ended),
            "",
        ),
    )
    return int(cursor.lastrowid or 0)


def test_alerts_are_spans_from_pending_to_resolved_coloured_by_severity(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    resolved = add_alert(store, "cpu-high", "warning", -10, -8, 5)  # pending before the window
    firing = add_alert(store, "disk-full", "critical", 6, 7, None)  # still firing
    add_alert(store, "cpu-high", "warning", -60, -59, -50)  # long before

    now = at(20)
    marks = marks_between(store, at(0), now, [MarkKind.ALERT], now).marks
    assert [(m.key, m.state, m.colour, m.ongoing) for m in marks] == [
        (f"alert:{resolved}", "resolved", WARN, False),
        (f"alert:{firing}", "firing", BAD, True),
    ]
    assert marks[0].start == at(-10) and marks[0].end == at(5) and marks[1].end == now
    assert "pending 2 min" in marks[0].label and "resolved" in marks[0].label and "firing" in marks[1].label
    assert marks[0].href == "safety?rule=cpu-high"
    store.close()


def test_a_component_not_healthy_is_a_span_per_state_even_from_before_the_window(tmp_path: Path) -> None:
    store, clock = open_store(tmp_path), StepClock()
    log_at(store, clock, -50, EventKind.COMPONENT, "db", **{"from": "unknown", "to": "healthy"})
    log_at(store, clock, -20, EventKind.COMPONENT, "db", **{"from": "healthy", "to": "degraded"})  # before
    log_at(store, clock, 5, EventKind.COMPONENT, "db", **{"from": "degraded", "to": "down"})
    log_at(store, clock, 8, EventKind.COMPONENT, "db", **{"from": "down", "to": "healthy"})
    log_at(store, clock, 12, EventKind.COMPONENT, "web", **{"from": "healthy", "to": "down"})  # still down
    log_at(store, clock, -40, EventKind.COMPONENT, "cache", **{"from": "healthy", "to": "down"})
    log_at(store, clock, -30, EventKind.COMPONENT, "cache", **{"from": "down", "to": "healthy"})  # all before

    now = at(20)
    marks = marks_between(store, at(0), now, [MarkKind.COMPONENT], now).marks
    assert [(m.source, m.state, m.start, m.end, m.ongoing) for m in marks] == [
        ("db", "degraded", at(-20), at(5), False),
        ("db", "down", at(5), at(8), False),
        ("web", "down", at(12), now, True),
    ]
    assert marks[1].colour == BAD and marks[0].colour == WARN
    assert marks[0].href is not None and marks[0].href.startswith("events?kind=component&source=db")
    store.close()


def test_an_agent_offline_is_a_span_until_it_is_back_or_forgotten(tmp_path: Path) -> None:
    store, clock = open_store(tmp_path), StepClock()
    log_at(store, clock, -15, EventKind.AGENT, "a1", **{"from": "online", "to": "offline"})  # before the window
    log_at(store, clock, 4, EventKind.AGENT, "a1", **{"from": "offline", "to": "online"})
    log_at(store, clock, 6, EventKind.AGENT, "a2", **{"from": "online", "to": "offline"})
    log_at(store, clock, 9, EventKind.AGENT, "agents", forgotten=["a2"], count=1)
    log_at(store, clock, 11, EventKind.AGENT, "a3", **{"from": "online", "to": "offline"})  # still offline

    now = at(20)
    marks = marks_between(store, at(0), now, [MarkKind.AGENT], now).marks
    assert [(m.source, m.start, m.end, m.ongoing) for m in marks] == [
        ("a1", at(-15), at(4), False),
        ("a2", at(6), at(9), False),
        ("a3", at(11), now, True),
    ]
    assert marks[0].state == "offline" and marks[0].colour == BAD and marks[0].href == "agents?agent=a1"
    store.close()


def test_annotations_are_points_or_spans_leading_to_the_events_page(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    notes = Annotations(store, clock=lambda: epoch(0))
    point = notes.create(AnnotationRequest(text="Deploy v1.2\nfrom CI", tags=["deploy"], start=at(3)), "ci")
    span = notes.create(AnnotationRequest(text="Maintenance", start=at(-30), end=at(2)), "ana")
    notes.create(AnnotationRequest(text="Long ago", start=at(-90), end=at(-60)), "ana")

    marks = marks_between(store, at(0), at(10), [MarkKind.ANNOTATION], at(10)).marks
    assert [(m.key, m.start, m.end, m.state) for m in marks] == [
        (f"annotation:{span.id}", at(-30), at(2), "span"),
        (f"annotation:{point.id}", at(3), None, "point"),
    ]
    assert marks[1].label == "Deploy v1.2" and "deploy" in marks[1].detail and "ci" in marks[1].detail
    assert marks[1].href == "events?kind=annotation&from=2026-12-01T11:58:00Z&to=2026-12-01T12:08:00Z"
    store.close()


def test_all_kinds_are_read_by_default_oldest_first(tmp_path: Path) -> None:
    store, clock = open_store(tmp_path), StepClock()
    log_at(store, clock, 2, EventKind.AGENT, "a1", **{"from": "online", "to": "offline"})
    add_alert(store, "cpu-high", "warning", 1, 1, 3)
    page = marks_between(store, at(0), at(10), None, at(10))
    assert page.kinds == list(MarkKind)
    assert [m.kind for m in page.marks] == [MarkKind.ALERT, MarkKind.AGENT]
    store.close()


def test_each_reader_reads_through_an_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No reader scans a whole table: SQLite's plan for each query uses an index."""
    store = open_store(tmp_path)
    plans: list[str] = []
    real_all = Store.all

    def explained(self: Store, sql: str, params: Any = ()) -> Any:
        plans.extend(str(row[3]) for row in real_all(self, "EXPLAIN QUERY PLAN " + sql, params))
        return real_all(self, sql, params)

    monkeypatch.setattr(Store, "all", explained)
    marks_between(store, at(0), at(10), None, at(10))
    marks_between(store, at(0), at(10), None, at(10), resolution_s=60.0)  # folded for a long chart: the same reads
    # (SCAN base: the rows found, materialized to be sorted for the fold; not a table)
    scans = [p for p in plans if p.startswith("SCAN") and "json_each" not in p and p != "SCAN base"]
    assert plans and scans == [], plans
    store.close()
