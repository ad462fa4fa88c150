"""The audit log: who did what, when and from where, as events of kind ``audit``.

Actions (runs, cancels, workflow starts and stops, agents removed) are recorded by the
application layer (:mod:`dashboard_core.app.actions`) for the API and the pages alike;
logins, failed logins and logouts by the login routes. The Events page shows them to
admins only. The log is given, not found: nothing here reaches for the running dashboard.
"""

from __future__ import annotations

import logging

from dashboard_core.auth.principals import Principal
from dashboard_core.events import EventLog
from dashboard_core.models import EventKind, Severity

log = logging.getLogger("dashboard.audit")

_WARN = ("failed login", "login blocked", "login refused", "refused")


def audit(events: EventLog | None, who: Principal, action: str, target: str = "", client: str | None = None) -> None:
    """Record an action in the server log and (when the dashboard runs) the event log; never
    fails the action itself if the log cannot be written."""
    where = client or "?"
    message = f"{who.label} {action}" + (f" {target}" if target else "") + f" from {where}"
    log.info(message)
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
