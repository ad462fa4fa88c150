"""Links between the pages: from an alert to its rule and to what it watches (a metric's
chart over the alert's time, a component's history, an agent, a suite), from an event
to what it is about, from a component to its history.

A :class:`Link` names a page and a query; pages draw it (``st.page_link``, a link
column) and its :attr:`Link.href` is relative. A link is built from what the viewer
already sees (an event read with ``who=`` the viewer), so it tells nothing more.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from dashboard_core.app.test_views import RunTab
from dashboard_core.app.urls import AGENTS, EVENTS, METRICS, SAFETY, TESTS, WORKFLOWS, Query, href
from dashboard_core.app.view_state import EventsView, TestsView, events_query, one_query, results_query
from dashboard_core.health.rules import AgentRule, ComponentRule, MetricRule, Rule, SuiteRule
from dashboard_core.metrics.charts import CHARTS, ChartSpec
from dashboard_core.metrics.fields import split_column
from dashboard_core.models import AlertRecord, Event, EventKind
from dashboard_core.units import utc_iso

HISTORY_WINDOW = "7d"  # a component's history: its changes of state over the last week
RULE_WINDOW = "1h"  # a metric rule's chart when no alert of it is in view
MIN_PAD = timedelta(minutes=5)  # before and after an alert on its chart, at least


@dataclass(frozen=True, slots=True)
class Link:
    """A link to ``page`` (its URL path) with ``query``; ``icon`` a Material Symbols name."""

    label: str
    page: str
    query: Query
    icon: str

    @property
    def href(self) -> str:
        return href(self.page, self.query)


# -- to a thing ----------------------------------------------------------------------
def events_of(kind: EventKind, source: str, label: str | None = None) -> Link:
    """The Events page at the events of one kind about ``source``, the last week."""
    view = EventsView(kinds=(kind,), source=source, window=HISTORY_WINDOW)
    return Link(label or f"Events of {source}", EVENTS, events_query(view), "history")


def component_history(name: str) -> Link:
    """A component's history: its changes of state on the Events page."""
    return events_of(EventKind.COMPONENT, name, f"History of {name}")


def annotations_link(start: datetime, end: datetime) -> Link:
    """The Events page's annotations (and their events) around [start, end]."""
    view = EventsView(kinds=(EventKind.ANNOTATION,), start=start - MIN_PAD, end=end + MIN_PAD)
    return Link("Annotations", EVENTS, events_query(view), "sticky_note_2")


def agent_link(name: str | None) -> Link:
    """The Agents page with ``name`` picked (all agents for None)."""
    return Link(f"Agent {name}" if name else "Agents", AGENTS, one_query("agent", name), "smart_toy")


def rule_link(name: str) -> Link:
    return Link(f"Rule {name}", SAFETY, one_query("rule", name), "shield")


def suite_link(suite: str) -> Link:
    return Link(f"Runs of {suite}", TESTS, one_query("suite", suite), "science")


def suite_run_link(suite: str, run_id: int) -> Link:
    return Link(f"Run {run_id} of {suite}", TESTS, {"suite": [suite], "run": [str(run_id)]}, "science")


def workflow_run_link(workflow: str, run_id: int) -> Link:
    return Link(
        f"Run {run_id} of {workflow}", WORKFLOWS, {"workflow": [workflow], "run": [str(run_id)]}, "account_tree"
    )


# -- the same hrefs, fast: the time axis builds thousands per read ---------------------
@lru_cache(maxsize=4096)
def named_href(link: Callable[[str], Link], name: str) -> str:
    """``link(name).href``, computed once per name (a component's history, an agent, a rule)."""
    return link(name).href


def suite_run_href(suite: str, run_id: int) -> str:
    """``suite_run_link(suite, run_id).href``, its encoded suite name computed once."""
    return f"{named_href(suite_link, suite)}&run={run_id}" if suite else suite_run_link(suite, run_id).href


def _workflow_link(workflow: str) -> Link:
    return Link(workflow, WORKFLOWS, {"workflow": [workflow]}, "account_tree")


def workflow_run_href(workflow: str, run_id: int) -> str:
    """``workflow_run_link(workflow, run_id).href``, its encoded name computed once."""
    return (
        f"{named_href(_workflow_link, workflow)}&run={run_id}" if workflow else workflow_run_link(workflow, run_id).href
    )


def annotations_href(start: float, end: float) -> str:
    """``annotations_link(start, end).href`` for epoch seconds, without datetimes or encoding
    (its values need none): a tenth of the time, for the thousand annotations of a month."""
    pad = MIN_PAD.total_seconds()
    return f"{EVENTS}?kind={EventKind.ANNOTATION.value}&from={_iso_z(start - pad)}&to={_iso_z(end + pad)}"


@lru_cache(maxsize=1024)
def _events_of_href(kind: EventKind, source: str) -> str:
    return Link("Events", EVENTS, events_query(EventsView(kinds=(kind,), source=source)), "history").href


def events_span_href(kind: EventKind, source: str, start: float, end: float) -> str:
    """The Events page at ``kind``'s events about ``source`` from ``start`` to ``end`` (epoch
    seconds, to the second): as ``events_query`` writes it, its prefix encoded once."""
    return f"{_events_of_href(kind, source)}&from={_iso_z(start)}&to={_iso_z(end)}"


def _iso_z(epoch: float) -> str:
    """``utc_iso`` of an epoch time (to the second, truncated)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(math.floor(epoch)))


# -- metric charts -------------------------------------------------------------------
def chart_key(column: str, charts: Sequence[ChartSpec] = CHARTS) -> str | None:
    """The Metrics chart that draws ``column`` (``disk.percent[/]`` -> ``disk_usage``), if any."""
    field = split_column(column)[0]
    return next((spec.key for spec in charts if field in spec.fields), None)


def alert_window(alert: AlertRecord, now: datetime) -> tuple[datetime, datetime]:
    """The time around an alert: from a quarter of its length (at least 5 min) before it
    began to as long after it ended, or to now while it lasts; whole minutes, so the
    link stays the same for a minute."""
    import pandas as pd  # an alert's link: not on the live Metrics page's path

    end = alert.ended_at or now
    pad = max(MIN_PAD, (end - alert.began_at) / 4)
    start = pd.Timestamp(alert.began_at - pad).floor("min")
    stop = pd.Timestamp(end + pad if alert.ended_at is not None else end).ceil("min")
    return start.to_pydatetime(), stop.to_pydatetime()


def metrics_link(rule: MetricRule, alert: AlertRecord | None, now: datetime) -> Link:
    """The Metrics page at the rule's chart: over the alert's time, or the last hour."""
    chart = chart_key(rule.column)
    query: Query = {}
    if alert is not None:
        start, end = alert_window(alert, now)
        query = {"from": [utc_iso(start)], "to": [utc_iso(end)]}
    else:
        query = {"window": [RULE_WINDOW]}
    if chart is not None:
        query["chart"] = [chart]
    return Link(f"Chart of {rule.column}", METRICS, query, "monitoring")


# -- from an alert or an event -------------------------------------------------------
def watched(rule: Rule, alert: AlertRecord | None, now: datetime) -> Link:
    """What a rule watches: a metric's chart, a component's history, an agent, a suite."""
    match rule:
        case MetricRule():
            return metrics_link(rule, alert, now)
        case ComponentRule():
            return component_history(rule.component)
        case AgentRule():
            return agent_link(rule.agent)
        case SuiteRule():
            return suite_watched(rule, alert.run_id if alert is not None else None)


# What a suite rule's alert is about: its run, the flaky panel (the Suite history tab) or the slower tests.
_SUITE_TABS: dict[str, tuple[RunTab | None, str, str]] = {
    "failed": (None, "{Run}", "science"),
    "gate failed": (None, "{Run}", "science"),
    "new flaky": (RunTab.HISTORY, "Flaky tests at {run}", "casino"),
    "regression": (RunTab.SLOWER, "Slower tests of {run}", "trending_up"),
}


def suite_watched(rule: SuiteRule, run_id: int | None) -> Link:
    """The Tests page at the run a suite rule's alert is about, on the tab its event is
    seen in; without a run (no alert yet), at the suite's newest run (any suite's for ``any``)."""
    tab, label, icon = _SUITE_TABS[rule.event]
    if run_id is None and tab is None:
        return suite_link(rule.suite) if rule.suite is not None else Link("Test runs", TESTS, {}, "science")
    run = f"run {run_id}" if run_id is not None else "the newest run"
    said = label.format(run=run, Run=run.capitalize()) + (f" of {rule.suite}" if rule.suite else "")
    return Link(said, TESTS, results_query(TestsView(rule.suite, run_id, None, tab)), icon)


def alert_links(name: str, rule: Rule | None, alert: AlertRecord | None, now: datetime) -> list[Link]:
    """An alert's (or a rule's) links: the rule on the Safety page, then what it watches."""
    links = [rule_link(name)]
    if rule is not None:
        links.append(watched(rule, alert, now))
    return links


def run_of(data: Mapping[str, object]) -> int | None:
    """The run id an event's data names, None if it names none (or not as a whole number)."""
    run_id = data.get("run_id")
    return run_id if isinstance(run_id, int) and not isinstance(run_id, bool) else None


def event_link(event: Event) -> Link | None:
    """Where an event leads: its test run, workflow run, component's history, agent or
    rule; None for what has no page (the dashboard itself, the audit log)."""
    run = run_of(event.data)
    match event.kind:
        case EventKind.TEST_RUN | EventKind.TEST_REGRESSION if run is not None:
            return suite_run_link(event.source, run)
        case EventKind.WORKFLOW if run is not None:
            return workflow_run_link(event.source, run)
        case EventKind.COMPONENT:
            return component_history(event.source)
        case EventKind.AGENT:  # one that was forgotten or removed is no longer on the page
            gone = "forgotten" in event.data or "removed" in event.data
            return agent_link(None if gone else event.source)
        case EventKind.ALERT:
            return rule_link(event.source)
        case EventKind.ANNOTATION:  # around its time (the event says it), else around the change
            start, end = _time_in(event.data, "start") or event.at, _time_in(event.data, "end")
            return annotations_link(start, end or start)
    return None


def _time_in(data: dict[str, object], key: str) -> datetime | None:
    value = data.get(key)
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def event_hrefs(events: Sequence[Event]) -> list[str | None]:
    """The relative link of each event (None where there is none), for a link column."""
    links = [event_link(e) for e in events]
    return [link.href if link is not None else None for link in links]
