"""Events as rows for people: repeats collapsed (numbers aside, within an hour of each
other), kinds in words, the newest event first; every event still counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dashboard_core.health.event_rows import collapse, event_rows, kind_words, rows_frame
from dashboard_core.health.overview import events_table
from dashboard_core.models import Event, EventKind, Severity, StepStatus

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def event(
    n: int,
    at: datetime,
    message: str,
    *,
    kind: EventKind = EventKind.WORKFLOW,
    source: str = "svc",
    severity: Severity = Severity.WARNING,
    data: dict[str, object] | None = None,
) -> Event:
    return Event(id=n, at=at, kind=kind, severity=severity, source=source, message=message, data=data or {})


def crash(n: int, at: datetime) -> Event:
    """What the supervisor says each time a service ends and is restarted."""
    return event(
        n,
        at,
        f"Run 3 of svc: the service ended (exited with code {n % 3}); restart {n} of at most 20 in {2**n} s",
        data={"run_id": 3, "from": "running", "to": StepStatus.BACKING_OFF.value, "restarts": n},
    )


def test_a_crash_loop_is_one_row_saying_how_often_and_how_long() -> None:
    crashes = [crash(n, T0 + timedelta(seconds=50 * n)) for n in range(7, 0, -1)]  # newest first
    rows = collapse(crashes)
    assert len(rows) == 1
    row = rows[0]
    assert row.times == 7 and row.newest.id == 7 and row.oldest.id == 1
    assert row.message == f"svc restarted 7 times in 5 min 0 s (newest: {crashes[0].message})"


def test_other_repeats_say_how_often_and_different_events_stay_apart() -> None:
    events = [
        event(
            6, T0 + timedelta(minutes=5), "db is degraded: answered in 812 ms", kind=EventKind.COMPONENT, source="db"
        ),
        event(
            5, T0 + timedelta(minutes=4), "db is degraded: answered in 640 ms", kind=EventKind.COMPONENT, source="db"
        ),
        event(
            4,
            T0 + timedelta(minutes=3),
            "cache is degraded: answered in 700 ms",
            kind=EventKind.COMPONENT,
            source="cache",
        ),
        event(
            3,
            T0 + timedelta(minutes=2),
            "db is down",
            kind=EventKind.COMPONENT,
            source="db",
            severity=Severity.CRITICAL,
        ),
        event(
            2, T0 + timedelta(minutes=1), "db is degraded: answered in 901 ms", kind=EventKind.COMPONENT, source="db"
        ),
    ]
    rows = collapse(events)
    assert [(r.newest.id, r.times) for r in rows] == [(6, 3), (4, 1), (3, 1)]  # at the newest's place
    assert rows[0].message == "3 times in 4 min 0 s (newest: db is degraded: answered in 812 ms)"
    assert rows[1].message == "cache is degraded: answered in 700 ms"
    assert sum(r.times for r in rows) == len(events)  # every event is in one row


def test_repeats_more_than_an_hour_apart_are_news_again() -> None:
    late, early = crash(2, T0 + timedelta(hours=2)), crash(1, T0)
    assert [r.times for r in collapse([late, early])] == [1, 1]
    assert [r.times for r in collapse([late, early], gap=timedelta(hours=3))] == [2]


def test_without_collapsing_each_event_is_a_row() -> None:
    crashes = [crash(n, T0 + timedelta(seconds=n)) for n in (3, 2, 1)]
    assert [r.times for r in event_rows(crashes, collapsed=False)] == [1, 1, 1]
    assert [r.times for r in event_rows(crashes)] == [3]


def test_kinds_read_as_words() -> None:
    assert kind_words(EventKind.TEST_RUN) == "test run"
    assert [kind_words(k) for k in EventKind if "_" in kind_words(k)] == []


def test_the_events_table_has_words_counts_and_no_blanks() -> None:
    crashes = [crash(n, T0 + timedelta(seconds=30 * n)) for n in (2, 1)]
    run = event(9, T0 + timedelta(minutes=5), "run 4 of demo failed", kind=EventKind.TEST_RUN, source="demo")
    frame = rows_frame(event_rows([run, *crashes]))
    assert list(frame["kind"]) == ["test run", "workflow"]
    assert list(frame["times"]) == [1, 2]
    assert list(frame["id"]) == [9, 2]
    assert not frame.isna().any().any()


def test_the_overviews_latest_events_collapse_repeats_too() -> None:
    crashes = [crash(n, T0 + timedelta(seconds=30 * n)) for n in range(10, 0, -1)]
    table = events_table(crashes, "UTC", T0)
    assert len(table) == 1
    assert table["message"].iloc[0].startswith("svc restarted 10 times in 4 min 30 s")
