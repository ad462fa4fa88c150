"""Maintenance windows on the pages, through AppTest against a real Runtime: the
component's card says maintenance, the Safety page lists the windows (in force first),
the Agents page marks an agent a window covers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard_core import runtime as runtime_module
from dashboard_core.config import load_config
from dashboard_core.models import ComponentState, HeartbeatRequest
from dashboard_core.runtime import Runtime
from tests.localhost import free_port
from tests.polling import wait_until

ROUTER = str(Path(__file__).parents[2] / "ui" / "router.py")
TIMEOUT = 60  # AppTest's run timeout on a loaded 2-core machine


def far_from_now() -> str:
    """A daily cron twelve hours from now: the config's nightly window is never in force
    while the test runs (at 03:00 UTC a fixed "0 3 * * *" was)."""
    return f"0 {(datetime.now(UTC).hour + 12) % 24} * * *"


NIGHTLY = far_from_now()  # once: the config and the assertions name the same hour


@pytest.fixture
def system(write_config: Callable[[str], Path]) -> Iterator[Runtime]:
    config = load_config(
        write_config(
            f"""
[[components]]
name = "db"
check = {{ type = "tcp", port = {free_port()} }}
interval_seconds = 0.2
down_after = 1

[[alerts]]
name = "db-down"
rule = "component db down"

[[maintenance]]
name = "nightly"
description = "backups"
components = ["db"]
cron = "{NIGHTLY}"
duration = "30m"

[[maintenance]]
name = "db-upgrade"
description = "the database is upgraded"
components = ["db"]
agents = ["*"]
start = 2020-01-01T00:00:00Z
end = 2100-01-01T00:00:00Z
"""
        )
    )
    with runtime_module.running(config) as rt:
        yield rt


def texts(block: object) -> str:
    return "\n".join([m.value for m in block.markdown] + [c.value for c in block.caption])  # type: ignore[attr-defined]


def test_the_pages_show_the_windows_and_what_they_cover(system: Runtime) -> None:
    wait_until(lambda: (s := system.health.status("db")) and s.state is ComponentState.DOWN, 60, "db down")
    app = AppTest.from_file(ROUTER, default_timeout=TIMEOUT).run()
    assert not app.exception
    card = texts(app.get_by_key("component_db"))
    assert "maintenance: db-upgrade · checks go on, alerts muted" in card and "[down]" in card

    app.switch_page("../pages/safety.py").run()
    assert not app.exception
    assert any("In force now: **db-upgrade**" in i.value for i in app.info)
    windows = app.dataframe[0].value  # before the alert history
    assert list(windows["name"]) == ["db-upgrade", "nightly"]  # in force first
    assert list(windows["state"]) == ["in force", "scheduled"]
    assert windows.loc[1, "schedule"] == f"cron {NIGHTLY} for 30m (UTC)" and windows.loc[1, "next"]
    assert windows.loc[0, "covers"] == "components: db; agents: *"

    system.agents.heartbeat("researcher-1", HeartbeatRequest(status="busy"))
    app.switch_page("../pages/agents.py").run()
    assert not app.exception
    assert app.dataframe[0].value.loc[0, "state"] == "online (maintenance: db-upgrade)"


def test_an_operator_plans_a_window_on_the_safety_page_and_removes_it(system: Runtime) -> None:
    app = AppTest.from_file(ROUTER, default_timeout=TIMEOUT).run()
    app.switch_page("../pages/safety.py").run()
    assert not app.exception

    def plan(name: str, duration: str) -> None:
        app.text_input(key="mw_name").set_value(name)
        app.multiselect(key="mw_components").set_value(["db"])
        app.multiselect(key="mw_rules").set_value(["db-down"])
        app.text_input(key="mw_for").set_value(duration)
        app.text_input(key="mw_description").set_value("hot fix of the driver")
        next(b for b in app.button if b.label == "Plan").click().run()
        assert not app.exception

    plan("hotfix", "soon")  # not a duration: said, nothing planned
    assert any("The window was not planned: For:" in e.value for e in app.error)
    assert system.health.maintenance.planned("hotfix") is None

    plan("hotfix", "2h")
    assert any("Maintenance window hotfix planned" in s.value for s in app.success)
    planned = system.health.maintenance.planned("hotfix")
    assert planned is not None and planned.window.components == ["db"] and planned.window.rules == ["db-down"]
    view = next(v for v in system.health.maintenance.views(datetime.now(UTC)) if v.name == "hotfix")
    assert view.active and view.current is not None  # starts now (the form's default), on the viewer's clock
    assert 7190 <= (view.current.end - view.current.start).total_seconds() <= 7200
    assert "hotfix" in list(app.dataframe[0].value["name"])

    app.selectbox(key="mw_remove_pick").set_value("hotfix").run()
    assert app.button(key="mw_remove").label == "End now"  # in force: it ends, it is not deleted
    app.button(key="mw_remove").click().run()
    assert not app.exception
    assert any("Maintenance window hotfix ended now" in s.value for s in app.success)
    ended = system.health.maintenance.planned("hotfix")
    assert ended is not None and ended.window.end is not None and ended.window.end <= datetime.now(UTC)
    windows = app.dataframe[0].value
    assert windows.set_index("name").loc["hotfix", "state"] != "in force"  # listed still: it happened
    assert not [s for s in app.selectbox if s.key == "mw_remove_pick"]  # nothing left to take back
