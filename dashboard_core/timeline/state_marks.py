"""Marks of states that last: alert intervals, components not healthy, agents offline.

Alerts come from the ``alerts`` table (one row per firing, by when it ended). A
component's or an agent's bad times come from its events of change (``data``
says ``from`` and ``to``): the changes inside the window, and the last change of
each before it, which says what state the window began in; one query on the
events' (kind, at) index, never the whole log.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from dashboard_core.app.links import agent_link, component_history, named_href, rule_link
from dashboard_core.models import AgentState, AlertState, ComponentState, EventKind, Severity
from dashboard_core.store import Store
from dashboard_core.timeline.mark_model import BAD, GREY, SEVERITY_COLOURS, WARN, Mark, MarkKind, span_end, utc
from dashboard_core.units import format_duration


def alert_marks(store: Store, start: float, end: float, now: float) -> list[Mark]:
    """Each firing of a rule, from when its condition began to hold (pending) to when
    it resolved, or to now while it fires; coloured by the rule's severity."""
    rows = store.all(
        "SELECT id, rule, severity, state, began_at, fired_at, ended_at, message FROM alerts"
        " WHERE (ended_at >= :start OR ended_at IS NULL) AND began_at <= :end",
        {"start": start, "end": end},
    )
    marks = []
    for row in rows:
        if row["ended_at"] is None and now < start:
            continue
        severity = Severity(row["severity"])
        stop, ongoing = span_end(row["ended_at"], now)
        state = AlertState.FIRING.value if ongoing else AlertState.RESOLVED.value
        fired = row["fired_at"] if row["fired_at"] is not None else row["began_at"]
        phases = [f"pending {format_duration(fired - row['began_at'])}"] if fired > row["began_at"] else []
        phases.append(f"firing {format_duration(stop.timestamp() - fired)}" + (" so far" if ongoing else ""))
        if not ongoing:
            phases.append("resolved")
        marks.append(
            Mark(
                kind=MarkKind.ALERT,
                key=f"alert:{row['id']}",
                start=utc(row["began_at"]),
                end=stop,
                ongoing=ongoing,
                state=state,
                colour=SEVERITY_COLOURS.get(severity, WARN),
                label=f"Alert {row['rule']} ({severity.value}): {', then '.join(phases)}",
                detail=row["message"],
                source=row["rule"],
                href=named_href(rule_link, row["rule"]),
            )
        )
    return marks


@dataclass(frozen=True, slots=True)
class _Change:
    event_id: int
    at: float
    subject: str
    to: str | None  # the state entered; None: the subject is gone (an agent forgotten or removed)
    message: str


# One change event, its data read by SQLite: (id, at, source, message, to, forgotten, removed);
# ``forgotten`` the JSON list of the agents forgotten at once, if it is such an event.
_Row = tuple[int, float, str, str, str | None, str | None, int | None]
_DATA = (
    "CASE WHEN json_valid(data) THEN json_extract(data, '$.to') END,"
    " CASE WHEN json_valid(data) THEN json_extract(data, '$.forgotten') END,"
    " CASE WHEN json_valid(data) THEN json_extract(data, '$.removed') END"
)


def _state_events(store: Store, kind: EventKind, start: float, end: float) -> list[_Row]:
    """The events of ``kind`` in [start, end] and the last one of each source before
    ``start``, oldest first (what each says is read in SQL: no JSON parsed in Python)."""
    rows = store.all(
        f"SELECT id, at, source, message, {_DATA} FROM events WHERE kind = :kind AND at >= :start AND at <= :end"
        f" UNION ALL SELECT id, at, source, message, {_DATA} FROM events WHERE id IN"
        " (SELECT MAX(id) FROM events WHERE kind = :kind AND at < :start GROUP BY source)"
        " ORDER BY at, id",
        {"kind": kind.value, "start": start, "end": end},
    )
    return [tuple(r) for r in rows]


def _component_changes(row: _Row) -> list[_Change]:
    event_id, at, source, message, to, _, _ = row
    return [_Change(event_id, at, source, to if isinstance(to, str) else None, message)]


def _agent_changes(row: _Row) -> list[_Change]:
    event_id, at, source, message, to, forgotten, removed = row
    if forgotten is not None:  # one event for every agent forgotten at once
        try:
            names = json.loads(forgotten)
        except ValueError:
            names = []
        return [_Change(event_id, at, str(name), None, message) for name in names if isinstance(names, list)]
    if removed:
        return [_Change(event_id, at, source, None, message)]
    return [_Change(event_id, at, source, to if isinstance(to, str) else None, message)]


Split = Callable[[_Row], list[_Change]]


def _bad_spans(events: Iterable[_Row], split: Split, bad: frozenset[str]) -> list[tuple[_Change, float | None]]:
    """The spans each subject spent in a ``bad`` state: the change that began it and
    when it ended (None: it goes on). A change to another state ends it."""
    open_: dict[str, _Change] = {}
    spans: list[tuple[_Change, float | None]] = []
    for row in events:
        for change in split(row):
            began = open_.pop(change.subject, None)
            if began is not None:
                spans.append((began, change.at))
            if change.to in bad:
                open_[change.subject] = change
    spans.extend((began, None) for began in open_.values())
    return spans


_COMPONENT_BAD = frozenset({ComponentState.DEGRADED.value, ComponentState.DOWN.value})
_AGENT_BAD = frozenset({AgentState.OFFLINE.value, AgentState.MISSING.value})


def _state_marks(
    events: list[_Row],
    split: Split,
    bad: frozenset[str],
    make: Callable[[_Change], tuple[MarkKind, str, str, str]],
    start: float,
    now: float,
) -> list[Mark]:
    """Marks of the bad spans; ``make`` gives each one's kind, noun, colour and link."""
    marks = []
    for began, ended in _bad_spans(events, split, bad):
        stop, ongoing = span_end(ended, now)
        if stop.timestamp() < start or (ongoing and now < start):
            continue
        kind, noun, colour, href = make(began)
        took = format_duration(stop.timestamp() - began.at) + (" so far" if ongoing else "")
        marks.append(
            Mark(
                kind=kind,
                key=f"{kind.value}:{began.event_id}",
                start=utc(began.at),
                end=stop,
                ongoing=ongoing,
                state=str(began.to),
                colour=colour,
                label=f"{noun} {began.subject} {began.to} for {took}",
                detail=began.message,
                source=began.subject,
                href=href,
            )
        )
    return marks


def _component(began: _Change) -> tuple[MarkKind, str, str, str]:
    colour = BAD if began.to == ComponentState.DOWN.value else WARN
    return MarkKind.COMPONENT, "Component", colour, named_href(component_history, began.subject)


def _agent(began: _Change) -> tuple[MarkKind, str, str, str]:
    colour = GREY if began.to == AgentState.MISSING.value else BAD
    return MarkKind.AGENT, "Agent", colour, named_href(agent_link, began.subject)


def component_marks(store: Store, start: float, end: float, now: float) -> list[Mark]:
    """The times a component was degraded or down (a span per state), from its changes of state."""
    events = _state_events(store, EventKind.COMPONENT, start, end)
    return _state_marks(events, _component_changes, _COMPONENT_BAD, _component, start, now)


def agent_marks(store: Store, start: float, end: float, now: float) -> list[Mark]:
    """The times an agent was offline: from the event that said so to the one that said
    it was back (or that it was forgotten or removed), or to now."""
    events = _state_events(store, EventKind.AGENT, start, end)
    return _state_marks(events, _agent_changes, _AGENT_BAD, _agent, start, now)
