"""Links between pages (dashboard_core.app.links): an alert to its rule and to what it
watches, an event to what it is about, a component to its history. Each link is
relative, and the page it leads to reads from it the view the link meant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from dashboard_core.app.links import (
    alert_links,
    alert_window,
    chart_key,
    component_history,
    event_hrefs,
    event_link,
    metrics_link,
    watched,
)
from dashboard_core.app.urls import Query
from dashboard_core.app.view_state import (
    EventsView,
    TestsView,
    WorkflowsView,
    parse_events,
    parse_tests,
    parse_workflows,
)
from dashboard_core.health.rules import MetricRule, parse_rule
from dashboard_core.metrics.charts import CHARTS
from dashboard_core.models import (
    AlertRecord,
    AlertState,
    Event,
    EventKind,
    RunInfo,
    RunStatus,
    Severity,
    StepInfo,
    StepStatus,
    Trigger,
    WorkflowRunInfo,
    WorkflowStatus,
)

NOW = datetime(2026, 12, 6, 12, 0, 30, tzinfo=UTC)


def query(url: str) -> Query:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def alert(began: datetime, ended: datetime | None, rule: str = "cpu-high") -> AlertRecord:
    return AlertRecord(
        id=1,
        rule=rule,
        severity=Severity.WARNING,
        state=AlertState.RESOLVED if ended else AlertState.FIRING,
        began_at=began,
        fired_at=began,
        ended_at=ended,
    )


def event(kind: EventKind, source: str, **data: object) -> Event:
    return Event(id=1, at=NOW, kind=kind, severity=Severity.INFO, source=source, message="m", data=data)


# -- charts --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("column", "key"),
    [
        ("cpu.total", "cpu"),
        ("cpu.core[3]", "cpu_cores"),
        ("memory.percent", "memory"),
        ("swap.percent", "memory"),
        ("disk.percent[/]", "disk_usage"),
        ("disk.percent", "disk_usage"),
        ("load.5", "load"),
        ("nic.recv[eth0]", "network_nics"),
        ("watch.rss[pytest]", "watch_rss"),
        ("proc.count", None),
        ("memory.available", None),
        ("prom.up", None),
    ],
)
def test_a_metric_maps_to_the_chart_that_draws_it(column: str, key: str | None) -> None:
    assert chart_key(column) == key


def test_every_charted_field_maps_to_its_own_chart() -> None:
    for spec in CHARTS:
        for field in spec.fields:
            assert chart_key(field) == spec.key, field


# -- alerts --------------------------------------------------------------------------
def test_an_alert_window_pads_its_time_in_whole_minutes() -> None:
    began = datetime(2026, 12, 6, 10, 0, 20, tzinfo=UTC)
    short = alert_window(alert(began, began + timedelta(minutes=4)), NOW)  # pad: the 5 min floor
    assert short == (datetime(2026, 12, 6, 9, 55, tzinfo=UTC), datetime(2026, 12, 6, 10, 10, tzinfo=UTC))
    long = alert_window(alert(began, began + timedelta(hours=2)), NOW)  # pad: a quarter, 30 min
    assert long == (datetime(2026, 12, 6, 9, 30, tzinfo=UTC), datetime(2026, 12, 6, 12, 31, tzinfo=UTC))
    lasting = alert_window(alert(began, None), NOW)  # still firing: up to now
    assert lasting == (datetime(2026, 12, 6, 9, 30, tzinfo=UTC), datetime(2026, 12, 6, 12, 1, tzinfo=UTC))


def test_a_metric_alert_links_to_its_rule_and_its_chart_over_its_time() -> None:
    began = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    rule, chart = alert_links(
        "cpu-high", parse_rule("cpu.total > 90 for 5m"), alert(began, began + timedelta(minutes=20)), NOW
    )
    assert rule.href == "safety?rule=cpu-high"
    assert chart.href == "metrics?from=2026-12-06T09:55:00Z&to=2026-12-06T10:25:00Z&chart=cpu"
    assert chart.label == "Chart of cpu.total"


def test_a_metric_rule_with_no_alert_links_to_its_last_hour_and_an_uncharted_one_to_no_chart() -> None:
    assert (
        metrics_link(MetricRule("disk.percent", "/", ">", 90, "90"), None, NOW).href
        == "metrics?window=1h&chart=disk_usage"
    )
    assert metrics_link(MetricRule("prom.up", None, "<", 1, "1"), None, NOW).href == "metrics?window=1h"


@pytest.mark.parametrize(
    ("rule", "href"),
    [
        ("component web down for 1m", "events?kind=component&source=web&window=7d"),
        ("agent builder-1 offline for 2m", "agents?agent=builder-1"),
        ("agent any unavailable", "agents"),
        ("suite unit failed", "tests?suite=unit"),
        ("suite unit gate failed", "tests?suite=unit"),
        ("suite unit new flaky", "tests?suite=unit&tab=history"),
        ("suite unit regression", "tests?suite=unit&tab=slower"),
        ("suite any gate failed", "tests"),
    ],
)
def test_a_rule_links_to_what_it_watches(rule: str, href: str) -> None:
    assert watched(parse_rule(rule), None, NOW).href == href


@pytest.mark.parametrize(
    ("rule", "href", "label"),
    [
        ("suite unit failed", "tests?suite=unit&run=12", "Run 12 of unit"),
        ("suite unit gate failed", "tests?suite=unit&run=12", "Run 12 of unit"),
        ("suite unit new flaky", "tests?suite=unit&run=12&tab=history", "Flaky tests at run 12 of unit"),
        ("suite unit regression", "tests?suite=unit&run=12&tab=slower", "Slower tests of run 12 of unit"),
        ("suite any regression", "tests?run=12&tab=slower", "Slower tests of run 12"),  # the run names its suite
    ],
)
def test_a_suite_rules_alert_links_to_its_run_on_the_tab_its_event_is_seen_in(rule: str, href: str, label: str) -> None:
    link = watched(parse_rule(rule), alert(NOW, None, "r").model_copy(update={"run_id": 12}), NOW)
    assert (link.href, link.label) == (href, label)
    run = RunInfo(id=12, suite="unit", trigger=Trigger.UI, status=RunStatus.FAILED, queued_at=NOW)
    view = parse_tests(link.query, ["unit"], {12: run}.get)
    assert view.problems == () and view.view.run == 12


def test_an_alert_whose_rule_is_gone_links_to_its_rule_only() -> None:
    assert [link.href for link in alert_links("old-rule", None, None, NOW)] == ["safety?rule=old-rule"]


# -- events --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("made", "href"),
    [
        (event(EventKind.TEST_RUN, "unit", run_id=12, status="failed"), "tests?suite=unit&run=12"),
        (event(EventKind.WORKFLOW, "nightly", run_id=3, to="running"), "workflows?workflow=nightly&run=3"),
        (event(EventKind.COMPONENT, "web", to="down"), "events?kind=component&source=web&window=7d"),
        (event(EventKind.AGENT, "builder-1", to="offline"), "agents?agent=builder-1"),
        (event(EventKind.AGENT, "agents", forgotten=["a", "b"], count=2), "agents"),
        (event(EventKind.AGENT, "gone", removed=True), "agents"),
        (event(EventKind.ALERT, "cpu-high", rule="cpu-high"), "safety?rule=cpu-high"),
        (event(EventKind.SYSTEM, "store"), None),
        (event(EventKind.AUDIT, "admin"), None),
        (event(EventKind.TEST_RUN, "unit"), None),  # no run id: nothing to open
        (event(EventKind.TEST_RUN, "unit", run_id=True), None),
        (event(EventKind.TEST_RUN, "unit", run_id="12"), None),
    ],
)
def test_an_event_links_to_what_it_is_about(made: Event, href: str | None) -> None:
    link = event_link(made)
    assert (link.href if link is not None else None) == href
    assert event_hrefs([made]) == [href]


def test_every_link_is_relative() -> None:
    links = [
        component_history("a/b?c"),
        *alert_links("r", parse_rule("cpu.total > 1"), alert(NOW - timedelta(hours=1), None), NOW),
        *(event_link(event(kind, "x y", run_id=1)) for kind in EventKind),
    ]
    for link in links:
        if link is None:
            continue
        parts = urlsplit(link.href)
        assert not parts.scheme and not parts.netloc and not link.href.startswith("/"), link.href


# -- a link and the page it leads to -------------------------------------------------
def test_the_page_a_link_leads_to_reads_the_view_it_meant() -> None:
    history = parse_events(query(component_history("web & co").href), list(EventKind), NOW)
    assert history.problems == ()
    assert history.view == EventsView(kinds=(EventKind.COMPONENT,), source="web & co", window="7d")

    run = RunInfo(id=12, suite="unit", trigger=Trigger.UI, status=RunStatus.FAILED, queued_at=NOW)
    link = event_link(event(EventKind.TEST_RUN, "unit", run_id=12))
    assert link is not None
    assert parse_tests(link.query, ["unit"], {12: run}.get).view == TestsView("unit", 12)

    wf = WorkflowRunInfo(
        id=3,
        workflow="nightly",
        trigger=Trigger.UI,
        status=WorkflowStatus.RUNNING,
        started_at=NOW,
        steps=[StepInfo(name="build", status=StepStatus.RUNNING, log_path="/tmp/build.log")],
    )
    link = event_link(event(EventKind.WORKFLOW, "nightly", run_id=3))
    assert link is not None
    assert parse_workflows(link.query, ["nightly"], {3: wf}.get, lambda _: 3).view == WorkflowsView("nightly", 3)
