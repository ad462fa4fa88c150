"""What a caller may see, read once per refresh: each function is one screen's (or one
answer's) read, filtered for who asks. The API and the pages show the same models."""

from __future__ import annotations

from dashboard_core.app.caller import Caller
from dashboard_core.models import Overview
from dashboard_core.runtime import Runtime


def overview(rt: Runtime, caller: Caller, events: int = 10) -> Overview:
    """Everything the Overview page and ``GET /api/dashboard/overview`` show, at once; the
    latest events only those the caller may see."""
    safety = rt.alerts.report()
    return Overview(
        host=rt.host_info(),
        dashboard=rt.self_health(),
        latest=rt.latest(),
        components=rt.health.statuses(),
        agents=rt.agents.overview(),
        safety=safety.status,
        firing=safety.firing,
        suites=rt.tests.suites(),
        workflows=rt.workflows.active(),
        events=rt.events.latest(events, who=caller.principal),
    )
