"""Maintenance windows in force: when each occurs, what it covers, and the mute it makes.

An occurrence starts at a wall-clock time in the window's time zone (a weekly ``at``, a
cron line read by cronsim, which follows Debian cron across DST changes) and lasts
``duration`` of real time. Occurrences that overlap are joined into one span.
:class:`Maintenance` is the alert engine's :class:`~dashboard_core.health.mutes.MuteSource`
for windows, tells the health monitor and the agent registry which window covers a
component or an agent, and gives the spans uptime leaves out.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from cronsim import CronSim

from dashboard_core.config.maintenance import ALL, WEEKDAYS, MaintenanceConfig
from dashboard_core.health.maintenance_store import Planned, delete_planned, end_planned, load_planned, save_planned
from dashboard_core.models.maintenance import MaintenanceWindow, Span
from dashboard_core.models.silences import Mute
from dashboard_core.units import local_time

if TYPE_CHECKING:
    from dashboard_core.store import Store

MAX_STEPS = 20_000  # occurrences looked at per question: a window that never ends is one long span
Target = Literal["components", "agents", "rules"]
Ending = Literal["removed", "ended", "over"]  # what taking back a planned window did
Pair = tuple[datetime, datetime]


def _starts(w: MaintenanceConfig, since: datetime) -> Iterator[datetime]:
    """UTC starts, in order, of the occurrences that may end after ``since``."""
    duration = timedelta(seconds=w.duration_seconds)
    zone = w.zone
    if w.start is not None:
        start = w.start if w.start.tzinfo is not None else w.start.replace(tzinfo=zone)
        yield start.astimezone(UTC)
    elif w.cron is not None:
        for start in CronSim(w.cron, (since - duration).astimezone(zone)):
            yield start.astimezone(UTC)
    elif w.at is not None:
        days = {WEEKDAYS.index(d) for d in w.days}
        day: date = (since - duration).astimezone(zone).date() - timedelta(days=1)
        while True:  # a time the clocks skip that day is read with the offset before the jump
            if day.weekday() in days:
                yield datetime.combine(day, w.at, tzinfo=zone).astimezone(UTC)
            day += timedelta(days=1)


def spans(w: MaintenanceConfig, since: datetime) -> Iterator[Pair]:
    """The window's spans (occurrences joined where they overlap) that end after ``since``."""
    duration = timedelta(seconds=w.duration_seconds)
    current: Pair | None = None
    for steps, start in enumerate(_starts(w, since)):
        end = start + duration
        if end > since:
            if current is not None and start <= current[1]:
                current = (current[0], max(current[1], end))
            else:
                if current is not None:
                    yield current
                current = (start, end)
        if steps >= MAX_STEPS:
            break
    if current is not None:
        yield current


def current_span(w: MaintenanceConfig, at: datetime) -> Pair | None:
    """The span in force at ``at``, if any."""
    first = next(spans(w, at), None)
    return first if first is not None and first[0] <= at < first[1] else None


def next_span(w: MaintenanceConfig, after: datetime) -> Pair | None:
    """The first span to start after ``after``."""
    return next((s for s in spans(w, after) if s[0] > after), None)


def spans_between(w: MaintenanceConfig, since: datetime, until: datetime) -> list[Pair]:
    """Every span that overlaps [since, until)."""
    found = []
    for start, end in spans(w, since):
        if start >= until:
            break
        found.append((start, end))
    return found


def schedule_text(w: MaintenanceConfig) -> str:
    zone = f" ({w.timezone})"
    if w.start is not None and w.end is not None:
        return f"{w.start.isoformat(sep=' ')} to {w.end.isoformat(sep=' ')}" + ("" if w.start.tzinfo else zone)
    if w.cron is not None:
        return f"cron {w.cron} for {w.duration}{zone}"
    at = w.at.strftime("%H:%M") if w.at is not None else "?"
    return f"{', '.join(w.days)} at {at} for {w.duration}{zone}"


def _names(w: MaintenanceConfig, target: Target) -> list[str]:
    names: list[str] = getattr(w, target)
    return names


def _covers(w: MaintenanceConfig, target: Target, name: str) -> bool:
    names = _names(w, target)
    return ALL in names or name in names


class Maintenance:
    """The windows of the config and those planned over the API (kept in ``store``), asked
    by the alert engine, the health monitor and the agent registry from their threads."""

    def __init__(self, windows: Sequence[MaintenanceConfig], store: Store | None = None) -> None:
        self.configured = list(windows)
        self.store = store
        self._planned: dict[str, Planned] = {}
        self._lock = threading.Lock()

    @property
    def windows(self) -> list[MaintenanceConfig]:
        with self._lock:
            return self.configured + [p.window for p in self._planned.values()]

    def load(self) -> None:
        """Read the planned windows from the (open) store."""
        if self.store is not None:
            planned = load_planned(self.store)
            with self._lock:
                self._planned = {p.window.name: p for p in planned}

    def find(self, name: str) -> MaintenanceConfig | None:
        return next((w for w in self.windows if w.name == name), None)

    def planned(self, name: str) -> Planned | None:
        with self._lock:
            return self._planned.get(name)

    def plan(self, planned: Planned) -> None:
        """Add a one-off window (stored first: a full disk refuses it)."""
        if self.store is not None:
            save_planned(self.store, planned)
        with self._lock:
            self._planned[planned.window.name] = planned

    def end(self, name: str, now: datetime) -> Ending | None:
        """Take back a planned window: one that has not begun is removed; one in force ends
        now, and one over stays as it was: the time they covered stays out of uptime (and
        on the charts), since removing them would rewrite uptime already shown. None if no
        window by that name was planned."""
        with self._lock:
            planned = self._planned.get(name)
        if planned is None:
            return None
        w = planned.window
        assert w.start is not None and w.end is not None  # a planned window is a one-off one
        if w.start > now:
            if self.store is not None:
                delete_planned(self.store, name)
            with self._lock:
                self._planned.pop(name, None)
            return "removed"
        if w.end <= now:
            return "over"
        if self.store is not None:
            end_planned(self.store, name, now)
        ended = Planned(w.model_copy(update={"end": now}), planned.created_by, planned.created_at)
        with self._lock:
            self._planned[name] = ended
        return "ended"

    def covering(self, target: Target, name: str, at: datetime) -> tuple[MaintenanceConfig, Pair] | None:
        """The first window in force at ``at`` that covers ``name``, with its span."""
        for w in self.windows:
            if _covers(w, target, name) and (span := current_span(w, at)) is not None:
                return w, span
        return None

    def window_of(self, target: Target, name: str, at: datetime) -> str | None:
        """The name of the window covering a component or an agent now, for its status."""
        found = self.covering(target, name, at)
        return found[0].name if found else None

    def mute_for(self, labels: Mapping[str, str], at: datetime) -> Mute | None:
        """Mutes an alert whose rule, component or agent a window in force covers.
        (An agent rule over any agent has the label agent="any": only agents = ["*"] covers it.)"""
        asked: list[tuple[Target, str]] = [("rules", labels.get("alertname", ""))]
        if "component" in labels:
            asked.append(("components", labels["component"]))
        if "agent" in labels:
            agent = labels["agent"]
            asked.append(("agents", ALL if agent == "any" else agent))
        for target, name in asked:
            if name and (found := self.covering(target, name, at)) is not None:
                w, (_, end) = found
                return Mute(kind="maintenance", id=w.name, reason=w.description, until=end)
        return None

    def uptime_spans(self, component: str, since: datetime, until: datetime) -> list[Pair]:
        """Spans of the windows over ``component`` that uptime leaves out, joined and sorted."""
        found = sorted(
            s
            for w in self.windows
            if w.exclude_from_uptime and _covers(w, "components", component)
            for s in spans_between(w, since, until)
        )
        joined: list[Pair] = []
        for start, end in found:
            if joined and start <= joined[-1][1]:
                joined[-1] = (joined[-1][0], max(joined[-1][1], end))
            else:
                joined.append((start, end))
        return joined

    def views(self, now: datetime) -> list[MaintenanceWindow]:
        """Every window with the occurrence in force now and the next one."""
        return [_view(w, now, self.planned(w.name)) for w in self.windows]


_SHARED: weakref.WeakKeyDictionary[Store, Maintenance] = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


def shared_maintenance(windows: Sequence[MaintenanceConfig], store: Store) -> Maintenance:
    """The one :class:`Maintenance` of a dashboard's store: the health monitor and the agent
    registry ask the same windows (those planned over the API too) without the Runtime
    handing one to the other."""
    with _SHARED_LOCK:
        found = _SHARED.get(store)
        if found is None or found.configured != list(windows):
            found = _SHARED[store] = Maintenance(windows, store)
        return found


def maintenance_of(store: Store) -> Maintenance | None:
    """The windows of the dashboard that keeps its store in ``store``, if one runs (the time
    axis draws them)."""
    with _SHARED_LOCK:
        return _SHARED.get(store)


def _view(w: MaintenanceConfig, now: datetime, planned: Planned | None = None) -> MaintenanceWindow:
    current, upcoming = current_span(w, now), next_span(w, now)
    kind: Literal["once", "weekly", "cron"] = "once" if w.start is not None else "cron" if w.cron else "weekly"
    return MaintenanceWindow(
        name=w.name,
        description=w.description,
        components=list(w.components),
        agents=list(w.agents),
        rules=list(w.rules),
        kind=kind,
        schedule=schedule_text(w),
        timezone=w.timezone,
        exclude_from_uptime=w.exclude_from_uptime,
        active=current is not None,
        current=Span(start=current[0], end=current[1]) if current else None,
        next=Span(start=upcoming[0], end=upcoming[1]) if upcoming else None,
        origin="api" if planned else "config",
        created_by=planned.created_by if planned else None,
    )


Counts = tuple[int, int, int, int]  # checks and good checks over the week, then over the day
_BATCH = 300  # spans per query: three variables each, well within SQLite's limit


def checks_within(store: Store, spans_of: Mapping[str, list[Pair]], week: float, day: float) -> dict[str, Counts]:
    """component -> the checks (and good ones) made since ``week`` within its spans, and
    those since ``day``: what uptime takes away. Each span is an index range of health_checks."""
    rows = [(c, max(s.timestamp(), week), e.timestamp()) for c, pairs in spans_of.items() for s, e in pairs]
    found: dict[str, Counts] = {}
    for i in range(0, len(rows), _BATCH):
        batch = [r for r in rows[i : i + _BATCH] if r[2] > r[1]]
        if not batch:
            continue
        values = ", ".join("(?, ?, ?)" for _ in batch)
        for r in store.all(
            f"WITH w(c, s, e) AS (VALUES {values})"  # noqa: S608 - placeholders only
            " SELECT h.component AS component, COUNT(*) AS n_week, SUM(h.ok) AS ok_week, SUM(h.at >= ?) AS n_day,"
            " SUM(CASE WHEN h.at >= ? THEN h.ok ELSE 0 END) AS ok_day"
            " FROM w JOIN health_checks h ON h.component = w.c AND h.at >= w.s AND h.at < w.e GROUP BY h.component",
            [x for row in batch for x in row] + [day, day],
        ):
            old = found.get(r["component"], (0, 0, 0, 0))
            new = (r["n_week"], r["ok_week"] or 0, r["n_day"] or 0, r["ok_day"] or 0)
            found[r["component"]] = (old[0] + new[0], old[1] + new[1], old[2] + new[2], old[3] + new[3])
    return found


# -- what the pages show ------------------------------------------------------------
MAINTENANCE_ICON = "construction"


def maintenance_note(window: str | None) -> str | None:
    """The line a component's card or an agent's row shows while a window covers it."""
    return f"maintenance: {window} · checks go on, alerts muted, uptime leaves it out" if window else None


def window_rows(views: Sequence[MaintenanceWindow], tz: str) -> list[dict[str, str]]:
    """The Safety page's table: in force first, then by next start; times on the viewer's clock."""

    def when(span: Span | None) -> str:
        return (
            f"{local_time(span.start, tz, '%a %Y-%m-%d %H:%M')} to {local_time(span.end, tz, '%H:%M')}" if span else ""
        )

    def covers(v: MaintenanceWindow) -> str:
        parts = [
            (label, names) for label, names in (("components", v.components), ("agents", v.agents), ("rules", v.rules))
        ]
        return "; ".join(f"{label}: {', '.join(names)}" for label, names in parts if names)

    far = datetime.max.replace(tzinfo=UTC)
    ordered = sorted(views, key=lambda v: (not v.active, v.next.start if v.next else far))
    return [
        {
            "name": v.name,
            "state": "in force" if v.active else "scheduled" if v.next else "over",
            "covers": covers(v),
            "schedule": v.schedule,
            "now": when(v.current),
            "next": when(v.next),
            "description": v.description,
        }
        for v in ordered
    ]
