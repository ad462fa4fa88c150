"""Removing an agent on the Agents page: admins only, through the registry's own
removal, audited like the API's, through AppTest against a real Runtime for
people signed in as an operator or an admin (tests/ui/signed_in.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard_core.models import EventKind, HeartbeatRequest
from dashboard_core.runtime import Runtime
from tests.ui.signed_in import page_as, signed_in_runtime

AGENTS = '\n[agents]\nexpected = ["researcher-1"]\n'


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    with signed_in_runtime(tmp_path, AGENTS) as rt:
        rt.agents.heartbeat("helper-x", HeartbeatRequest(task="junk"))
        rt.agents.heartbeat("helper-y", HeartbeatRequest())
        yield rt


def test_an_admin_removes_an_agent_on_the_page(runtime: Runtime) -> None:
    app = page_as("admin", "../pages/agents.py")
    assert app.expander[0].label == "Remove an agent"
    choice = app.selectbox(key="agents_remove_name")
    assert choice.options == ["helper-x", "helper-y"]  # not researcher-1: the config expects it
    choice.select("helper-x").run()
    app.button(key="agents_remove").click().run()
    assert not app.exception
    assert app.success[0].value.startswith("Removed **helper-x**")
    assert app.selectbox(key="agents_remove_name").options == ["helper-y"]
    assert list(app.dataframe[0].value["name"]) == ["researcher-1", "helper-y"]
    assert runtime.agents.agent("helper-x") is None
    assert {r["name"] for r in runtime.store.all("SELECT name FROM agents")} == {"helper-y"}
    audit = runtime.events.latest(1, kinds=[EventKind.AUDIT])[0]
    assert audit.data["who"] == "ada@example.org" and audit.data["role"] == "admin"
    assert audit.data["action"] == "removed agent" and audit.data["target"] == "helper-x"


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_only_admins_see_the_remove_button(runtime: Runtime, role: str) -> None:
    app = page_as(role, "../pages/agents.py")
    assert list(app.dataframe[0].value["name"]) == ["researcher-1", "helper-x", "helper-y"]
    assert not app.expander and not [b for b in app.button if b.key == "agents_remove"]
