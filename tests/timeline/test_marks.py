"""Marks read from a real store file: what overlaps a window, and where it leads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from dashboard_core.models.testing import RunStatus, Trigger
from dashboard_core.store import open_store
from dashboard_core.testing.history import RunHistory
from dashboard_core.timeline.marks import BAD, GOOD, MarkKind, marks_between

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
