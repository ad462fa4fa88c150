"""The Agents and Events pages and the critical-event toast, through AppTest
against a real Runtime (heartbeats and events go through the real registry and log)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard_core.models import EventKind, HeartbeatRequest, Severity
from dashboard_core.runtime import Runtime

ROUTER = str(Path(__file__).parents[2] / "ui" / "router.py")


@pytest.fixture
def app(live_runtime: Runtime) -> Iterator[AppTest]:
    yield AppTest.from_file(ROUTER, default_timeout=60)


def test_agents_page_lists_agents_with_their_task_and_a_timeline(app: AppTest, live_runtime: Runtime) -> None:
    live_runtime.agents.heartbeat(
        "researcher-1", HeartbeatRequest(status="busy", role="reviewer", task="reading", metrics={"papers_read": 12})
    )
    app.switch_page("../pages/agents.py").run()
    assert not app.exception
    assert app.title[0].value == "Agents"
    online = next(m for m in app.metric if "Online" in m.label)
    assert online.value == "1"
    table = app.dataframe[0].value
    assert list(table["name"]) == ["researcher-1"]
    assert table.loc[0, "task"] == "reading" and table.loc[0, "metrics"] == "papers_read=12"
    assert app.get("plotly_chart"), "the online/offline timeline is drawn"


def test_agents_page_without_agents_says_how_to_add_one(app: AppTest) -> None:
    app.switch_page("../pages/agents.py").run()
    assert not app.exception
    assert "No agent has sent a heartbeat yet" in app.info[0].value


def test_events_page_filters_by_kind_severity_and_text(app: AppTest, live_runtime: Runtime) -> None:
    log = live_runtime.events
    log.publish(EventKind.COMPONENT, "orchestrator", "orchestrator is down", severity=Severity.CRITICAL)
    log.publish(EventKind.AGENT, "researcher-1", "researcher-1 is online")
    app.switch_page("../pages/events.py").run()
    assert not app.exception
    assert list(app.dataframe[0].value["source"]) == ["researcher-1", "orchestrator"]  # newest first
    app.multiselect(key="events_kinds").select(EventKind.COMPONENT).run()
    assert list(app.dataframe[0].value["source"]) == ["orchestrator"]
    app.multiselect(key="events_kinds").unselect(EventKind.COMPONENT).run()
    app.text_input(key="events_text").input("ONLINE").run()
    assert list(app.dataframe[0].value["message"]) == ["researcher-1 is online"]
    app.text_input(key="events_text").input("nothing like this").run()
    assert app.info[0].value == "No events match."


def test_a_new_critical_event_shows_a_toast_in_open_sessions(app: AppTest, live_runtime: Runtime) -> None:
    live_runtime.events.publish(EventKind.COMPONENT, "old", "before the session opened", severity=Severity.CRITICAL)
    app.run()
    assert not app.toast  # history is not replayed as toasts
    live_runtime.events.publish(EventKind.AGENT, "researcher-1", "researcher-1 is online")
    live_runtime.events.publish(EventKind.COMPONENT, "orchestrator", "orchestrator is down", severity=Severity.CRITICAL)
    app.run()
    assert [t.value for t in app.toast] == ["**orchestrator**: orchestrator is down"]
