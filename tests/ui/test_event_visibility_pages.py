"""Audit events on the pages are for admins only: the Overview's latest events,
the Events page and the toasts of new critical events, through AppTest against
a real Runtime. People sign in with an OpenID Connect provider here (AppTest
can seed ``st.user``, not cookies), so the pages find a viewer, an operator
or an admin by the same path as in a browser; the audit events are written by
the real audit function."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard_core import runtime as runtime_module
from dashboard_core.auth.audit import audit
from dashboard_core.auth.principals import Principal
from dashboard_core.config import load_config
from dashboard_core.models import EventKind, Severity
from dashboard_core.runtime import Runtime
from tests.polling import wait_until

ROUTER = str(Path(__file__).parents[2] / "ui" / "router.py")
TIMEOUT = 60  # AppTest's run timeout on a loaded 2-core machine
EMAILS = {"viewer": "vera@example.org", "operator": "otto@example.org", "admin": "ada@example.org"}
OIDC = """
[sampler]
interval_seconds = 0.2
history_hours = 1

[auth.oidc]
server_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"
client_id = "dashboard"
client_secret = "not-used-by-these-tests"
[auth.oidc.roles]
"vera@example.org" = "viewer"
"otto@example.org" = "operator"
"ada@example.org" = "admin"
"""


@pytest.fixture
def runtime(write_config: Callable[[str], Path], tmp_path: Path) -> Iterator[Runtime]:
    config = load_config(write_config(OIDC + f'\n[storage]\ndata_dir = "{(tmp_path / "data").as_posix()}"\n'))
    with runtime_module.running(config) as rt:
        wait_until(lambda: rt.latest() is not None, 30, "the first sample")
        yield rt


def page_as(role: str, page: str | None = None) -> AppTest:
    app = AppTest.from_file(ROUTER, default_timeout=TIMEOUT)
    app.user = {"is_logged_in": True, "email": EMAILS[role], "email_verified": True}
    if page is not None:
        app.switch_page(page)
    app.run()
    assert not app.exception, app.exception
    assert f"👤 {EMAILS[role]} · {role}" in [c.value for c in app.sidebar.caption]  # signed in as that role
    return app


def logins(rt: Runtime) -> None:
    """Audit events (a login and a failed one, with names and addresses) between others."""
    rt.events.publish(EventKind.COMPONENT, "web", "web is down", severity=Severity.WARNING)
    audit(Principal("ada", "admin", "user"), "login", "", "10.1.2.3")
    audit(Principal("mallory", "unknown", "user"), "failed login", "", "10.6.6.6")
    rt.events.publish(EventKind.AGENT, "researcher-1", "researcher-1 is online")


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_the_overview_shows_audit_events_to_admins_only(runtime: Runtime, role: str) -> None:
    logins(runtime)
    app = page_as(role)
    assert app.title[0].value.endswith("Overview")
    latest = app.table[-1].value  # "Latest events", newest first
    shown = list(latest["What happened"])
    if role == "admin":
        assert shown[:4] == [
            "researcher-1 is online",
            "mallory (unknown) failed login from 10.6.6.6",
            "ada (admin) login from 10.1.2.3",
            "web is down",
        ]
    else:
        assert shown[:2] == ["researcher-1 is online", "web is down"], shown
        assert not [m for m in shown if "login" in m or "10." in m], shown


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_the_events_page_shows_audit_events_to_admins_only(runtime: Runtime, role: str) -> None:
    logins(runtime)
    app = page_as(role, "../pages/events.py")
    assert app.title[0].value == "📜 Events"
    kinds = set(app.multiselect(key="events_kinds").options)
    shown = app.dataframe[0].value
    if role == "admin":
        assert "audit" in kinds and "audit" in set(shown["kind"])
    else:
        assert "audit" not in kinds and "component" in kinds, kinds
        assert "audit" not in set(shown["kind"]) and {"agent", "component"} <= set(shown["kind"])
        app.text_input(key="events_text").input("login").run()
        assert app.info[0].value == "No events match."


@pytest.mark.parametrize("role", ["viewer", "admin"])
def test_a_critical_audit_event_is_a_toast_for_admins_only(runtime: Runtime, role: str) -> None:
    app = page_as(role)
    assert not app.toast
    runtime.events.publish(
        EventKind.AUDIT, "mallory", "mallory (unknown) refused from 10.6.6.6", severity=Severity.CRITICAL
    )
    runtime.events.publish(EventKind.COMPONENT, "orchestrator", "orchestrator is down", severity=Severity.CRITICAL)
    app.run()
    assert not app.exception
    toasts = [t.value for t in app.toast]
    if role == "admin":
        assert toasts == [
            "**mallory**: mallory (unknown) refused from 10.6.6.6",
            "**orchestrator**: orchestrator is down",
        ]
    else:
        assert toasts == ["**orchestrator**: orchestrator is down"]
