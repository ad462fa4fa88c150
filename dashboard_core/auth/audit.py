"""The audit log: who did what, when and from where, as events of kind ``audit``.

Actions (runs, cancels, workflow starts and stops, logins and failed logins)
are recorded where they enter the dashboard: the API, the pages, the login
page. The Events page shows them to admins only.

The lines go to the event log the composition root names with :func:`record_to`
(``runtime.install`` names the running Runtime's), so this module never reaches
up for the Runtime.
"""

from __future__ import annotations

import logging

from dashboard_core.auth.principals import Principal
from dashboard_core.events import EventLog
from dashboard_core.models import EventKind, Severity

log = logging.getLogger("dashboard.audit")

_WARN = ("failed login", "login blocked", "login refused", "refused")

_events: EventLog | None = None


def record_to(events: EventLog | None) -> None:
    """Keep audit lines in ``events`` from now on (None: in the server log only)."""
    global _events
    _events = events


def audit(who: Principal, action: str, target: str = "", client: str | None = None) -> None:
    """Record an action; never fails the action itself if the log cannot be written."""
    where = client or "?"
    message = f"{who.label} {action}" + (f" {target}" if target else "") + f" from {where}"
    log.info(message)
    events = _events
    if events is None:
        return
    severity = Severity.WARNING if action.startswith(_WARN) else Severity.INFO
    try:
        events.publish(
            EventKind.AUDIT,
            who.name,
            message,
            severity=severity,
            data={"who": who.name, "role": who.role, "action": action, "target": target, "from": where},
        )
    except Exception:
        log.exception("Cannot write the audit event: %s", message)
