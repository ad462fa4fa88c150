"""The Overview and Safety pages through AppTest, against a real running Runtime
that checks a real HTTP server on loopback (switched between healthy and 500 by
the test), expects an agent and judges real alert rules."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from dashboard_core import runtime as runtime_module
from dashboard_core.app import queries
from dashboard_core.app.caller import Caller
from dashboard_core.app.queries import overview_version
from dashboard_core.auth.principals import OPEN
from dashboard_core.config import load_config
from dashboard_core.health.overview import (
    alert_duration,
    clock,
    component_facts,
    events_table,
    failing_note,
    history_table,
    rules_table,
    suites_card,
    uptime_line,
)
from dashboard_core.models import (
    AlertRecord,
    AlertState,
    ComponentState,
    ComponentStatus,
    Event,
    EventKind,
    Overview,
    RuleStatus,
    RunInfo,
    RunStatus,
    Severity,
    StepInfo,
    StepStatus,
    SuiteInfo,
    Trigger,
    WorkflowRunInfo,
    WorkflowStatus,
)
from dashboard_core.runtime import Runtime
from tests.polling import wait_until

ROUTER = str(Path(__file__).parents[2] / "ui" / "router.py")
TIMEOUT = 60  # AppTest's run timeout on a loaded 2-core machine
WAIT = 60  # seconds for the runtime's threads to see a change


class Switchable:
    """An HTTP server on a free loopback port answering 200, or 500 when told."""

    def __init__(self) -> None:
        self.failing = False
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server name)
                outer.requests += 1
                code = 500 if outer.failing else 200
                body = b'{"status": "broken"}' if outer.failing else b'{"status": "ok"}'
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="switchable-http", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/health"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


@pytest.fixture
def web() -> Iterator[Switchable]:
    server = Switchable()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def system(web: Switchable, write_config: Callable[[str], Path]) -> Iterator[Runtime]:
    """A running Runtime watching ``web``, expecting ``researcher-1``, with two rules."""
    config = load_config(
        write_config(
            f"""
[sampler]
interval_seconds = 0.1
history_hours = 1

[[components]]
name = "web"
description = "the test's HTTP server"
check = {{ type = "http", url = "{web.url}" }}
interval_seconds = 0.2
timeout_seconds = 5
down_after = 1

[agents]
expected = ["researcher-1"]

[[suites]]
name = "unit"
paths = ["tests"]

[alerting]
interval_seconds = 0.2

[[alerts]]
name = "cpu-any"
rule = "cpu.total >= 0 for 0s"
severity = "warning"
description = "Always true on a live sampler."

[[alerts]]
name = "web-down"
rule = "component web down for 0s"
severity = "critical"
description = "The web server does not answer: check its process."
"""
        )
    )
    with runtime_module.running(config) as rt:
        yield rt


@pytest.fixture
def app(system: Runtime) -> AppTest:
    return AppTest.from_file(ROUTER, default_timeout=TIMEOUT)


def metric(at: Any, label: str) -> Any:
    return next(m for m in at.metric if m.label == label)


def texts(block: Any) -> str:
    return "\n".join([m.value for m in block.markdown] + [c.value for c in block.caption])


def rule_state(rt: Runtime, name: str) -> AlertState:
    return next(r.state for r in rt.alerts.statuses() if r.name == name)


def test_overview_shows_cards_components_alerts_and_events_and_follows_a_failure(
    app: AppTest, system: Runtime, web: Switchable
) -> None:
    rt = system
    wait_until(lambda: (s := rt.health.status("web")) and s.state is ComponentState.HEALTHY, WAIT, "web healthy")
    wait_until(lambda: rule_state(rt, "cpu-any") is AlertState.FIRING, WAIT, "the cpu rule to fire")

    app.run()
    assert not app.exception
    assert app.title[0].value == "Overview"
    assert metric(app, "Safety").value == "warning"
    assert metric(app, "Components").value == "1 of 1"
    assert metric(app, "Agents").value == "0 of 1"
    assert (metric(app, "Tests").value, metric(app, "Tests").delta) == ("0 of 1", "1 never run")
    assert not {"CPU", "Memory", "Disk"} & {m.label for m in app.metric}  # the live cards draw those
    watch = next(json.loads(e.proto.json) for e in app.get("bidi_component") if '"watch"' in e.proto.json)
    assert watch["feed"] == "api/ui/version?view=overview" and watch["version"]

    card = app.get_by_key("component_web")
    assert ":green[:material/check_circle:] **web** :green-badge[healthy]" in texts(card)
    assert "ms" in texts(card) and "since " in texts(card)
    assert any("**cpu-any** · warning · firing since" in w.value for w in app.warning)
    assert not app.error
    assert ":gray[:material/help:] missing: researcher-1" in [m.value for m in app.markdown]
    assert "**unit**: never run" in [m.value for m in app.markdown]
    # to the Tests, Workflows and Agents pages; web's history; cpu-any's rule and chart
    pages = sorted(link.proto.page for link in app.get("page_link"))
    assert pages == ["agents", "events", "metrics", "safety", "tests", "workflows"]

    table = app.table[0].value
    assert list(table.columns) == ["When", "Severity", "About", "What happened"]
    assert any(m.startswith("web is healthy") for m in table["What happened"])

    web.failing = True
    wait_until(lambda: rt.health.status("web").state is ComponentState.DOWN, WAIT, "web down")
    wait_until(lambda: rt.alerts.report().status == "critical", WAIT, "the web-down rule to fire")

    app.run()
    assert not app.exception
    card = app.get_by_key("component_web")
    assert ":red[:material/error:] **web** :red-badge[down]" in texts(card)
    assert "1 failed check in a row: " in texts(card) or "failed checks in a row: " in texts(card)
    assert metric(app, "Safety").value == "critical"
    assert metric(app, "Components").value == "0 of 1"
    assert any("**web-down** · critical · firing since" in e.value for e in app.error)
    assert any(m.startswith("web is down") for m in app.table[0].value["What happened"])

    app.switch_page("../pages/safety.py").run()
    assert not app.exception
    assert app.title[0].value == "Safety"
    assert metric(app, "Overall").value == "critical"
    assert metric(app, "Firing").value == "2"
    firing = app.get_by_key("firing_web-down").error[0].value
    assert "**web-down** · critical · firing since" in firing
    assert "The web server does not answer" in firing  # the rule's description


def test_safety_page_lists_rules_with_states_and_the_history(app: AppTest, system: Runtime, web: Switchable) -> None:
    rt = system
    wait_until(lambda: rule_state(rt, "cpu-any") is AlertState.FIRING, WAIT, "the cpu rule to fire")
    wait_until(lambda: rule_state(rt, "web-down") is AlertState.OK, WAIT, "web-down judged ok")

    app.switch_page("../pages/safety.py").run()
    assert not app.exception
    assert metric(app, "Overall").value == "warning"
    assert metric(app, "Firing").value == "1" and metric(app, "Ok").value == "1"
    cpu = app.get_by_key("firing_cpu-any").warning[0].value
    assert "Value so far: min " in cpu and "mean " in cpu

    rules = app.table[0].value
    assert list(rules["Rule"]) == ["cpu-any", "web-down"]  # firing first
    assert list(rules["State"]) == ["firing", "ok"]
    assert list(rules["Condition"]) == ["cpu.total >= 0 for 0s", "component web down for 0s"]
    assert rules.loc[0, "Value"] != "—" and rules.loc[1, "Value"] == "—"  # a component rule has no number
    assert "Webhook error" not in rules.columns  # no webhook fails

    history = app.dataframe[0].value
    assert list(history["rule"]) == ["cpu-any"]
    assert history.loc[0, "state"] == "firing" and history.loc[0, "duration"].endswith("so far")

    web.failing = True
    wait_until(lambda: rule_state(rt, "web-down") is AlertState.FIRING, WAIT, "the web-down rule to fire")
    web.failing = False
    wait_until(lambda: rule_state(rt, "web-down") is AlertState.RESOLVED, WAIT, "the web-down rule to resolve")
    app.run()
    assert not app.exception
    history = app.dataframe[0].value
    assert list(history["rule"])[:2] == ["web-down", "cpu-any"]  # newest first
    assert history.loc[0, "state"] == "resolved" and not history.loc[0, "duration"].endswith("so far")
    app.selectbox(key="safety_rule").select("cpu-any").run()
    assert list(app.dataframe[0].value["rule"]) == ["cpu-any"]


def test_without_components_or_rules_the_pages_say_how_to_add_them(live_runtime: Runtime) -> None:
    app = AppTest.from_file(ROUTER, default_timeout=TIMEOUT).run()
    assert not app.exception
    assert "[[components]]" in app.info[0].value
    assert metric(app, "Safety").value == "safe"
    assert metric(app, "Components").value == "—"
    assert [s.value for s in app.subheader][-2:] == ["Host", "This dashboard"]

    app.switch_page("../pages/safety.py").run()
    assert not app.exception
    note = app.info[0].value
    assert "[[alerts]]" in note and 'rule = "cpu.total > 90 for 5m"' in note
    assert "component NAME down for 1m" in note and "suite NAME failed" in note


def test_a_webhook_that_fails_is_shown_on_the_safety_page(write_config: Callable[[str], Path]) -> None:
    closed = Switchable()  # a port that refuses connections once closed
    url = closed.url
    closed.close()
    config = load_config(
        write_config(
            f"""
[sampler]
interval_seconds = 0.1

[alerting]
interval_seconds = 0.2
webhook_timeout_seconds = 1
webhook_attempts = 1

[[alerts]]
name = "cpu-any"
rule = "cpu.total >= 0"
webhook = "{url}"
"""
        )
    )
    with runtime_module.running(config) as rt:
        wait_until(lambda: rt.alerts.statuses()[0].webhook_error, WAIT, "the webhook to fail")
        app = AppTest.from_file(ROUTER, default_timeout=TIMEOUT)
        app.switch_page("../pages/safety.py").run()
        assert not app.exception
        assert any("**cpu-any**: notifications fail on 1 channel:\n- `POST of " in w.value for w in app.warning)
        assert app.table[0].value.loc[0, "Webhook error"]


# -- the pure helpers ------------------------------------------------------------------
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_clock_shows_the_time_today_and_the_date_before() -> None:
    assert clock(NOW - timedelta(minutes=1), "Europe/Berlin", NOW) == "13:59:00"
    assert clock(NOW - timedelta(days=2), "UTC", NOW) == "2024-04-29 12:00"
    assert clock(None, "UTC", NOW) == "—"


def test_component_facts_uptime_and_failing_note() -> None:
    status = ComponentStatus(
        name="web",
        description="",
        check="GET",
        state=ComponentState.DOWN,
        latency_ms=4.25,
        consecutive_failures=3,
        last_error="connection refused",
        performance_percent=75.0,
        uptime_24h_percent=99.5,
    )
    assert component_facts(status) == ["latency 4.2 ms", "75 % ok, last hour"]
    assert uptime_line(status) == "uptime 24 h 99.50 %"
    assert uptime_line(status.model_copy(update={"uptime_7d_percent": 100.0})) == "uptime 24 h 99.50 % · 7 d 100 %"
    assert failing_note(status) == "3 failed checks in a row: connection refused"
    assert failing_note(status.model_copy(update={"consecutive_failures": 0})) is None
    assert component_facts(status.model_copy(update={"latency_ms": 12.4, "performance_percent": None})) == [
        "latency 12 ms"
    ]
    assert uptime_line(status.model_copy(update={"uptime_24h_percent": None})) is None


def test_the_overview_version_follows_what_the_page_shows(live_runtime: Runtime) -> None:
    """The Overview redraws when its version changes: on a change of what it shows and once
    a minute, not on every new host sample (its live cards draw those themselves)."""
    ov = queries.overview(live_runtime, Caller(OPEN, "test"))
    version = overview_version(ov, NOW)
    assert overview_version(ov, NOW + timedelta(seconds=59)) == version
    assert overview_version(ov.model_copy(update={"latest": None}), NOW) == version  # a new sample
    assert overview_version(ov, NOW + timedelta(minutes=1)) != version  # "2 min ago" moves on
    assert overview_version(ov.model_copy(update={"safety": "critical"}), NOW) != version
    assert overview_version(ov.model_copy(update={"events": []}), NOW) != version or not ov.events
    if ov.components:  # a check that changes nothing but its latency: redrawn within the minute, not now
        checked = ov.components[0].model_copy(update={"latency_ms": 99.0, "last_checked": NOW})
        assert overview_version(ov.model_copy(update={"components": [checked, *ov.components[1:]]}), NOW) == version


def test_a_running_steps_sampled_resources_do_not_redraw_the_overview(live_runtime: Runtime) -> None:
    """A running service's CPU and memory are sampled every few seconds and the Overview
    does not show them: the page reran every other second while the demo's service ran."""
    ov = queries.overview(live_runtime, Caller(OPEN, "test"))

    def running(step: StepInfo) -> Overview:
        run = WorkflowRunInfo(
            id=1, workflow="svc", trigger=Trigger.SYSTEM, status=WorkflowStatus.RUNNING, started_at=NOW, steps=[step]
        )
        return ov.model_copy(update={"workflows": [run]})

    step = StepInfo(name="serve", status=StepStatus.RUNNING, started_at=NOW, cpu_percent=3.0, rss=14_647_296)
    version = overview_version(running(step), NOW)
    assert overview_version(running(step.model_copy(update={"cpu_percent": 0.0, "rss": 10_051_584})), NOW) == version
    backing_off = step.model_copy(update={"status": StepStatus.BACKING_OFF, "cpu_percent": None, "rss": None})
    assert overview_version(running(backing_off), NOW) != version


def test_tests_card_counts_suites_whose_last_full_run_passed() -> None:
    def suite(name: str, status: RunStatus | None) -> SuiteInfo:
        run = None if status is None else RunInfo(id=1, suite=name, trigger=Trigger.UI, status=status, queued_at=NOW)
        return SuiteInfo(
            name=name, description="", kind="pytest", command=[], cwd=".", timeout_seconds=None, workers=1,
            last_full_run=run,
        )  # fmt: skip

    card = suites_card([suite("a", RunStatus.PASSED), suite("b", RunStatus.FAILED), suite("c", None)])
    assert (card.value, card.note, card.colour) == ("1 of 3", "1 failing, 1 never run", "red")
    assert (suites_card([suite("a", RunStatus.PASSED)]).note, suites_card([suite("a", RunStatus.PASSED)]).colour) == (
        "all passed",
        "green",
    )
    assert suites_card([suite("a", RunStatus.PASSED), suite("c", None)]).colour == "gray"


def test_tables_for_events_rules_and_history() -> None:
    event = Event(
        id=1, at=NOW, kind=EventKind.COMPONENT, severity=Severity.CRITICAL, source="web", message="web is down"
    )
    assert events_table([event], "UTC", NOW).to_dict("records") == [
        {"when": "12:00:00", "severity": "critical", "source": "web", "message": "web is down"}
    ]
    rules = [
        RuleStatus(name="ok", rule="r1", severity=Severity.CRITICAL, description="", state=AlertState.OK),
        RuleStatus(
            name="hot", rule="r2", severity=Severity.WARNING, description="", state=AlertState.FIRING, since=NOW
        ),
    ]
    frame = rules_table(rules, "Europe/Berlin", NOW)
    assert list(frame["name"]) == ["hot", "ok"]
    assert list(frame["since"]) == ["14:00:00", "—"]
    assert list(frame["value"]) == ["—", "—"]
    ended = AlertRecord(
        id=1,
        rule="hot",
        severity=Severity.WARNING,
        state=AlertState.RESOLVED,
        began_at=NOW - timedelta(minutes=5),
        fired_at=NOW - timedelta(minutes=4),
        ended_at=NOW - timedelta(minutes=1),
        min=1.0,
        max=3.0,
        mean=2.0,
    )
    going = ended.model_copy(update={"state": AlertState.FIRING, "ended_at": None})
    assert alert_duration(ended, NOW) == "4 min 0 s"
    assert alert_duration(going, NOW) == "5 min 0 s so far"
    history = history_table([going, ended], "UTC", NOW)
    assert list(history["state"]) == ["firing", "resolved"]
    assert history["ended"].isna().tolist() == [True, False]
    assert history.loc[1, "mean"] == 2.0


def test_check_all_now_checks_every_component_and_says_so(app: AppTest, system: Runtime, web: Switchable) -> None:
    """The worked example of CONTRIBUTING.md: one action, its button, its audit line."""
    rt = system
    wait_until(lambda: (s := rt.health.status("web")) and s.state is ComponentState.HEALTHY, WAIT, "web healthy")
    app.run()
    before = web.requests
    app.button(key="check_all").click().run()
    assert not app.exception
    assert [s.value for s in app.success] == ["Checked 1 components now: 1 healthy."]
    assert web.requests > before  # it really asked the component
    audit = [e for e in rt.events.latest(20) if e.kind.value == "audit"]
    assert audit and audit[0].data["action"] == "checked every component" and audit[0].data["who"] == "local"


def test_an_alert_acknowledged_and_silenced_on_the_safety_page_says_so_there_and_on_the_overview(
    app: AppTest, system: Runtime, web: Switchable
) -> None:
    rt = system
    wait_until(lambda: rule_state(rt, "cpu-any") is AlertState.FIRING, WAIT, "the cpu rule to fire")
    app.run()
    assert not app.exception
    assert any("**cpu-any** · warning · firing since" in w.value and "not acknowledged" in w.value for w in app.warning)

    app.switch_page("../pages/safety.py").run()
    assert not app.exception
    [alert] = [a for a in rt.alerts.firing() if a.rule == "cpu-any"]
    app.text_input(key=f"ack_note_{alert.id}").input("looking at the load")
    app.button(key=f"ack_{alert.id}").click().run()
    assert not app.exception
    assert "Acknowledged by local at " in texts(app.get_by_key("firing_cpu-any"))
    assert ": looking at the load" in texts(app.get_by_key("firing_cpu-any"))

    app.selectbox(key="silence_rule").select("cpu-any")
    app.text_input(key="silence_comment").input("known load")
    next(b for b in app.button if b.label == "Silence").click().run()
    assert not app.exception
    assert any(s.value.startswith("Silence 1 holds until") for s in app.success)
    wait_until(lambda: rt.alerts.firing()[0].muted is not None, WAIT, "the engine to mark the alert silenced")
    app.run()
    assert "Silenced by silence 1 until " in texts(app.get_by_key("firing_cpu-any"))
    assert '**active** · `alertname="cpu-any"`' in texts(app.get_by_key("silence_1"))
    rules = app.table[0].value  # on the rule too: the Rules table's Silenced column (and the API's rule status)
    silenced = rules[rules["Rule"] == "cpu-any"]["Silenced"].iloc[0]
    assert silenced.startswith("silenced until ") and silenced.endswith(": known load")
    [status] = [r for r in rt.alerts.report().rules if r.name == "cpu-any"]
    assert status.muted is not None and (status.muted.kind, status.muted.id) == ("silence", "1")

    app.switch_page("../pages/overview.py").run()
    assert not app.exception
    assert any(
        "**cpu-any** · warning · firing since" in w.value and "acknowledged by local · silenced" in w.value
        for w in app.warning
    )
