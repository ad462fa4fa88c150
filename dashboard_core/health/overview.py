"""What the Overview and Safety pages show, as plain values: summary cards,
component facts, and tables ready for a table widget (no streamlit here).

Times come in UTC and go out in the viewer's time zone (``tz``); ``now`` is
passed in, so every function here is pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from dashboard_core.health.alert_state import number
from dashboard_core.health.event_rows import collapse
from dashboard_core.labels import SAFETY_COLOUR, SAFETY_ICON, Colour, Icon
from dashboard_core.models import (
    AlertRecord,
    AlertState,
    ComponentState,
    ComponentStatus,
    Event,
    Overview,
    RuleStatus,
    RunInfo,
    RunStatus,
    Severity,
    SuiteInfo,
)
from dashboard_core.models.silences import Mute
from dashboard_core.units import format_duration

EVENT_COLUMNS = ["when", "severity", "source", "message"]
RULE_COLUMNS = ["state", "name", "severity", "rule", "value", "since", "message", "quiet", "webhook_error"]
HISTORY_COLUMNS = ["rule", "severity", "state", "began", "fired", "ended", "duration", "min", "max", "mean", "message"]


@dataclass(frozen=True, slots=True)
class Summary:
    """One summary card: a label, a big value, a coloured note under it (and an icon by the label)."""

    label: str
    value: str
    note: str | None = None
    colour: Colour = "gray"
    help: str | None = None
    icon: Icon | None = None


# -- times ---------------------------------------------------------------------------
def clock(at: datetime | None, tz: str, now: datetime) -> str:
    """``14:03:07`` for today (in ``tz``), ``2024-05-01 14:03`` before; ``—`` for none."""
    if at is None:
        return "—"
    local = pd.Timestamp(at).tz_convert(tz)
    if local.date() == pd.Timestamp(now).tz_convert(tz).date():
        return local.strftime("%H:%M:%S")
    return local.strftime("%Y-%m-%d %H:%M")


def ago(at: datetime | None, now: datetime) -> str:
    """``3 min 5 s`` since ``at``; empty for none."""
    if at is None:
        return ""
    return format_duration(max(0.0, (now - at).total_seconds()))


# -- the summary row -----------------------------------------------------------------
def summary_cards(overview: Overview) -> list[Summary]:
    """Safety, components, agents, tests. (The host's CPU, memory and disk are the live
    cards of the page's Host part, drawn every sample without a rerun of the page.)"""
    return [
        safety_card(overview.safety, len(overview.firing)),
        components_card(overview.components),
        agents_card(overview.agents.online, overview.agents.total),
        suites_card(overview.suites),
    ]


def safety_card(status: str, firing: int) -> Summary:
    note = f"{firing} alert{'s' if firing != 1 else ''} firing" if firing else "no alert firing"
    return Summary("Safety", status, note, SAFETY_COLOUR[status], "Details on the Safety page.", SAFETY_ICON[status])


def components_card(components: Sequence[ComponentStatus]) -> Summary:
    if not components:
        return Summary("Components", "—", "none configured", "gray", "Add [[components]] to dashboard.toml.")
    counts = {s: sum(1 for c in components if c.state is s) for s in ComponentState}
    healthy, total = counts[ComponentState.HEALTHY], len(components)
    if counts[ComponentState.DOWN]:
        colour: Colour = "red"
    elif counts[ComponentState.DEGRADED]:
        colour = "orange"
    elif healthy == total:
        colour = "green"
    else:
        colour = "gray"
    others = [f"{counts[s]} {s.value}" for s in (ComponentState.DOWN, ComponentState.DEGRADED, ComponentState.UNKNOWN)]
    note = ", ".join(o for o in others if not o.startswith("0 ")) or "all healthy"
    return Summary("Components", f"{healthy} of {total}", note, colour, "Healthy components of all configured.")


def agents_card(online: int, total: int) -> Summary:
    if not total:
        return Summary("Agents", "—", "none seen or expected", "gray", "Agents send heartbeats to the API.")
    colour: Colour = "green" if online == total else "red" if online == 0 else "orange"
    return Summary("Agents", f"{online} of {total}", "online", colour, "Agents online of all seen or expected.")


def suites_card(suites: Sequence[SuiteInfo]) -> Summary:
    if not suites:
        return Summary("Tests", "—", "no suites configured", "gray", "Add [[suites]] to dashboard.toml.")
    runs = [s.last_full_run for s in suites if s.last_full_run is not None]
    passed = sum(1 for r in runs if r.status is RunStatus.PASSED)
    failing, never = len(runs) - passed, len(suites) - len(runs)
    notes = [f"{failing} failing"] if failing else []
    if never:
        notes.append(f"{never} never run")
    colour: Colour = "red" if failing else "green" if passed == len(suites) else "gray"
    return Summary(
        "Tests",
        f"{passed} of {len(suites)}",
        ", ".join(notes) or "all passed",
        colour,
        "Suites whose last full run passed.",
    )


# -- components ----------------------------------------------------------------------
def component_facts(c: ComponentStatus) -> list[str]:
    """The card's measured facts: the last check's latency and the share of good checks."""
    facts = []
    if c.latency_ms is not None:
        facts.append(f"latency {c.latency_ms:.0f} ms" if c.latency_ms >= 10 else f"latency {c.latency_ms:.1f} ms")
    if c.performance_percent is not None:
        facts.append(f"{c.performance_percent:.0f} % ok, last hour")
    return facts


def uptime_line(c: ComponentStatus) -> str | None:
    """``uptime 24 h 99.93 % · 7 d 99.1 %`` with what is known; None before any."""
    known = [
        f"{label} {_percent(value)}"
        for label, value in (("24 h", c.uptime_24h_percent), ("7 d", c.uptime_7d_percent))
        if value is not None
    ]
    return "uptime " + " · ".join(known) if known else None


def failing_note(c: ComponentStatus) -> str | None:
    """``3 failed checks in a row: connection refused…`` while it fails."""
    if not c.consecutive_failures:
        return None
    n = c.consecutive_failures
    head = f"{n} failed check{'s' if n != 1 else ''} in a row"
    return f"{head}: {c.last_error}" if c.last_error else head


def _percent(value: float) -> str:
    return "100 %" if value >= 99.995 else f"{value:.2f} %" if value >= 99 else f"{value:.1f} %"


# -- suites and agents ---------------------------------------------------------------
def latest_run(suite: SuiteInfo) -> RunInfo | None:
    """The run to show for a suite: the one going now, else the newest finished."""
    return suite.active_run or suite.last_run


def run_line(run: RunInfo, tz: str, now: datetime) -> str:
    """``passed · 12 passed · 14:03:07`` (the page puts the status's icon before it)."""
    parts = [run.status.value]
    if run.status.finished:
        parts.append(run.summary())
    if run.rerun_of is not None:
        parts.append(f"re-run of #{run.rerun_of}")
    parts.append(clock(run.ended_at or run.started_at or run.queued_at, tz, now))
    return " · ".join(parts)


# -- tables --------------------------------------------------------------------------
def events_table(events: Sequence[Event], tz: str, now: datetime) -> pd.DataFrame:
    """A compact table of events (as given, newest first), repeats collapsed into one row
    (a crash-looping service is one line, not ten): local time, severity, source, message."""
    rows = [
        {
            "when": clock(row.newest.at, tz, now),
            "severity": row.newest.severity.value,
            "source": row.newest.source,
            "message": row.message,
        }
        for row in collapse(events)
    ]
    return pd.DataFrame(rows, columns=EVENT_COLUMNS)


def rules_table(rules: Sequence[RuleStatus], tz: str, now: datetime) -> pd.DataFrame:
    """One row of text per rule, firing first, then pending, resolved, ok; critical first within each."""
    order = {AlertState.FIRING: 0, AlertState.PENDING: 1, AlertState.RESOLVED: 2, AlertState.OK: 3}
    ranked = sorted(rules, key=lambda r: (order[r.state], r.severity is not Severity.CRITICAL))
    rows = [
        {
            "state": r.state.value,
            "name": r.name,
            "severity": r.severity.value,
            "rule": r.rule,
            "value": number(r.value),
            "since": clock(r.since, tz, now),
            "message": r.message,
            "quiet": quiet_rule(r.muted, tz, now),
            "webhook_error": r.webhook_error or "",
        }
        for r in ranked
    ]
    return pd.DataFrame(rows, columns=RULE_COLUMNS)


def mute_tail(mute: Mute, tz: str, now: datetime) -> str:
    """When a mute ends and why, as the end of a sentence: `` until 14:00: deploy``."""
    until = f" until {clock(mute.until, tz, now)}" if mute.until else ""
    return until + (f": {mute.reason}" if mute.reason else "")


def quiet_rule(mute: Mute | None, tz: str, now: datetime) -> str:
    """A rule's silence or maintenance window now, in words: ``silenced until 14:00: deploy``."""
    if mute is None:
        return ""
    what = "silenced" if mute.kind == "silence" else f"maintenance {mute.id}"
    return what + mute_tail(mute, tz, now)


def history_table(alerts: Sequence[AlertRecord], tz: str, now: datetime) -> pd.DataFrame:
    """One row per alert (as given, newest first); times local and naive, duration in words."""
    rows = [
        {
            "rule": a.rule,
            "severity": a.severity.value,
            "state": a.state.value,
            "began": a.began_at,
            "fired": a.fired_at,
            "ended": a.ended_at,
            "duration": alert_duration(a, now),
            "min": a.min,
            "max": a.max,
            "mean": a.mean,
            "message": a.message,
        }
        for a in alerts
    ]
    frame = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
    for column in ("began", "fired", "ended"):
        frame[column] = _local_naive(frame[column], tz)
    for column in ("min", "max", "mean"):
        frame[column] = pd.to_numeric(frame[column])
    return frame


def alert_duration(alert: AlertRecord, now: datetime) -> str:
    """From the condition's start to its end; ``… so far`` while it lasts."""
    if alert.ended_at is not None:
        return format_duration((alert.ended_at - alert.began_at).total_seconds())
    return f"{format_duration(max(0.0, (now - alert.began_at).total_seconds()))} so far"


def _local_naive(column: pd.Series, tz: str) -> pd.Series:
    times = pd.to_datetime(column, utc=True)
    return times.dt.tz_convert(tz).dt.tz_localize(None)
