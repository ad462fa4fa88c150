"""Maintenance windows on the pages, through AppTest against a real Runtime: the
component's card says maintenance, the Safety page lists the windows (in force first),
the Agents page marks an agent a window covers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
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
cron = "0 3 * * *"
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
    assert windows.loc[1, "schedule"] == "cron 0 3 * * * for 30m (UTC)" and windows.loc[1, "next"]
    assert windows.loc[0, "covers"] == "components: db; agents: *"

    system.agents.heartbeat("researcher-1", HeartbeatRequest(status="busy"))
    app.switch_page("../pages/agents.py").run()
    assert not app.exception
    assert app.dataframe[0].value.loc[0, "state"] == "online (maintenance: db-upgrade)"
