"""State intervals from events, and the Gantt chart drawn from them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dashboard_core.health.timeline import state_intervals, timeline_figure
from dashboard_core.models import Event, EventKind, Severity

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def change(event_id: int, source: str, to: str, minutes: int) -> Event:
    return Event(
        id=event_id,
        at=T0 + timedelta(minutes=minutes),
        kind=EventKind.AGENT,
        severity=Severity.INFO,
        source=source,
        message=f"{source} is {to}",
        data={"to": to},
    )


def test_intervals_run_from_one_change_to_the_next_and_the_last_until_now() -> None:
    events = [change(3, "a", "online", 10), change(1, "a", "online", 0), change(2, "a", "offline", 5), change(4, "b", "online", 7)]
    frame = state_intervals(events, now=T0 + timedelta(minutes=20))
    rows = [(r.name, r.state, r.start.minute, r.end.minute) for r in frame.itertuples()]
    assert rows == [("a", "online", 0, 5), ("a", "offline", 5, 10), ("a", "online", 10, 20), ("b", "online", 7, 20)]
    fig = timeline_figure(frame, "Europe/Berlin")
    assert fig is not None and [t.name for t in fig.data] == ["online", "offline"]
    assert list(fig.data[1].x) == [5 * 60 * 1000]  # the offline bar is 5 minutes long
    assert str(fig.data[1].base[0]).startswith("2026-11-25T09:05")  # local time on the axis
    assert timeline_figure(state_intervals([], T0)) is None
