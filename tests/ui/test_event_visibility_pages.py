"""Audit events on the pages are for admins only: the Overview's latest events,
the Events page and the toasts of new critical events, through AppTest against
a real Runtime, for people signed in as a viewer, an operator or an admin
(tests/ui/signed_in.py); the audit events are written by the real audit function."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard_core.auth.audit import audit
from dashboard_core.auth.principals import Principal
from dashboard_core.models import EventKind, Severity
from dashboard_core.runtime import Runtime
from tests.ui.signed_in import page_as, signed_in_runtime


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    with signed_in_runtime(tmp_path) as rt:
        yield rt


def logins(rt: Runtime) -> None:
    """Audit events (a login and a failed one, with names and addresses) between others."""
    rt.events.publish(EventKind.COMPONENT, "web", "web is down", severity=Severity.WARNING)
    audit(rt.events, Principal("ada", "admin", "user"), "login", "", "10.1.2.3")
    audit(rt.events, Principal("mallory", "unknown", "user"), "failed login", "", "10.6.6.6")
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
    assert app.title[0].value == "Events"
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
