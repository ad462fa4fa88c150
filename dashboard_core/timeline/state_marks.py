"""Marks of states that last: alert intervals, components not healthy, agents offline.

Alerts come from the ``alerts`` table (one row per firing, by when it ended). A
component's or an agent's bad times come from its events of change (``data``
says ``from`` and ``to``): the changes inside the window, and the last change of
each before it, which says what state the window began in; one query on the
events' (kind, at) index, never the whole log.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from dashboard_core.app.links import agent_link, component_history, named_href, rule_link
from dashboard_core.models import AgentState, AlertState, ComponentState, EventKind, Severity
from dashboard_core.store import Store
from dashboard_core.timeline.mark_groups import group_mark
from dashboard_core.timeline.mark_model import BAD, GREY, SEVERITY_COLOURS, WARN, Mark, MarkKind, utc
from dashboard_core.timeline.mark_sql import fold, read_marks
from dashboard_core.units import format_duration


def alert_marks(store: Store, start: float, end: float, now: float, resolution_s: float | None = None) -> list[Mark]:
    """Each firing of a rule, from when its condition began to hold (pending) to when
    it resolved, or to now while it fires; coloured by the rule's severity. A time a
    rule was pending and did not fire is a grey span of state ``pending``."""
    base = (
        "SELECT 'alert:' || id AS k, began_at AS b, COALESCE(ended_at, :now) AS f,"
        f" CASE WHEN fired_at IS NULL AND ended_at IS NOT NULL THEN '{AlertState.PENDING.value}'"
        f" WHEN ended_at IS NULL THEN '{AlertState.FIRING.value}' ELSE '{AlertState.RESOLVED.value}' END AS st,"
        " rule AS src, ended_at IS NULL AS ongoing, id, severity, fired_at, message FROM alerts"
        " WHERE (ended_at >= :start OR ended_at IS NULL) AND began_at <= :end AND (ended_at IS NOT NULL OR :now >= :start)"
    )
    params = {"start": start, "end": end, "now": now}
    return read_marks(store, MarkKind.ALERT, base, params, _alert, _alert_colour, resolution_s)


def _alert_colour(row: sqlite3.Row) -> str:
    if row["st"] == AlertState.PENDING.value:
        return GREY  # it held, not long enough to fire
    return SEVERITY_COLOURS.get(Severity(row["severity"]), WARN)


def _alert(row: sqlite3.Row) -> Mark:
    severity = Severity(row["severity"])
    ongoing = bool(row["ongoing"])
    began, stopped = row["b"], row["f"]
    if row["st"] == AlertState.PENDING.value:
        phases = [f"pending {format_duration(stopped - began)}, did not fire"]
    else:
        fired = row["fired_at"] if row["fired_at"] is not None else began
        phases = [f"pending {format_duration(fired - began)}"] if fired > began else []
        phases.append(f"firing {format_duration(stopped - fired)}" + (" so far" if ongoing else ""))
        if not ongoing:
            phases.append("resolved")
    return Mark(
        kind=MarkKind.ALERT,
        key=row["k"],
        start=utc(began),
        end=utc(stopped),
        ongoing=ongoing,
        state=row["st"],
        colour=_alert_colour(row),
        label=f"Alert {row['src']} ({severity.value}): {', then '.join(phases)}",
        detail=row["message"],
        source=row["src"],
        href=named_href(rule_link, row["src"]),
    )


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
    resolution_s: float | None,
) -> list[Mark]:
    """Marks of the bad spans; ``make`` gives each one's kind, noun, colour and link.
    With ``resolution_s``, the spans are folded first (as rows: see
    :func:`~dashboard_core.timeline.mark_sql.fold`) and only what is drawn is made."""
    spans: list[_Span] = []
    for began, ended in _bad_spans(events, split, bad):
        stop, ongoing = (now, True) if ended is None else (ended, False)
        if stop < start or (ongoing and now < start):
            continue
        spans.append(
            (f"{make(began)[0].value}:{began.event_id}", began.at, stop, str(began.to), began.subject, ongoing, began)
        )
    if resolution_s is None:
        return [_state_mark(span, make) for span in spans]
    spans.sort(key=lambda span: (span[4], span[1], span[0]))
    marks = []
    for first, n, reach, ongoing in fold(spans, resolution_s):
        if n == 1:
            marks.append(_state_mark(first, make))
        else:
            kind, _noun, colour, _href = make(first[6])
            marks.append(group_mark(kind, first[0], n, utc(first[1]), utc(reach), ongoing, first[3], colour, first[4]))
    return marks


# A bad span as a row to fold: key, began, stopped, state, subject, ongoing, the change that began it.
_Span = tuple[str, float, float, str, str, bool, _Change]


def _state_mark(span: _Span, make: Callable[[_Change], tuple[MarkKind, str, str, str]]) -> Mark:
    key, at, stopped, state, subject, ongoing, began = span
    kind, noun, colour, href = make(began)
    took = format_duration(stopped - at) + (" so far" if ongoing else "")
    return Mark(
        kind=kind,
        key=key,
        start=utc(at),
        end=utc(stopped),
        ongoing=ongoing,
        state=state,
        colour=colour,
        label=f"{noun} {subject} {began.to} for {took}",
        detail=began.message,
        source=subject,
        href=href,
    )


def _component(began: _Change) -> tuple[MarkKind, str, str, str]:
    colour = BAD if began.to == ComponentState.DOWN.value else WARN
    return MarkKind.COMPONENT, "Component", colour, named_href(component_history, began.subject)


def _agent(began: _Change) -> tuple[MarkKind, str, str, str]:
    colour = GREY if began.to == AgentState.MISSING.value else BAD
    return MarkKind.AGENT, "Agent", colour, named_href(agent_link, began.subject)


def component_marks(
    store: Store, start: float, end: float, now: float, resolution_s: float | None = None
) -> list[Mark]:
    """The times a component was degraded or down (a span per state), from its changes of state."""
    events = _state_events(store, EventKind.COMPONENT, start, end)
    return _state_marks(events, _component_changes, _COMPONENT_BAD, _component, start, now, resolution_s)


def agent_marks(store: Store, start: float, end: float, now: float, resolution_s: float | None = None) -> list[Mark]:
    """The times an agent was offline: from the event that said so to the one that said
    it was back (or that it was forgotten or removed), or to now."""
    events = _state_events(store, EventKind.AGENT, start, end)
    return _state_marks(events, _agent_changes, _AGENT_BAD, _agent, start, now, resolution_s)
