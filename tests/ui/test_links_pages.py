"""Pages and their URLs through AppTest, against a real Runtime: a URL opens the view it
names, a bad value is said on the page (never a crash) and left for the default, a
change the viewer makes is written back to the URL, and the links an alert, an event
and a component card carry lead where they should."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest

from dashboard_core import runtime as runtime_module
from dashboard_core.config import load_config
from dashboard_core.models import EventKind, HeartbeatRequest, Severity, Trigger, WorkflowStatus
from dashboard_core.runtime import Runtime
from tests.polling import wait_until
from tests.ui.signed_in import page_as, signed_in_runtime

ROUTER = str(Path(__file__).parents[2] / "ui" / "router.py")
TIMEOUT = 60  # AppTest's run timeout on a loaded 2-core machine
RUN_TIMEOUT = 90
q = json.dumps  # TOML basic strings are JSON strings


def config(tmp_path: Path) -> str:
    step = [sys.executable, "-c", "print('done')"]
    return f"""
[sampler]
interval_seconds = 0.2
history_hours = 1

[storage]
data_dir = {q((tmp_path / "data").as_posix())}

[[components]]
name = "web"
check = {{ type = "tcp", host = "127.0.0.1", port = 9 }}
interval_seconds = 1
down_after = 1

[[alerts]]
name = "cpu-any"
rule = "cpu.total >= 0"
description = "always holds"

[[alerts]]
name = "web-down"
rule = "component web down"

[[workflows]]
name = "twostep"
[[workflows.steps]]
name = "first"
argv = {q(step)}
[[workflows.steps]]
name = "second"
argv = {q(step)}
depends_on = ["first"]
"""


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    path = tmp_path / "dashboard.toml"
    path.write_text(config(tmp_path), encoding="utf-8")
    with runtime_module.running(load_config(path)) as runtime:
        wait_until(lambda: runtime.latest() is not None, 30, "the first sample")
        yield runtime


def opened(page: str, **params: str | list[str]) -> AppTest:
    """The page opened at a URL with ``params``, run once."""
    app = AppTest.from_file(ROUTER, default_timeout=TIMEOUT)
    app.query_params.update(params)
    app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


def warnings(app: AppTest) -> list[str]:
    return [w.value for w in app.warning]


def links(app: AppTest) -> list[str]:
    """The page links drawn, as relative URLs (``metrics?from=...``)."""
    found = []
    for link in app.get("page_link"):
        proto = link.proto
        found.append(proto.page + (f"?{proto.query_string}" if proto.query_string else ""))
    return found


# -- Events --------------------------------------------------------------------------
def test_an_events_url_opens_its_filters_and_a_change_is_written_back(rt: Runtime) -> None:
    rt.events.publish(EventKind.COMPONENT, "api", "api is down", severity=Severity.WARNING, data={"to": "down"})
    rt.events.publish(EventKind.COMPONENT, "db", "db is down", severity=Severity.WARNING, data={"to": "down"})
    app = opened("../pages/events.py", kind="component", severity=["warning", "critical"], source="api", window="7d")
    assert app.multiselect(key="events_kinds").value == ["component"]
    assert app.button_group(key="events_severities").value == [Severity.WARNING, Severity.CRITICAL]
    assert app.text_input(key="events_source").value == "api"
    assert app.session_state["events_window"] == "7d"
    table = app.dataframe[0].value
    assert list(table["source"]) == ["api"]  # the filter holds, not just the widget
    assert list(table["link"]) == ["events?kind=component&source=api&window=7d"]  # its history
    assert warnings(app) == []

    app.text_input(key="events_source").input("db").run()
    assert not app.exception
    assert app.query_params == {
        "kind": "component",
        "severity": ["warning", "critical"],
        "source": "db",
        "window": "7d",
    }
    assert list(app.dataframe[0].value["source"]) == ["db"]


def test_a_bad_events_url_is_said_and_the_page_shows_its_defaults(rt: Runtime) -> None:
    rt.events.publish(EventKind.SYSTEM, "store", "the store can be written again")
    app = opened("../pages/events.py", kind="nope", window="3w", **{"from": "soon"})
    said = warnings(app)
    assert len(said) == 3, said
    assert any("`kind=nope` is not a kind of event" in w for w in said)
    assert any("`window=3w` is not a time range the page offers" in w for w in said)
    assert any("`from=soon` is not a time" in w for w in said)
    assert app.multiselect(key="events_kinds").value == []
    assert app.session_state["events_window"] == "24h"
    assert "the store can be written again" in set(app.dataframe[0].value["message"])
    assert app.query_params == {"kind": "nope", "window": "3w", "from": "soon"}  # nothing written until a change


def test_an_events_url_cannot_open_what_the_viewer_may_not_see(tmp_path: Path) -> None:
    with signed_in_runtime(tmp_path) as runtime:
        runtime.events.publish(EventKind.AUDIT, "ada", "ada (admin) login from 10.1.2.3")
        runtime.events.publish(EventKind.COMPONENT, "web", "web is down")
        app = AppTest.from_file(ROUTER, default_timeout=TIMEOUT)
        app.user = {"is_logged_in": True, "email": "vera@example.org", "email_verified": True}
        app.query_params.update(kind="audit")
        app.switch_page("../pages/events.py").run()
        assert not app.exception
        assert any("`kind=audit` is not a kind of event you can pick here" in w for w in warnings(app))
        assert app.multiselect(key="events_kinds").value == []
        assert "audit" not in set(app.dataframe[0].value["kind"])
        app.text_input(key="events_source").input("ada").run()  # the audit event's subject: nothing shows
        assert app.query_params == {"source": "ada"}
        assert [i.value for i in app.info] == ["No events match."]
        assert page_as("admin", "../pages/events.py").multiselect(key="events_kinds").options[-1] == "audit"


# -- Safety and the Overview -----------------------------------------------------------
def test_a_firing_alert_links_to_its_rule_and_chart_and_a_card_to_its_history(rt: Runtime) -> None:
    wait_until(lambda: any(a.rule == "cpu-any" for a in rt.alerts.firing()), 60, "cpu-any to fire")
    wait_until(lambda: any(a.rule == "web-down" for a in rt.alerts.firing()), 60, "web-down to fire")
    overview = opened("../pages/overview.py")
    found = links(overview)
    assert "safety?rule=cpu-any" in found and "safety?rule=web-down" in found
    charts = [parse_qs(u.partition("?")[2]) for u in found if u.startswith("metrics?")]
    assert len(charts) == 1 and charts[0]["chart"] == ["cpu"] and {"from", "to"} <= set(charts[0])
    assert found.count("events?kind=component&source=web&window=7d") == 2  # the alert's and the card's

    safety = opened("../pages/safety.py", rule="web-down")
    assert safety.selectbox(key="safety_rule").value == "web-down"
    assert "metrics?window=1h&chart=cpu" not in links(safety)  # the picked rule watches web, not the CPU
    assert links(safety).count("events?kind=alert&source=web-down&window=7d") == 1
    safety.selectbox(key="safety_rule").select("cpu-any").run()
    assert safety.query_params == {"rule": "cpu-any"}
    assert "metrics?window=1h&chart=cpu" in links(safety)
    history = safety.dataframe[0].value
    assert all(u.startswith("metrics?from=") and u.endswith("&chart=cpu") for u in history["link"])

    bad = opened("../pages/safety.py", rule="nope")
    assert bad.selectbox(key="safety_rule").value == "All rules"
    assert any("`rule=nope` is not a rule here (one of cpu-any, web-down)" in w for w in warnings(bad))


# -- Workflows and Agents ----------------------------------------------------------------
def test_a_workflows_url_opens_its_run_and_step_and_follows_a_pick(rt: Runtime) -> None:
    first = rt.workflows.start_run("twostep", {}, Trigger.API)
    rt.workflows.wait(first.id, RUN_TIMEOUT)
    second = rt.workflows.start_run("twostep", {}, Trigger.API)
    assert rt.workflows.wait(second.id, RUN_TIMEOUT).status is WorkflowStatus.SUCCEEDED
    app = opened("../pages/workflows.py", run=str(first.id), step="first")
    assert app.selectbox(key="workflows_run").value == first.id  # not the newest
    assert app.button_group(key=f"log_step_{first.id}").value == "first"
    assert warnings(app) == []
    app.selectbox(key="workflows_run").select(second.id).run()
    assert app.query_params == {"workflow": "twostep", "run": str(second.id)}

    bad = opened("../pages/workflows.py", run="9999", step="first")
    said = warnings(bad)
    assert any("`run=9999` is not a run of any workflow: showing the newest run." in w for w in said), said
    assert bad.selectbox(key="workflows_run").value == second.id


def test_an_agents_url_picks_its_agent(rt: Runtime) -> None:
    rt.agents.heartbeat("builder-1", HeartbeatRequest(status="idle"))
    rt.agents.heartbeat("builder-2", HeartbeatRequest(status="idle"))
    app = opened("../pages/agents.py", agent="builder-2")
    assert app.selectbox(key="agents_agent").value == "builder-2"
    assert list(app.dataframe[0].value["name"]) == ["builder-2"]
    assert "events?kind=agent&source=builder-2&window=7d" in links(app)
    app.selectbox(key="agents_agent").select("All agents").run()
    assert app.query_params == {}
    assert set(app.dataframe[0].value["name"]) == {"builder-1", "builder-2"}
